import fs from 'node:fs';
import { z } from 'zod';
import { MODELS } from '../contract/models.js';
import { priceFor, type PriceRow } from '../contract/pricing.js';

/**
 * The operator's price table: rows in the contract's shape (docs/contract.md §12), evaluated by
 * contract/pricing.ts. Defaults come from the model registry; RESHOOT_PRICING (inline JSON or a file
 * path) replaces rows.
 */
const ConditionSchema = z.object({ match: z.union([z.string(), z.number(), z.boolean()]).optional(), with: z.boolean().optional() });
const RowSchema = z.object({
  model_name: z.string().min(1),
  base_usd_value: z.number().min(0),
  policies: z.array(z.object({ rule: z.record(z.string(), ConditionSchema), usd_value: z.number().min(0) })).default([]),
});
const TableSchema = z.array(RowSchema);

export interface Pricing {
  rows(): PriceRow[];
  /** USD for one task of `model` (any accepted name) with these input fields */
  price(model: string, input: Readonly<Record<string, unknown>>): number;
}

export function defaultPriceRows(): PriceRow[] {
  return Object.values(MODELS).map((m) => ({ model_name: m.name, base_usd_value: m.priceUsd, policies: [] }));
}

/** A table of `rows` over the registry's defaults: a row replaces the default row of the same name. */
export function pricingFromRows(rows: readonly PriceRow[]): Pricing {
  const table = new Map(defaultPriceRows().map((r) => [r.model_name, r]));
  for (const r of rows) table.set(r.model_name, r);
  const all = [...table.values()];
  return {
    rows: () => [...all],
    price: (model, input) => priceFor(all, model, input) ?? 0,
  };
}

/** Reads RESHOOT_PRICING: JSON text (starts with `[`) or the path of a JSON file. */
export function loadPricing(source?: string): Pricing {
  if (!source) return pricingFromRows([]);
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
  return pricingFromRows(table.data);
}
