import { useState } from 'preact/hooks';
import type { TaskObject } from '../api.js';
import { DOWNLOAD_FORMATS, downloadResult, type DownloadFormat } from '../download.js';
import { fidelityFigures } from '../fidelity.js';
import { planNotes } from '../result-notes.js';
import { LockReport } from './lock-report.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

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
  const figures = fidelityFigures(fidelity);
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

  const notes = planNotes(ext.plan);

  return (
    <div class="result-meta">
      <LockReport task={task} />
      {notes.length > 0 && (
        <ul class="result-notes small" aria-label="Notes on this render">
          {notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
      <div class="figures">
        {[figures.headline, figures.relight].map((f) => f && (
          <div class="figure" title={f.title}>
            <span class="figure-value">
              {f.value} <span class="figure-sub">{f.sub}</span>
            </span>
            <span class="figure-label">{f.label}</span>
          </div>
        ))}
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
