import { MODELS } from '../../src/contract/models.js';
import { priceFor, type PriceRow } from '../../src/contract/pricing.js';

/**
 * The price the studio's Output panel shows beside a model: what one task of that model costs on the
 * picked route at the picked ratio and resolution, read from the server's price rows the way the
 * server charges it (`priceFor`: a `model@route` row first, as for a generative engine's upstream
 * price plus margin; the plain row for the default route). Until the rows are read, or where they name
 * no such model, the model's own list price.
 */
export function studioPrice(
  rows: readonly PriceRow[] | null,
  model: string,
  route: string,
  format: { aspectRatio: string; resolution: string },
): number {
  const quoted = rows ? priceFor(rows, model, { aspect_ratio: format.aspectRatio, resolution: format.resolution }, route) : undefined;
  return quoted ?? MODELS[model]?.priceUsd ?? 0;
}
