import fs from 'node:fs';
import { z } from 'zod';
import type { EnginesConfig } from '../config.js';
import { MODELS, type EngineName } from '../contract/models.js';
import { priceFor, routedName, type PriceRow } from '../contract/pricing.js';

/**
 * The operator's price table: rows in the contract's shape (docs/contract.md §12), evaluated by
 * contract/pricing.ts. Defaults come from the model registry; RESHOOT_PRICING (inline JSON or a file
 * path) replaces rows.
 *
 * Generative routes are priced as hiapi prices its routed models, by rows named `model@route`: for
 * each configured upstream, what the upstream charges for one image (RESHOOT_<ENGINE>_UPSTREAM_PRICE;
 * unset: the model's own row, which is hiapi's own price for its model names) plus
 * RESHOOT_UPSTREAM_MARGIN. A `model@route` row in RESHOOT_PRICING is the price as it stands (no
 * margin on top). The plain row prices a task without a route, so when RESHOOT_DEFAULT_ENGINE is an
 * upstream the plain row is that upstream's, and `model@studio` is the studio's.
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
  /** USD for one task of `model` (any accepted name) with these input fields, on `route` (absent: the default engine) */
  price(model: string, input: Readonly<Record<string, unknown>>, route?: string): number;
  /** what one task is charged, which engine renders it, and the upstream's part of the price (0 for the studio) */
  quote(model: string, input: Readonly<Record<string, unknown>>, route?: string): Quote;
}

export interface Quote {
  /** what the key is charged (counts against its budget) */
  usd: number;
  /** the engine the route resolves to */
  engine: EngineName;
  /** what the upstream charges reshoot for the image, without the margin */
  upstreamUsd: number;
}

/** The generative upstreams' prices: USD per image for each configured upstream (null: the model's own row), and the margin on top. */
export interface UpstreamPricing {
  default: EngineName;
  engines: Partial<Record<Exclude<EngineName, 'studio'>, number | null>>;
  /** a fraction: 0.2 charges the upstream's price plus 20% */
  margin: number;
}

/** The upstream prices of an engine configuration (config.engines). */
export function upstreamPricing(engines: EnginesConfig): UpstreamPricing {
  const out: UpstreamPricing = { default: engines.default, engines: {}, margin: engines.prices.margin };
  for (const name of ['hiapi', 'openai', 'comfyui'] as const) if (engines[name]) out.engines[name] = engines.prices[name] ?? null;
  return out;
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

const usd = (v: number) => Math.round(v * 1e6) / 1e6;

/** A row with every price times `k`, under another name. */
function scaled(row: PriceRow, name: string, k: number): PriceRow {
  return { ...row, model_name: name, base_usd_value: usd(row.base_usd_value * k), policies: (row.policies ?? []).map((p) => ({ ...p, usd_value: usd(p.usd_value * k) })) };
}

/**
 * A table of `rows` over the registry's defaults: a row replaces the default row of the same name.
 * With `upstream`, the configured upstreams' `model@route` rows are added (see the module comment).
 */
export function pricingFromRows(rows: readonly PriceRow[], upstream?: UpstreamPricing): Pricing {
  const table = new Map(defaultPriceRows().map((r) => [r.model_name, r]));
  for (const r of rows) table.set(r.model_name, r);
  const own = [...table.values()].filter((r) => r.model_name !== STORAGE_PRICE_ROW && !r.model_name.includes('@'));
  // what each upstream charges reshoot, per model: its configured price, else the model's own row
  const costs: PriceRow[] = [];
  for (const [engine, price] of Object.entries(upstream?.engines ?? {})) {
    for (const r of own) {
      const name = routedName(r.model_name, engine);
      costs.push(price == null ? scaled(r, name, 1) : { model_name: name, base_usd_value: price, policies: [] });
      // the charged row: the upstream's price and the margin, unless the operator's table names the route itself
      if (!table.has(name)) table.set(name, scaled(costs.at(-1)!, name, 1 + (upstream?.margin ?? 0)));
    }
  }
  // the plain rows price a task without a route: the default engine's, when that is an upstream
  const def = upstream?.default ?? 'studio';
  if (def !== 'studio') {
    for (const r of own) {
      const studio = routedName(r.model_name, 'studio');
      if (!table.has(studio)) table.set(studio, scaled(r, studio, 1));
      const routed = table.get(routedName(r.model_name, def));
      if (routed) table.set(r.model_name, scaled(routed, r.model_name, 1));
    }
  }
  const all = [...table.values()];
  const shown = all.map(served);
  const price = (model: string, input: Readonly<Record<string, unknown>>, route?: string) => priceFor(all, model, input, route) ?? 0;
  return {
    rows: () => [...shown],
    price,
    quote(model, input, route) {
      const engine = (!route || route === 'default' ? def : route) as EngineName;
      const upstreamUsd = engine === 'studio' ? 0 : (priceFor(costs, model, input, engine) ?? 0);
      return { usd: price(model, input, route), engine, upstreamUsd };
    },
  };
}

/** Reads RESHOOT_PRICING: JSON text (starts with `[`) or the path of a JSON file; `upstream` adds the generative routes' rows. */
export function loadPricing(source?: string, upstream?: UpstreamPricing): Pricing {
  if (!source) return pricingFromRows([], upstream);
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
  return pricingFromRows(table.data, upstream);
}
