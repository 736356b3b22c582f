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
  base_display_unit: z.string().optional(),
  factors: z.record(z.string(), z.unknown()).optional(),
  category: z.string().optional(),
  supported_endpoint_types: z.array(z.string()).optional(),
});
const TableSchema = z.array(RowSchema);

/** The price row of persistent storage (USD per GB-month), served beside the models' rows. */
export const STORAGE_PRICE_ROW = 'storage/persistent';

/** A row as `GET /api/pricing` serves it: hiapi's full row shape, each field present. */
export interface ServedPriceRow extends Required<PriceRow> {
  base_display_unit: string;
  factors: Record<string, unknown>;
  category: string;
  supported_endpoint_types: string[];
}

export interface Pricing {
  /** the table in hiapi's row shape, defaults filled in */
  rows(): ServedPriceRow[];
  /** USD for one task of `model` (any accepted name) with these input fields */
  price(model: string, input: Readonly<Record<string, unknown>>): number;
}

export function defaultPriceRows(): PriceRow[] {
  return [
    ...Object.values(MODELS).map((m) => ({ model_name: m.name, base_usd_value: m.priceUsd, policies: [] })),
    // self-hosted: the disk is the operator's; a row in RESHOOT_PRICING sets a price to show
    { model_name: STORAGE_PRICE_ROW, base_usd_value: 0, policies: [] },
  ];
}

/** hiapi's row fields that RESHOOT_PRICING may leave out, filled in by what the row prices. */
function served(row: PriceRow): ServedPriceRow {
  const storage = row.model_name === STORAGE_PRICE_ROW;
  return {
    base_display_unit: storage ? 'GB/month' : 'image',
    factors: {},
    category: storage ? 'storage' : 'image',
    supported_endpoint_types: storage ? ['storage'] : ['task'],
    ...row,
    policies: row.policies ?? [],
  };
}

/** A table of `rows` over the registry's defaults: a row replaces the default row of the same name. */
export function pricingFromRows(rows: readonly PriceRow[]): Pricing {
  const table = new Map(defaultPriceRows().map((r) => [r.model_name, r]));
  for (const r of rows) table.set(r.model_name, r);
  const all = [...table.values()];
  const shown = all.map(served);
  return {
    rows: () => [...shown],
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
