import { MODELS } from '../contract/models.js';
import type { PricingRow } from './types.js';

/** Names a price row may use for the same model: the hyphenated and the slashed spelling. */
function aliases(model: string): string[] {
  const names = new Set([model]);
  const canonical = MODELS[model]?.canonical;
  if (canonical) names.add(canonical);
  for (const spec of Object.values(MODELS)) if (spec.canonical === canonical) names.add(spec.name);
  if (model.startsWith('gpt-image-2-')) names.add(model.replace('gpt-image-2-', 'gpt-image-2/'));
  if (model.startsWith('gpt-image-2/')) names.add(model.replace('gpt-image-2/', 'gpt-image-2-'));
  return [...names];
}

/**
 * The USD price of one task from `GET /api/pricing` rows (contract §12): the first policy whose
 * rule matches the input, else the row's base value. Undefined when no row names the model.
 *
 * @example
 * ```ts
 * const rows = await client.pricing();
 * const usd = priceFor(rows, 'gpt-image-2-image-to-image', { resolution: '4K' }); // 0.06 upstream
 * ```
 */
export function priceFor(rows: readonly PricingRow[], model: string, input: Record<string, unknown>): number | undefined {
  const names = aliases(model);
  const row = rows.find((r) => names.includes(r.model_name));
  if (!row) return undefined;
  for (const policy of row.policies ?? []) {
    const matches = Object.entries(policy.rule ?? {}).every(([field, cond]) => {
      const value = input[field];
      if (cond.match !== undefined) return value === cond.match;
      if (cond.with !== undefined) return (value !== undefined) === cond.with;
      return false;
    });
    if (matches) return policy.usd_value;
  }
  return row.base_usd_value;
}
