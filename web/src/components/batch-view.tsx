import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { MODELS, comboProblem, outputSize, type AspectRatio, type Resolution } from '../../../src/contract/models.js';
import type { PriceRow } from '../../../src/contract/pricing.js';
import { ApiError, waitForTask, type ApiClient, type TaskObject } from '../api.js';
import {
  BATCH_IN_FLIGHT,
  extensionFor,
  formatUsd,
  itemInput,
  parsePrompts,
  planBatch,
  quoteBatch,
  runBounded,
  type BatchItemPlan,
} from '../batch.js';
import { filesFromDrop, filesFromInput, type PickedFile } from '../dropped-files.js';
import { engineRequest, fitEngineChoice, loadEngineChoice, lockRefusal, saveEngineChoice, type EngineChoice } from '../engine-choice.js';
import { describeError, readableMessage } from '../messages.js';
import { STUDIO_MODELS } from '../state.js';
import { createZipBuilder } from '../zip.js';
import { EnginePanel, useServedRoutes } from './engine-panel.js';

interface Props {
  api: ApiClient;
  /** false while another view shows; the batch keeps running */
  active: boolean;
}

type RowStatus = 'waiting' | 'uploading' | 'queued' | 'handling' | 'archiving' | 'success' | 'fail';

interface Row {
  plan: BatchItemPlan;
  status: RowStatus;
  taskId?: string;
  url?: string;
  error?: string;
  /** what the server charged (reshoot.cost; a failed task is not charged) */
  costUsd?: number;
  /** the studio stopped waiting while the task was on the server */
  stopped?: boolean;
}

const STATUS_WORD: Record<RowStatus, string> = {
  waiting: 'Waiting',
  uploading: 'Uploading',
  queued: 'Queued',
  handling: 'Rendering',
  archiving: 'Saving',
  success: 'Done',
  fail: 'Failed',
};

const MODEL_LABEL: Record<string, string> = {
  'gpt-image-2-image-to-image': 'Standard',
  'gpt-image-2-image-to-image-pro': 'Pro',
};

/**
 * Many packshots at once: a folder or files, prompts one per line, a set of ratios; the quote
 * before starting, one row per render with its progress or its failure, and a zip of every result.
 */
export function BatchView({ api, active }: Props) {
  const [files, setFiles] = useState<PickedFile[]>([]);
  const [over, setOver] = useState(false);
  const [promptText, setPromptText] = useState('');
  const [model, setModel] = useState<string>(STUDIO_MODELS[0]);
  const [resolution, setResolution] = useState<Resolution>('1K');
  const [ratios, setRatios] = useState<AspectRatio[]>(['1:1']);
  // the engine every item renders with (the studio form's choice when the tab opens)
  const served = useServedRoutes(api);
  const [engineChoice, setEngineChoice] = useState<EngineChoice>(loadEngineChoice);
  const engine = fitEngineChoice(engineChoice, served);
  const [priceRows, setPriceRows] = useState<PriceRow[] | null>(null);
  const [priceError, setPriceError] = useState<string | null>(null);
  const [rows, setRows] = useState<Row[] | null>(null);
  const [running, setRunning] = useState(false);
  const [zipState, setZipState] = useState<string | null>(null);
  const [zipError, setZipError] = useState<string | null>(null);
  const filesInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);
  /** the upload of each file of the running batch, by file index: each file is sent once */
  const uploads = useRef(new Map<number, Promise<string>>());
  const batchFiles = useRef<PickedFile[]>([]);
  const stop = useRef<AbortController | null>(null);
  const rowsRef = useRef<Row[] | null>(null);
  rowsRef.current = rows;

  const spec = MODELS[model]!;
  const prompts = useMemo(() => parsePrompts(promptText), [promptText]);
  const plan = useMemo(
    () => planBatch(files.map((f) => ({ name: f.path })), { model, resolution, prompts, ratios }),
    [files, model, resolution, prompts, ratios],
  );
  const route = engineRequest(engine, served).route;
  const quote = useMemo(() => (priceRows ? quoteBatch(priceRows, model, resolution, plan.items, route) : null), [priceRows, model, resolution, plan, route]);

  // `webkitdirectory` is not in the JSX types; set it on the element.
  useEffect(() => {
    folderInput.current?.setAttribute('webkitdirectory', '');
  }, []);

  useEffect(() => {
    if (!active || priceRows) return;
    let live = true;
    api
      .pricing()
      .then((r) => live && (setPriceRows(r), setPriceError(null)))
      .catch((err: unknown) => live && setPriceError(describeError(err)));
    return () => {
      live = false;
    };
  }, [active, api, priceRows]);

  function addFiles(picked: PickedFile[]) {
    if (!picked.length) return;
    setFiles((prev) => {
      const seen = new Set(prev.map((p) => `${p.path}:${p.file.size}`));
      return [...prev, ...picked.filter((p) => !seen.has(`${p.path}:${p.file.size}`))];
    });
  }

  /** A file input's choice (files or a folder) joins the batch; the input is cleared so the same choice can be made again. */
  function takePicked(e: { currentTarget: HTMLInputElement }) {
    const el = e.currentTarget;
    addFiles(filesFromInput(el.files));
    el.value = '';
  }

  function toggleRatio(r: AspectRatio) {
    setRatios((prev) => (prev.includes(r) ? prev.filter((x) => x !== r) : spec.aspectRatios.filter((x) => x === r || prev.includes(x))));
  }

  const patch = (id: string, p: Partial<Row>) => setRows((prev) => prev && prev.map((row) => (row.plan.id === id ? { ...row, ...p } : row)));

  function fromTask(task: TaskObject): Partial<Row> {
    const cost = task.status === 'fail' ? 0 : task.reshoot?.cost?.usd;
    if (task.status === 'success') return { status: 'success', url: task.output?.[0]?.url, costUsd: cost };
    // a strict lock's refusal in the same words as the studio's
    if (task.status === 'fail') return { status: 'fail', error: lockRefusal(task.error) ?? readableMessage(task.error?.message ?? 'The render failed.'), costUsd: 0 };
    return { status: task.status, costUsd: cost };
  }

  function upload(fileIndex: number): Promise<string> {
    let p = uploads.current.get(fileIndex);
    if (!p) {
      const picked = batchFiles.current[fileIndex]!;
      p = api.upload(picked.file, picked.file.name);
      uploads.current.set(fileIndex, p);
      // a failed upload is tried again by the next item (or a retry) that needs the file
      p.catch(() => uploads.current.delete(fileIndex));
    }
    return p;
  }

  async function runOne(item: BatchItemPlan, signal: AbortSignal, resume?: string): Promise<void> {
    let taskId = resume;
    try {
      if (taskId) patch(item.id, { status: 'queued', error: undefined, stopped: undefined });
      else {
        patch(item.id, { status: 'uploading', error: undefined, stopped: undefined, taskId: undefined, url: undefined, costUsd: undefined });
        const url = await upload(item.fileIndex);
        const { lock } = engineRequest(engine, served);
        taskId = await api.createTask(model, { ...itemInput(item, resolution, url), ...(lock ? { lock } : {}) }, route);
        patch(item.id, { status: 'queued', taskId });
      }
      await waitForTask(api, taskId, (task) => patch(item.id, fromTask(task)), signal);
    } catch (err) {
      if (taskId && err instanceof ApiError && err.code === 'ABORTED') {
        // the task goes on on the server (and is paid for): a retry waits for it instead of sending another
        patch(item.id, { status: 'fail', stopped: true, error: 'Stopped waiting; the render goes on on the server and Retry picks it up.' });
        return;
      }
      const picked = batchFiles.current[item.fileIndex];
      patch(item.id, { status: 'fail', error: `${picked ? `${picked.path}: ` : ''}${describeError(err)}` });
    }
  }

  async function run(items: BatchItemPlan[]) {
    const ctl = new AbortController();
    stop.current = ctl;
    setRunning(true);
    const ids = new Set(items.map((i) => i.id));
    // a row stopped while its task was on the server resumes that task rather than creating another
    const resume = new Map((rowsRef.current ?? []).filter((r) => ids.has(r.plan.id) && r.stopped && r.taskId).map((r) => [r.plan.id, r.taskId!]));
    setRows((prev) => prev && prev.map((row) => (ids.has(row.plan.id) ? { plan: row.plan, status: 'waiting', taskId: resume.get(row.plan.id) } : row)));
    try {
      await runBounded(items, BATCH_IN_FLIGHT, (item) => runOne(item, ctl.signal, resume.get(item.id)), ctl.signal);
    } finally {
      if (ctl.signal.aborted) {
        setRows((prev) =>
          prev && prev.map((row) => (ids.has(row.plan.id) && row.status === 'waiting' ? { ...row, status: 'fail', stopped: true, error: 'Not started: the batch was stopped.' } : row)),
        );
      }
      setRunning(false);
      stop.current = null;
    }
  }

  function start() {
    if (plan.problems.length || running) return;
    batchFiles.current = files;
    uploads.current = new Map();
    setZipState(null);
    setZipError(null);
    setRows(plan.items.map((p) => ({ plan: p, status: 'waiting' })));
    void run(plan.items);
  }

  async function downloadZip() {
    if (!rows) return;
    const done = rows.filter((r) => r.status === 'success' && r.url);
    setZipError(null);
    const zip = createZipBuilder();
    const missing: string[] = [];
    let fetched = 0;
    setZipState(`Fetching 0 of ${done.length}…`);
    await runBounded(done, 4, async (row) => {
      try {
        const res = await fetch(row.url!);
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        zip.add(`${row.plan.name}.${extensionFor(res.headers.get('content-type') ?? '')}`, new Uint8Array(await res.arrayBuffer()));
      } catch (err) {
        missing.push(`${row.plan.name} (${(err as Error).message})`);
      }
      setZipState(`Fetching ${++fetched} of ${done.length}…`);
    });
    setZipState(null);
    if (missing.length) {
      setZipError(`${missing.length} result${missing.length > 1 ? 's' : ''} could not be fetched (a link may have expired): ${missing.join(', ')}.`);
      if (missing.length === done.length) return;
    }
    const href = URL.createObjectURL(zip.finish());
    const a = document.createElement('a');
    a.href = href;
    a.download = `reshoot-batch-${new Date().toISOString().slice(0, 16).replace(/[-:T]/g, '')}.zip`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(href), 30_000);
  }

  const counts = useMemo(() => {
    const c = { done: 0, failed: 0, stopped: 0, total: rows?.length ?? 0, spent: 0 };
    for (const r of rows ?? []) {
      if (r.status === 'success') c.done++;
      if (r.status === 'fail') c[r.stopped ? 'stopped' : 'failed']++;
      c.spent += r.costUsd ?? 0;
    }
    c.spent = Math.round(c.spent * 1e6) / 1e6;
    return c;
  }, [rows]);
  const failed = rows?.filter((r) => r.status === 'fail') ?? [];
  const locked = running;
  const size = (r: AspectRatio) => (r === 'auto' ? 'source ratio' : (({ width, height }) => `${width} × ${height}`)(outputSize(r, resolution)));

  return (
    <main class="batch-view" id={active ? 'main' : undefined} aria-labelledby="batch-view-title" hidden={!active}>
      <div class="history-head">
        <h1 id="batch-view-title">Batch</h1>
        <span class="muted">Every image × every prompt × every ratio, one render each, {BATCH_IN_FLIGHT} at a time.</span>
      </div>
      <div class="batch-layout">
        <div class="controls">
          <section class="panel" aria-labelledby="batch-files-title">
            <div class="panel-head">
              <h2 id="batch-files-title">Images</h2>
              {files.length > 0 && (
                <button type="button" class="btn btn-quiet btn-small" disabled={locked} onClick={() => setFiles([])}>
                  Clear
                </button>
              )}
            </div>
            <div
              class={`dropzone batch-drop${over ? ' dropzone-over' : ''}`}
              onDragOver={(e) => {
                e.preventDefault();
                setOver(true);
              }}
              onDragLeave={() => setOver(false)}
              onDrop={(e) => {
                e.preventDefault();
                setOver(false);
                if (locked || !e.dataTransfer) return;
                void filesFromDrop(e.dataTransfer).then(addFiles);
              }}
            >
              <p>
                <strong>Drop packshots or a folder here</strong>
              </p>
              <div class="batch-pick">
                <button type="button" class="btn" disabled={locked} onClick={() => filesInput.current?.click()}>
                  Choose files
                </button>
                <button type="button" class="btn" disabled={locked} onClick={() => folderInput.current?.click()}>
                  Choose a folder
                </button>
              </div>
              <input
                ref={filesInput}
                class="sr-only"
                type="file"
                accept="image/*"
                multiple
                aria-label="Choose images for the batch"
                onChange={takePicked}
              />
              <input
                ref={folderInput}
                class="sr-only batch-folder"
                type="file"
                multiple
                aria-label="Choose a folder of images for the batch"
                onChange={takePicked}
              />
            </div>
            {files.length > 0 && (
              <ul class="batch-files" aria-label="Images in the batch">
                {files.map((f, i) => (
                  <li key={`${f.path}:${i}`}>
                    <span class="batch-file-name" title={f.path}>
                      {f.path}
                    </span>
                    <span class="muted small">{Math.max(1, Math.round(f.file.size / 1024))} KB</span>
                    <button
                      type="button"
                      class="btn btn-quiet btn-small"
                      disabled={locked}
                      aria-label={`Remove ${f.path}`}
                      onClick={() => setFiles((prev) => prev.filter((_, j) => j !== i))}
                    >
                      Remove
                    </button>
                  </li>
                ))}
              </ul>
            )}
          </section>

          <section class="panel" aria-labelledby="batch-prompts-title">
            <div class="panel-head">
              <h2 id="batch-prompts-title">Prompts</h2>
              <span class="muted small">one per line</span>
            </div>
            <textarea
              class="batch-prompts"
              rows={4}
              aria-labelledby="batch-prompts-title"
              placeholder={'on a marble kitchen counter, morning light\nbeach at sunset'}
              value={promptText}
              disabled={locked}
              onInput={(e) => setPromptText(e.currentTarget.value)}
            />
          </section>

          <section class="panel" aria-labelledby="batch-output-title">
            <div class="panel-head">
              <h2 id="batch-output-title">Output</h2>
            </div>
            <fieldset class="segmented" disabled={locked}>
              <legend class="label">Model</legend>
              {STUDIO_MODELS.map((name) => (
                <label key={name} class="seg">
                  <input
                    type="radio"
                    name="batch-model"
                    value={name}
                    checked={model === name}
                    onChange={() => {
                      setModel(name);
                      const next = MODELS[name]!;
                      if (!next.resolutions.includes(resolution)) setResolution(next.defaultResolution);
                      setRatios((prev) => prev.filter((r) => next.aspectRatios.includes(r)));
                    }}
                  />
                  <span>{MODEL_LABEL[name]}</span>
                </label>
              ))}
            </fieldset>
            <fieldset class="segmented" disabled={locked}>
              <legend class="label">Resolution</legend>
              {spec.resolutions.map((r) => (
                <label key={r} class="seg">
                  <input type="radio" name="batch-resolution" value={r} checked={resolution === r} onChange={() => setResolution(r)} />
                  <span>{r}</span>
                </label>
              ))}
            </fieldset>
            <fieldset class="batch-ratios" disabled={locked}>
              <legend class="label">Aspect ratios</legend>
              <div class="batch-ratio-grid">
                {spec.aspectRatios.map((r) => {
                  const problem = comboProblem(spec, r, resolution);
                  return (
                    <label key={r} class={`chip batch-ratio${ratios.includes(r) ? ' chip-on' : ''}${problem ? ' is-disabled' : ''}`} title={problem ?? size(r)}>
                      <input
                        type="checkbox"
                        name="batch-ratio"
                        value={r}
                        checked={ratios.includes(r)}
                        disabled={!!problem && !ratios.includes(r)}
                        onChange={() => toggleRatio(r)}
                      />
                      {r}
                    </label>
                  );
                })}
              </div>
            </fieldset>
          </section>
          <EnginePanel
            served={served}
            choice={engine}
            onChange={(c) => {
              setEngineChoice(c);
              saveEngineChoice(c);
            }}
            idPrefix="batch"
            disabled={locked}
          />
        </div>

        <div class="batch-main">
          <section class="panel batch-quote" aria-labelledby="batch-quote-title" aria-live="polite">
            <div class="panel-head">
              <h2 id="batch-quote-title">Quote</h2>
              {rows && (
                <span class="batch-spent">
                  Spent <strong data-usd={counts.spent}>{formatUsd(counts.spent, '$0.00')}</strong>
                </span>
              )}
            </div>
            <p class="batch-matrix">
              {files.length} image{files.length === 1 ? '' : 's'} × {prompts.length} prompt{prompts.length === 1 ? '' : 's'} × {ratios.length} ratio
              {ratios.length === 1 ? '' : 's'} = <strong>{files.length * prompts.length * ratios.length}</strong> render
              {files.length * prompts.length * ratios.length === 1 ? '' : 's'}
              {quote && (
                <>
                  {' · '}
                  <strong class="batch-total" data-usd={quote.total}>
                    {formatUsd(quote.total)}
                  </strong>
                  {quote.unpriced && <span class="muted"> (the server's price table does not name this model)</span>}
                </>
              )}
            </p>
            {priceError && <p class="error-text small">The prices could not be read: {priceError}</p>}
            {plan.problems.length > 0 && (files.length > 0 || prompts.length > 0) && (
              <ul class="batch-problems small">
                {plan.problems.map((p) => (
                  <li key={p}>{p}</li>
                ))}
              </ul>
            )}
            <div class="batch-actions">
              <button type="button" class="btn btn-primary" disabled={running || plan.problems.length > 0} onClick={start}>
                {rows ? 'Start a new batch' : 'Start batch'}
              </button>
              {running && (
                <button type="button" class="btn" onClick={() => stop.current?.abort()}>
                  Stop
                </button>
              )}
              {!running && failed.length > 0 && (
                <button type="button" class="btn" onClick={() => void run(failed.map((r) => r.plan))}>
                  {counts.failed === 0 ? `Resume ${failed.length} stopped` : counts.stopped === 0 ? `Retry ${failed.length} failed` : `Retry ${failed.length}`}
                </button>
              )}
              {rows && (
                <button type="button" class="btn" disabled={counts.done === 0 || zipState !== null} onClick={() => void downloadZip()}>
                  {zipState ?? `Download zip (${counts.done})`}
                </button>
              )}
            </div>
            {zipError && <p class="error-text small">{zipError}</p>}
          </section>

          {rows && (
            <section class="panel" aria-labelledby="batch-rows-title">
              <div class="panel-head">
                <h2 id="batch-rows-title">Renders</h2>
                <span class="batch-progress-text" aria-live="polite">
                  {counts.done} of {counts.total} done{counts.failed ? ` · ${counts.failed} failed` : ''}{counts.stopped ? ` · ${counts.stopped} stopped` : ''}
                </span>
              </div>
              <progress class="batch-progress" max={counts.total} value={counts.done + counts.failed} aria-label="Batch progress" />
              <ul class="batch-rows">
                {rows.map((row) => (
                  <li key={row.plan.id} class={`batch-row is-${row.status}`} data-name={row.plan.name}>
                    <span class="batch-thumb">{row.url ? <img src={row.url} alt="" loading="lazy" /> : null}</span>
                    <span class="batch-row-body">
                      <span class="batch-row-name">{row.plan.name}</span>
                      <span class="muted small">
                        {row.plan.prompt} · {row.plan.ratio}
                      </span>
                      {row.error && <span class="error-text small batch-row-error">{row.error}</span>}
                    </span>
                    <span class={`batch-status batch-status-${row.status}`}>{row.stopped ? 'Stopped' : STATUS_WORD[row.status]}</span>
                    {row.status === 'fail' && !running ? (
                      <button type="button" class="btn btn-small" onClick={() => void run([row.plan])}>
                        Retry
                      </button>
                    ) : (
                      <span class="batch-row-cost muted small">{row.costUsd !== undefined ? formatUsd(row.costUsd) : ''}</span>
                    )}
                  </li>
                ))}
              </ul>
            </section>
          )}
        </div>
      </div>
    </main>
  );
}
