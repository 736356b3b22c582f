import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { MODELS, comboProblem, outputSize } from '../../src/contract/models.js';
import { ApiError, createApiClient, waitForTask, type StudioTaskInput, type TaskObject } from './api.js';
import { loadKey, maskKey, saveKey } from './key-store.js';
import { describePlan, readPrompt } from './planner.js';
import {
  DEFAULT_FORMAT,
  absoluteUrl,
  fitFormat,
  isTerminal,
  clearSession,
  loadSession,
  pickSeed,
  saveSession,
  rolesFor,
  type Batch,
  type FormatChoice,
  type Reference,
  type SentRequest,
  type Turn,
} from './state.js';
import { EMPTY_SCENE, sceneOverride, type SceneSettings } from './scene-settings.js';
import { KeyGate } from './components/key-gate.js';
import { References } from './components/references.js';
import { PromptPanel } from './components/prompt-panel.js';
import { FormatPanel } from './components/format-panel.js';
import { SceneControls } from './components/scene-controls.js';
import { Compare, Progress } from './components/stage.js';
import { ResultPanel } from './components/result-panel.js';
import { Timeline } from './components/timeline.js';
import { BatchGrid } from './components/batch-grid.js';
import { History } from './components/history.js';

const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;
const ASPECT_SET = ['1:1', '4:5', '16:9', '9:16'] as const;
let refCounter = 0;
// Unique across reloads too: restored references keep the ids they were saved with.
const newRefId = () => `ref-${Date.now().toString(36)}-${++refCounter}`;

export function App() {
  const [key, setKey] = useState<string | null>(() => loadKey());
  const [gateNotice, setGateNotice] = useState<string | null>(null);
  const keyRef = useRef(key);
  keyRef.current = key;

  const api = useMemo(
    () =>
      createApiClient({
        getKey: () => keyRef.current,
        onUnauthorized: () => {
          saveKey(null);
          setKey(null);
          setGateNotice('The server no longer accepts the saved key. Paste a valid one to continue.');
        },
      }),
    [],
  );

  const [saved] = useState(loadSession);
  const [view, setView] = useState<'studio' | 'history'>('studio');
  const [refs, setRefs] = useState<Reference[]>(saved.form?.refs ?? []);
  const [prompt, setPrompt] = useState(saved.form?.prompt ?? '');
  const [format, setFormat] = useState<FormatChoice>(saved.form?.format ?? DEFAULT_FORMAT);
  const [scene, setScene] = useState<SceneSettings>(() => ({ ...EMPTY_SCENE, ...(saved.form?.scene as Partial<SceneSettings> | undefined) }));
  const [tasks, setTasks] = useState<Record<string, TaskObject>>({});
  const [startedAt, setStartedAt] = useState<Record<string, number>>({});
  const [turns, setTurns] = useState<Turn[]>(saved.turns);
  const [selected, setSelected] = useState<string | null>(saved.selected);
  const [batch, setBatch] = useState<Batch | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const [showBlocker, setShowBlocker] = useState(false);
  const [editPrompt, setEditPrompt] = useState('');
  const stageRef = useRef<HTMLElement>(null);
  const [revealStage, setRevealStage] = useState(false);

  // After Generate, bring the progress into view once it is on the page (on a phone it sits below the form).
  useEffect(() => {
    if (!revealStage) return;
    setRevealStage(false);
    const el = stageRef.current;
    if (el && el.getBoundingClientRect().top > window.innerHeight * 0.4) el.scrollIntoView({ behavior: 'smooth', block: 'start' });
  }, [revealStage]);

  const spec = MODELS[format.model]!;
  const override = useMemo(() => sceneOverride(scene), [scene]);
  const reading = useMemo(() => readPrompt(prompt, override), [prompt, override]);

  // ---- references ---------------------------------------------------------------------------
  const addFiles = useCallback(
    (files: File[]) => {
      setError(null);
      const room = spec.maxRefs - refs.length;
      if (room <= 0) {
        setError(`This model takes at most ${spec.maxRefs} reference images.`);
        return;
      }
      for (const file of files.slice(0, room)) {
        const id = newRefId();
        const name = file.name || 'pasted image';
        const ref: Reference = { id, name, url: null, preview: URL.createObjectURL(file), role: 'auto', status: 'uploading' };
        if (file.size > MAX_UPLOAD_BYTES) {
          setRefs((rs) => [...rs, { ...ref, status: 'error', error: 'Larger than 20 MB.' }]);
          continue;
        }
        setRefs((rs) => [...rs, ref]);
        api
          .upload(file, name)
          .then((url) => setRefs((rs) => rs.map((r) => (r.id === id ? { ...r, url: absoluteUrl(url), status: 'ready' } : r))))
          .catch((err: Error) => setRefs((rs) => rs.map((r) => (r.id === id ? { ...r, status: 'error', error: err.message } : r))));
      }
    },
    [api, refs.length, spec.maxRefs],
  );

  const addUrl = (url: string) => {
    if (refs.length >= spec.maxRefs) return;
    const id = newRefId();
    const name = url.split('/').pop()?.split('?')[0] || url;
    setRefs((rs) => [...rs, { id, name, url, preview: url, role: 'auto', status: 'ready' }]);
  };

  const removeRef = (id: string) =>
    setRefs((rs) => {
      const gone = rs.find((r) => r.id === id);
      if (gone?.preview.startsWith('blob:')) URL.revokeObjectURL(gone.preview);
      return rs.filter((r) => r.id !== id);
    });

  // Paste an image anywhere on the page; a paste without image files (text) is left alone.
  useEffect(() => {
    const onPaste = (e: ClipboardEvent) => {
      const files = [...(e.clipboardData?.files ?? [])].filter((f) => f.type.startsWith('image/'));
      if (!files.length || !key) return;
      e.preventDefault();
      setView('studio');
      addFiles(files);
    };
    document.addEventListener('paste', onPaste);
    return () => document.removeEventListener('paste', onPaste);
  }, [addFiles, key]);

  useEffect(() => saveSession({ turns, selected, form: { refs, prompt, format, scene } }), [turns, selected, refs, prompt, format, scene]);

  // ---- tasks --------------------------------------------------------------------------------
  const track = useCallback(
    (taskId: string) => {
      setStartedAt((s) => ({ ...s, [taskId]: Date.now() }));
      waitForTask(api, taskId, (task) => setTasks((ts) => ({ ...ts, [taskId]: task }))).catch((err: ApiError) => {
        setTasks((ts) => ({
          ...ts,
          [taskId]: {
            ...(ts[taskId] ?? { taskId, model: '', created: Math.floor(Date.now() / 1000), completed: 0, storage: 'temp' }),
            status: 'fail',
            error: { code: err.code, message: `Lost track of the task: ${err.message}` },
          } as TaskObject,
        }));
      });
    },
    [api],
  );

  // Turns restored from the last visit: fetch their tasks again (and follow any still running).
  const restored = useRef(false);
  useEffect(() => {
    if (!key || restored.current) return;
    restored.current = true;
    for (const t of saved.turns) {
      api
        .getTask(t.taskId)
        .then((task) => {
          setTasks((ts) => ({ ...ts, [task.taskId]: task }));
          if (!isTerminal(task)) track(task.taskId);
        })
        .catch(() => setTurns((ts) => ts.filter((x) => x.taskId !== t.taskId)));
    }
  }, [api, key, saved, track]);

  async function send(request: SentRequest): Promise<string> {
    const taskId = await api.createTask(request.model, request.input);
    track(taskId);
    return taskId;
  }

  function describeError(err: unknown): string {
    if (err instanceof ApiError) return err.code.startsWith('HTTP_') ? err.message : `${err.message} (${err.code})`;
    return (err as Error).message;
  }

  const readyRefs = refs.filter((r) => r.status === 'ready' && r.url);
  const uploading = refs.some((r) => r.status === 'uploading');
  const combo = comboProblem(spec, format.aspectRatio, format.resolution);
  const blocker =
    refs.length === 0
      ? 'Add a product image first.'
      : refs.length > spec.maxRefs
        ? `This model takes at most ${spec.maxRefs} reference images; remove ${refs.length - spec.maxRefs}.`
        : uploading
        ? 'Waiting for the upload to finish…'
        : refs.some((r) => r.status === 'error')
          ? 'Remove the image that could not be uploaded (marked in red).'
          : !prompt.trim()
            ? 'Write a prompt or pick a preset.'
            : combo
              ? `This combination is not allowed: ${combo}.`
              : reading.problem
                ? `Fine controls: ${reading.problem}`
                : null;

  async function generate(e: Event) {
    e.preventDefault();
    if (blocker) {
      // Announce why nothing happened; the alert follows the blocker until it is resolved.
      setShowBlocker(true);
      return;
    }
    setShowBlocker(false);
    setError(null);
    setSubmitting(true);
    const input: StudioTaskInput = {
      prompt: prompt.trim(),
      input_urls: readyRefs.map((r) => r.url!),
      aspect_ratio: format.aspectRatio,
      resolution: format.resolution,
      seed: pickSeed(format.seed),
      output_format: format.outputFormat,
    };
    if (format.background !== 'auto') input.background = format.background;
    const roles = spec.tier === 'pro' ? rolesFor(readyRefs) : undefined;
    if (roles) input.roles = roles;
    if (override) input.scene = override;
    const request: SentRequest = { model: format.model, input };
    try {
      const taskId = await send(request);
      setTurns((ts) => [...ts, { taskId, parentId: null, kind: 'new', prompt: input.prompt, beforeUrl: readyRefs[0]!.url ?? readyRefs[0]!.preview, request }]);
      setSelected(taskId);
      setBatch(null);
      setRevealStage(true);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setSubmitting(false);
    }
  }

  const current = turns.find((t) => t.taskId === selected) ?? null;
  const currentTask = current ? tasks[current.taskId] : undefined;
  const currentUrl = currentTask?.status === 'success' ? currentTask.output?.[0]?.url : undefined;

  async function edit(e: Event) {
    e.preventDefault();
    const follow = editPrompt.trim();
    if (!current || !currentUrl || !follow) return;
    setError(null);
    setSubmitting(true);
    const base = current.request;
    const model = base?.model ?? currentTask!.model;
    const input: StudioTaskInput = {
      ...(base?.input ?? { aspect_ratio: format.aspectRatio, resolution: format.resolution }),
      prompt: follow,
      // The server recognises its own output URL, reuses the original cutout and links the lineage.
      input_urls: [absoluteUrl(currentUrl), ...(base?.input.input_urls.slice(1) ?? [])],
      seed: base?.input.seed ?? pickSeed(''),
    };
    // The parent's plan already holds its explicit settings; re-sending them would pin what the
    // follow-up is trying to change ("light from the right instead").
    delete input.scene;
    delete input.scene_from;
    try {
      const taskId = await send({ model, input });
      setTurns((ts) => [...ts, { taskId, parentId: current.taskId, kind: 'edit', prompt: follow, beforeUrl: currentUrl, request: { model, input } }]);
      setSelected(taskId);
      setEditPrompt('');
    } catch (err) {
      setError(describeError(err));
    } finally {
      setSubmitting(false);
    }
  }

  async function runBatch(kind: Batch['kind']) {
    if (!current?.request) return;
    const base = current.request;
    const baseSpec = MODELS[base.model] ?? spec;
    setError(null);
    setSubmitting(true);
    const plans: { label: string; request: SentRequest }[] =
      kind === 'variants'
        ? Array.from({ length: 4 }, () => {
            const seed = pickSeed('');
            return { label: `Seed ${seed}`, request: { model: base.model, input: { ...base.input, seed } } };
          })
        : ASPECT_SET.map((ratio) => {
            // Keep the resolution when the rules allow it at this ratio; otherwise use the model default.
            const resolution = comboProblem(baseSpec, ratio, base.input.resolution) ? baseSpec.defaultResolution : base.input.resolution;
            // scene_from: the server renders this task's exact plan and seed, only reframed.
            const input: StudioTaskInput = { ...base.input, aspect_ratio: ratio, resolution, scene_from: current.taskId };
            return { label: ratio, request: { model: base.model, input } };
          });
    try {
      const items = await Promise.all(plans.map(async (p) => ({ taskId: await send(p.request), label: p.label, request: p.request })));
      setBatch({ kind, fromTaskId: current.taskId, items });
    } catch (err) {
      setError(describeError(err));
    } finally {
      setSubmitting(false);
    }
  }

  function pickFromBatch(taskId: string) {
    if (!batch) return;
    const item = batch.items.find((i) => i.taskId === taskId);
    if (!item) return;
    const from = turns.find((t) => t.taskId === batch.fromTaskId);
    if (!turns.some((t) => t.taskId === taskId)) {
      setTurns((ts) => [
        ...ts,
        {
          taskId,
          parentId: batch.fromTaskId,
          kind: batch.kind === 'variants' ? 'variant' : 'aspect',
          prompt: `${item.request.input.prompt} (${item.label})`,
          beforeUrl: from?.beforeUrl ?? null,
          request: item.request,
        },
      ]);
    }
    setSelected(taskId);
  }

  function openFromHistory(task: TaskObject) {
    setTasks((ts) => ({ ...ts, [task.taskId]: task }));
    if (!turns.some((t) => t.taskId === task.taskId)) {
      const parent = (task.reshoot?.lineage as { parent?: string } | undefined)?.parent ?? null;
      const parentTask = parent ? tasks[parent] : undefined;
      setTurns((ts) => [
        ...ts,
        {
          taskId: task.taskId,
          parentId: parent && ts.some((t) => t.taskId === parent) ? parent : null,
          kind: 'history',
          prompt: describePlan(task.reshoot?.plan) ?? `Task ${task.taskId}`,
          beforeUrl: parentTask?.output?.[0]?.url ?? null,
          request: null,
        },
      ]);
    }
    setSelected(task.taskId);
    setView('studio');
  }

  function signOut() {
    saveKey(null);
    // Another key cannot see these tasks; start the next session clean.
    clearSession();
    setRefs([]);
    setTurns([]);
    setSelected(null);
    setBatch(null);
    setTasks({});
    setGateNotice(null);
    setKey(null);
  }

  if (!key) {
    return (
      <KeyGate
        api={api}
        notice={gateNotice}
        onKey={(k) => {
          saveKey(k);
          setKey(k);
          setGateNotice(null);
        }}
      />
    );
  }

  const requested = current?.request?.input;
  const fallbackSize = requested && requested.aspect_ratio !== 'auto' ? outputSize(requested.aspect_ratio, requested.resolution) : { width: 1024, height: 1024 };
  const busyCurrent = current && !isTerminal(currentTask);
  const frameStyle = `aspect-ratio: ${fallbackSize.width} / ${fallbackSize.height}; --ar: ${(fallbackSize.width / fallbackSize.height).toFixed(4)}`;

  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <div class="brand">
          <span class="brand-mark" aria-hidden="true" />
          reshoot <span class="brand-sub">studio</span>
        </div>
        <nav class="tabs" aria-label="Views">
          <button type="button" class="tab" aria-current={view === 'studio' ? 'page' : undefined} onClick={() => setView('studio')}>
            Studio
          </button>
          <button type="button" class="tab" aria-current={view === 'history' ? 'page' : undefined} onClick={() => setView('history')}>
            History
          </button>
        </nav>
        <div class="keybox">
          <span class="muted small" title="API key in use">
            Key <code>{maskKey(key)}</code>
          </span>
          <button type="button" class="btn btn-quiet btn-small" onClick={signOut}>
            Change key
          </button>
        </div>
      </header>

      {view === 'history' ? (
        <History api={api} onOpen={openFromHistory} />
      ) : (
        <main class="studio" id="main">
          <form class="controls" onSubmit={generate} aria-label="New render">
            <References
              refs={refs}
              max={spec.maxRefs}
              withRoles={spec.tier === 'pro'}
              onFiles={addFiles}
              onUrl={addUrl}
              onRemove={removeRef}
              onRole={(id, role: Reference['role']) => setRefs((rs) => rs.map((r) => (r.id === id ? { ...r, role } : r)))}
            />
            <PromptPanel prompt={prompt} reading={reading} onPrompt={setPrompt} />
            <FormatPanel choice={format} onChange={(c) => setFormat(fitFormat(c))} />
            <SceneControls value={scene} plan={reading.plan} onChange={setScene} />
            <div class="generate">
              {(error || (showBlocker && blocker)) && (
                <p class="error" role="alert">
                  {showBlocker && blocker ? blocker : error}
                </p>
              )}
              <button type="submit" class="btn btn-primary btn-block btn-large" disabled={submitting} aria-disabled={blocker !== null ? 'true' : undefined} aria-describedby="generate-hint">
                {submitting ? 'Sending…' : 'Generate'}
              </button>
              <p id="generate-hint" class="muted small center">
                {showBlocker && blocker ? '' : (blocker ?? `${spec.tier === 'pro' ? 'Pro' : 'Standard'} · ${format.aspectRatio} · ${format.resolution}`)}
              </p>
            </div>
          </form>

          <section class="stage" ref={stageRef} aria-label="Result">
            {!current && (
              <div class="empty-stage">
                <div class="empty-art" aria-hidden="true">
                  <span />
                </div>
                <h1>Put your product in a new scene</h1>
                <p class="muted">Add a packshot, describe the scene or pick a preset, then generate. The product itself stays exactly as photographed.</p>
              </div>
            )}
            {current && busyCurrent && (
              <div class="stage-frame" style={frameStyle}>
                <Progress task={currentTask} startedAt={startedAt[current.taskId] ?? Date.now()} />
              </div>
            )}
            {current && currentTask?.status === 'fail' && (
              <div class="stage-frame stage-failed" role="alert">
                <div>
                  <h2>This render failed</h2>
                  <p>{currentTask.error?.message ?? 'No reason was given.'}</p>
                  {currentTask.error?.code && <code class="small">{currentTask.error.code}</code>}
                </div>
              </div>
            )}
            {current && currentTask?.status === 'success' && currentUrl && (
              <>
                <Compare
                  before={current.beforeUrl}
                  after={currentUrl}
                  width={fallbackSize.width}
                  height={fallbackSize.height}
                  alt={`Result: ${current.prompt}`}
                />
                <ResultPanel task={currentTask} seed={current.request?.input.seed} />
                <div class="actions">
                  <form class="edit-form" onSubmit={edit}>
                    <label class="field field-grow">
                      <span class="label">Edit this result</span>
                      <input
                        type="text"
                        name="editPrompt"
                        placeholder="e.g. make the light warmer, move the product to the left third"
                        value={editPrompt}
                        onInput={(e) => setEditPrompt(e.currentTarget.value)}
                      />
                    </label>
                    <button type="submit" class="btn btn-primary" disabled={submitting || !editPrompt.trim()}>
                      Apply edit
                    </button>
                  </form>
                  {current.request && (
                    <div class="batch-buttons">
                      <button type="button" class="btn" disabled={submitting} onClick={() => runBatch('variants')}>
                        4 variants
                      </button>
                      <button type="button" class="btn" disabled={submitting} onClick={() => runBatch('aspects')}>
                        Aspect set (1:1, 4:5, 16:9, 9:16)
                      </button>
                    </div>
                  )}
                </div>
              </>
            )}
            {batch && <BatchGrid batch={batch} tasks={tasks} onPick={pickFromBatch} onClose={() => setBatch(null)} />}
            <Timeline turns={turns} tasks={tasks} selected={selected} onSelect={setSelected} />
          </section>
        </main>
      )}
    </div>
  );
}
