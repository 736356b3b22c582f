import { useState } from 'preact/hooks';
import type { TaskObject } from '../api.js';
import { DOWNLOAD_FORMATS, downloadResult, type DownloadFormat } from '../download.js';

interface DeltaE {
  mean: number;
  p95: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isDeltaE = (v: unknown): v is DeltaE => isObject(v) && typeof v.mean === 'number' && typeof v.p95 === 'number';

/** How a person reads a ΔE2000 figure (1 is about the smallest difference anyone sees). */
function deltaWord(mean: number): string {
  if (mean < 1) return 'no visible change';
  if (mean < 2) return 'barely perceptible';
  if (mean < 5) return 'visible side by side';
  return 'clearly changed';
}

/** Every numeric leaf of an object as `a.b.c` → value, for the figures table. */
function leaves(obj: unknown, prefix = ''): [string, number | string | boolean][] {
  if (!isObject(obj)) return [];
  const out: [string, number | string | boolean][] = [];
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') out.push([key, v]);
    else if (isObject(v)) out.push(...leaves(v, key));
  }
  return out;
}

const fmt = (v: number | string | boolean) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : String(v));

/** Fidelity figures, timings, cost and the download buttons for one finished task. */
export function ResultPanel({ task, seed }: { task: TaskObject; seed?: number }) {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const url = task.output?.[0]?.url;
  const ext = task.reshoot ?? {};
  const fidelity = isObject(ext.fidelity) ? ext.fidelity : null;
  const deltaE = fidelity && isDeltaE(fidelity.deltaE) ? fidelity.deltaE : null;
  const totalMs = ext.timings ? (ext.timings.total ?? Object.values(ext.timings).reduce((a, b) => a + b, 0)) : null;

  async function save(f: DownloadFormat) {
    if (!url) return;
    setBusy(f.ext);
    setError(null);
    try {
      await downloadResult(url, `reshoot-${task.taskId}`, f);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(null);
    }
  }

  return (
    <div class="result-meta">
      <div class="figures">
        {deltaE && (
          <div class="figure" title="ΔE2000 between the source product and the placed product; under 1 is invisible">
            <span class="figure-value">
              ΔE {deltaE.mean.toFixed(2)} <span class="figure-sub">p95 {deltaE.p95.toFixed(2)}</span>
            </span>
            <span class="figure-label">Product fidelity · {deltaWord(deltaE.mean)}</span>
          </div>
        )}
        {totalMs !== null && (
          <div class="figure">
            <span class="figure-value">{(totalMs / 1000).toFixed(2)} s</span>
            <span class="figure-label">Render time</span>
          </div>
        )}
        {seed !== undefined && (
          <div class="figure" title="The same prompt and seed render the same image">
            <span class="figure-value">{seed}</span>
            <span class="figure-label">Seed</span>
          </div>
        )}
        {ext.cost && (
          <div class="figure">
            <span class="figure-value">${ext.cost.usd.toFixed(2)}</span>
            <span class="figure-label">Cost</span>
          </div>
        )}
      </div>
      <div class="downloads" role="group" aria-label="Download">
        <span class="label">Download</span>
        {DOWNLOAD_FORMATS.map((f) => (
          <button key={f.ext} type="button" class="btn" disabled={!url || busy !== null} onClick={() => save(f)}>
            {busy === f.ext ? 'Preparing…' : f.label}
          </button>
        ))}
      </div>
      {error && (
        <p class="error small" role="alert">
          {error}
        </p>
      )}
      {(fidelity || ext.plan !== undefined) && (
        <details class="details">
          <summary>All figures and the scene plan</summary>
          {fidelity && (
            <table class="kv">
              <tbody>
                {leaves(fidelity).map(([k, v]) => (
                  <tr key={k}>
                    <th scope="row">{k}</th>
                    <td>{fmt(v)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {ext.plan !== undefined && <pre class="plan-json">{JSON.stringify(ext.plan, null, 2)}</pre>}
        </details>
      )}
    </div>
  );
}
