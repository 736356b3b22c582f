/**
 * The fidelity figures a result shows. The headline is *product colour kept*: hue and chroma of the
 * product as placed before the light, against the source (what the studio promises not to change).
 * *Relight* is shown beside it as what the light changed on purpose, never as a loss. Results from
 * before the two figures existed show their ΔE2000 with relighting off (or on) as the headline.
 */

export interface DeltaE {
  mean: number;
  p95: number;
}

export interface Figure {
  value: string;
  sub: string;
  label: string;
  title: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isDeltaE = (v: unknown): v is DeltaE => isObject(v) && typeof v.mean === 'number' && typeof v.p95 === 'number';

/** How a person reads a colour difference (1 is about the smallest difference anyone sees). */
export function deltaWord(mean: number): string {
  if (mean < 1) return 'no visible change';
  if (mean < 2) return 'barely perceptible';
  if (mean < 5) return 'visible side by side';
  return 'clearly changed';
}

/** The headline figure and the relight figure of a task's `reshoot.fidelity`, as far as they are there. */
export function fidelityFigures(fidelity: unknown): { headline: Figure | null; relight: Figure | null } {
  if (!isObject(fidelity)) return { headline: null, relight: null };
  const kept = isDeltaE(fidelity.colourKept) ? fidelity.colourKept : null;
  const fallback = isDeltaE(fidelity.deltaEUnlit) ? fidelity.deltaEUnlit : isDeltaE(fidelity.deltaE) ? fidelity.deltaE : null;
  const shown = kept ?? fallback;
  const headline: Figure | null = shown && {
    value: `ΔE ${shown.mean.toFixed(2)}`,
    sub: `p95 ${shown.p95.toFixed(2)}`,
    label: `Product colour kept · ${deltaWord(shown.mean)}`,
    title: kept
      ? 'Hue and chroma (ΔE2000 without lightness) of the placed product before relighting, against the source; under 1 is invisible'
      : 'ΔE2000 between the source product and the placed product; under 1 is invisible',
  };
  const r = isObject(fidelity.relight) ? fidelity.relight : null;
  const relight: Figure | null = r && r.applied === true && isDeltaE(r.deltaE) && typeof r.lightness === 'number'
    ? {
      value: `ΔE ${r.deltaE.mean.toFixed(2)}`,
      sub: `L* ${r.lightness >= 0 ? '+' : '−'}${Math.abs(r.lightness).toFixed(1)}`,
      label: 'Relight · the light on the product, on purpose',
      title: 'ΔE2000 of the lit product against the same product before relighting, and the mean change of lightness: the light changes, the product does not',
    }
    : null;
  return { headline, relight };
}
