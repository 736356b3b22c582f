import { MODELS } from './models.js';

/**
 * Price rows in hiapi's shape, as `GET /api/pricing` serves them and RESHOOT_PRICING holds them
 * (docs/contract.md §12): `{ model_name, base_usd_value, policies: [{ rule: { resolution: { match: "4K" } }, usd_value }] }`.
 */
export interface PriceCondition {
  /** the input field equals this value */
  match?: string | number | boolean;
  /** the input field is present (true) or absent (false) */
  with?: boolean;
}

export interface PricePolicy {
  /** input field → condition; every condition must hold */
  rule: Record<string, PriceCondition>;
  usd_value: number;
}

export interface PriceRow {
  model_name: string;
  base_usd_value: number;
  policies?: PricePolicy[];
}

/**
 * The names a row may price `model` under, best first: the name itself, its canonical name, the
 * other names of the same model, then the other spelling (`gpt-image-2-x` ↔ `gpt-image-2/x`), which
 * also covers hiapi's models that are not in the registry.
 */
export function priceNames(model: string): string[] {
  const names = [model];
  const canonical = MODELS[model]?.canonical;
  if (canonical) {
    names.push(canonical);
    for (const spec of Object.values(MODELS)) if (spec.canonical === canonical) names.push(spec.name);
  }
  if (model.startsWith('gpt-image-2-')) names.push(model.replace('gpt-image-2-', 'gpt-image-2/'));
  else if (model.startsWith('gpt-image-2/')) names.push(model.replace('gpt-image-2/', 'gpt-image-2-'));
  return [...new Set(names)];
}

/**
 * Whether one condition holds for a field's value: `with` tests presence (and wins when both are
 * given), `match` tests equality; a condition with neither holds when the field is absent.
 */
function holds(cond: PriceCondition, value: unknown): boolean {
  return cond.with !== undefined ? (value !== undefined) === cond.with : value === cond.match;
}

/** The row name that prices `model` on a route, as hiapi names its routed models: `model@route`. */
export const routedName = (model: string, route: string): string => `${model}@${route}`;

/**
 * The USD price of one task: the row that names `model` (see priceNames), its first policy whose
 * every condition holds for `input`, else the row's base value. Undefined when no row names the model.
 * With a `route` other than `default` (or ""), a row named `model@route` (any of the model's names)
 * comes first, as hiapi prices its routed models; the plain row prices a task without a route (on
 * reshoot: whatever RESHOOT_DEFAULT_ENGINE renders with) and any route without a row of its own.
 *
 * @example
 * ```ts
 * const rows = [
 *   { model_name: 'gpt-image-2-image-to-image', base_usd_value: 0.03, policies: [{ rule: { resolution: { match: '4K' } }, usd_value: 0.06 }] },
 *   { model_name: 'gpt-image-2-image-to-image@hiapi', base_usd_value: 0.05 },
 * ];
 * priceFor(rows, 'gpt-image-2/image-to-image', { resolution: '4K' }); // 0.06
 * priceFor(rows, 'gpt-image-2/image-to-image', { resolution: '4K' }, 'hiapi'); // 0.05
 * ```
 */
export function priceFor(rows: readonly PriceRow[], model: string, input: Readonly<Record<string, unknown>>, route?: string): number | undefined {
  const names = priceNames(model);
  const routed = route && route !== 'default' ? names.map((n) => routedName(n, route)) : [];
  let row: PriceRow | undefined;
  for (const name of [...routed, ...names]) {
    row = rows.find((r) => r.model_name === name);
    if (row) break;
  }
  if (!row) return undefined;
  const policy = row.policies?.find((p) => Object.entries(p.rule).every(([field, cond]) => holds(cond, input[field])));
  return policy ? policy.usd_value : row.base_usd_value;
}
