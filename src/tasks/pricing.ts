import fs from 'node:fs';
import { z } from 'zod';
import { MODELS } from '../contract/models.js';

/**
 * Prices per model in the contract's row shape (docs/contract.md §12):
 * `{ model_name, base_usd_value, policies: [{ rule: { resolution: { match: "4K" } }, usd_value }] }`.
 * Defaults come from the model registry; RESHOOT_PRICING (inline JSON or a file path) replaces rows.
 */
const RuleSchema = z.record(z.string(), z.object({ match: z.union([z.string(), z.number(), z.boolean()]).optional(), with: z.boolean().optional() }));
const RowSchema = z.object({
  model_name: z.string().min(1),
  base_usd_value: z.number().min(0),
  policies: z.array(z.object({ rule: RuleSchema, usd_value: z.number().min(0) })).default([]),
});
export type PriceRow = z.infer<typeof RowSchema>;
const TableSchema = z.array(RowSchema);

export interface Pricing {
  rows(): PriceRow[];
  /** USD for one task of `model` (any accepted name) with these input fields */
  price(model: string, input: Record<string, unknown>): number;
}

export function defaultPriceRows(): PriceRow[] {
  return Object.values(MODELS).map((m) => ({ model_name: m.name, base_usd_value: m.priceUsd, policies: [] }));
}

/** Reads RESHOOT_PRICING: JSON text (starts with `[`) or the path of a JSON file. */
export function loadPricing(source?: string): Pricing {
  const rows = new Map(defaultPriceRows().map((r) => [r.model_name, r]));
  if (source) {
    const text = source.trim().startsWith('[') ? source : fs.readFileSync(source, 'utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new Error(`RESHOOT_PRICING: not valid JSON (${(err as Error).message})`, { cause: err });
    }
    const table = TableSchema.safeParse(parsed);
    if (!table.success) {
      const i = table.error.issues[0]!;
      throw new Error(`RESHOOT_PRICING: ${i.path.join('.')}: ${i.message}`);
    }
    for (const r of table.data) rows.set(r.model_name, r);
  }
  return {
    rows: () => [...rows.values()],
    price(model, input) {
      const row = rows.get(model) ?? rows.get(MODELS[model]?.canonical ?? '');
      if (!row) return 0;
      // The first policy whose every field rule matches wins, as on the upstream price list.
      for (const p of row.policies) {
        const hit = Object.entries(p.rule).every(([field, cond]) =>
          cond.with !== undefined ? (input[field] !== undefined) === cond.with : input[field] === cond.match,
        );
        if (hit) return p.usd_value;
      }
      return row.base_usd_value;
    },
  };
}
