import { useEffect, useState } from 'preact/hooks';
import { MODELS, comboProblem, outputSize } from '../../../src/contract/models.js';
import type { ScenePlan } from '../../../src/contract/scene.js';
import type { ApiClient, StudioTaskInput, TaskObject } from '../api.js';
import { UPSCALE_WARNING, readPlacement } from '../image-box.js';
import { describeError } from '../messages.js';
import { describeChanges } from '../planner.js';
import { variantScenes } from '../scene-settings.js';
import { FIXED_CUTOUT_EVENT, photoTaskFor, referenceUrls, type FixedCutout } from '../matte-brush.js';
import { absoluteUrl, beforeKindOf, contentKey, isTerminal, pickSeed, type Batch, type SentRequest } from '../state.js';
import type { Workspace } from '../workspace.js';
import { BatchGrid } from './batch-grid.js';
import { Compare } from './compare.js';
import { TaskFailure } from './lock-report.js';
import { MatteBrush } from './matte-brush.js';
import { Reframe } from './reframe.js';
import { ResultPanel } from './result-panel.js';
import { Timeline } from './timeline.js';

const ASPECT_SET = ['1:1', '4:5', '16:9', '9:16'] as const;

const STEPS = [
  { status: 'queued', label: 'Queued' },
  { status: 'handling', label: 'Rendering' },
  { status: 'archiving', label: 'Saving' },
  { status: 'success', label: 'Done' },
] as const;

/** Queued → rendering → saving → done, with the time spent so far. */
export function Progress({ task, startedAt }: { task: TaskObject | undefined; startedAt: number }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(t);
  }, []);
  const status = task?.status ?? 'queued';
  const current = STEPS.findIndex((s) => s.status === status);
  const seconds = Math.max(0, (now - startedAt) / 1000);
  const label = STEPS[Math.max(0, current)]!.label;
  return (
    <div class="progress" role="status" aria-live="polite" aria-label={`${label}, ${seconds.toFixed(0)} seconds`}>
      <div class="progress-spinner" aria-hidden="true" />
      <ol class="steps">
        {STEPS.map((s, i) => (
          <li key={s.status} class={i < current ? 'step-done' : i === current ? 'step-now' : 'step-next'} aria-current={i === current ? 'step' : undefined}>
            {s.label}
          </li>
        ))}
      </ol>
      <p class="muted small" aria-hidden="true">
        {seconds.toFixed(1)} s
      </p>
    </div>
  );
}

interface StageProps {
  api: ApiClient;
  workspace: Workspace;
}

/**
 * The selected turn (progress, failure or result with the before/after slider), the edit box,
 * variants and aspect sets, and the timeline. The result is sized to the stage, never squeezed by
 * what follows it.
 */
export function Stage({ api, workspace }: StageProps) {
  const { turns, tasks, selected, startedAt } = workspace;
  const [editPrompt, setEditPrompt] = useState('');
  const [batch, setBatch] = useState<Batch | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const [reframing, setReframing] = useState(false);
  const [fixing, setFixing] = useState(false);
  // moving the product, or fixing its cutout, is about the turn it was started on
  useEffect(() => {
    setReframing(false);
    setFixing(false);
  }, [selected]);

  const current = turns.find((t) => t.taskId === selected) ?? null;
  const currentTask = current ? tasks[current.taskId] : undefined;
  const currentUrl = currentTask?.status === 'success' ? currentTask.output?.[0]?.url : undefined;

  async function send(request: SentRequest): Promise<string> {
    // the engine is kept across turns: a later turn renders with the route its first turn picked
    const taskId = await api.createTask(request.model, request.input, request.route ?? currentTask?.route);
    workspace.track(taskId);
    return taskId;
  }

  async function edit(e: Event) {
    e.preventDefault();
    const follow = editPrompt.trim();
    if (!current || !currentUrl || !follow) return;
    setError(null);
    setSubmitting(true);
    const base = current.request;
    const model = base?.model ?? currentTask!.model;
    const fallback = currentTask?.reshoot?.seed;
    const input: StudioTaskInput = {
      ...(base?.input ?? { aspect_ratio: 'auto', resolution: '1K' }),
      prompt: follow,
      // The server recognises its own output URL, reuses the original cutout and links the lineage.
      input_urls: [absoluteUrl(currentUrl), ...(base?.input.input_urls.slice(1) ?? [])],
      seed: base?.input.seed ?? (typeof fallback === 'number' ? fallback : pickSeed('')),
    };
    // The parent's plan already holds its explicit settings; re-sending them would pin what the
    // follow-up is trying to change ("light from the right instead").
    delete input.scene;
    delete input.scene_from;
    try {
      const taskId = await send({ model, input });
      workspace.addTurn({ taskId, parentId: current.taskId, kind: 'edit', prompt: follow, beforeUrl: currentUrl, beforeKind: 'result', request: { model, input } });
      setEditPrompt('');
    } catch (err) {
      setError(describeError(err));
    } finally {
      setSubmitting(false);
    }
  }

  async function runBatch(kind: Batch['kind']) {
    if (!current?.request || !currentTask) return;
    const base = current.request;
    const baseSpec = MODELS[base.model]!;
    setError(null);
    setSubmitting(true);
    const plan = currentTask.reshoot?.plan as ScenePlan | undefined;
    const plans: { label: string; request: SentRequest }[] =
      kind === 'variants'
        ? // the same prompt and seed; each take moves the light, the camera, the surface or the crop
          variantScenes(plan!, base.input.scene).map((v) => ({ label: v.label, request: { model: base.model, input: { ...base.input, scene: v.scene } } }))
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

  async function reframe(framing: Pick<ScenePlan['framing'], 'position' | 'size'>) {
    if (!current?.request) return;
    const base = current.request;
    setError(null);
    setSubmitting(true);
    // the same prompt, scene and seed; only the framing the person set on the canvas changes
    const scene = { ...base.input.scene, framing: { ...(base.input.scene?.framing as object | undefined), ...framing } };
    const request: SentRequest = { model: base.model, input: { ...base.input, scene } };
    try {
      const taskId = await send(request);
      const label = `${framing.position.replace(/-/g, ' ')}, size ${Math.round(framing.size * 100)} %`;
      workspace.addTurn({
        taskId,
        parentId: current.taskId,
        kind: 'reframe',
        prompt: `${base.input.prompt} (${label})`,
        beforeUrl: current.beforeUrl,
        beforeKind: beforeKindOf(current),
        request,
      });
      setReframing(false);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setSubmitting(false);
    }
  }

  /** Fix cutout saved: the photo with the edited alpha becomes this turn's product reference, rendered in the same scene. */
  async function renderFixedCutout(png: Blob) {
    if (!current?.request) return;
    const base = current.request;
    setError(null);
    setSubmitting(true);
    try {
      const url = absoluteUrl(await api.upload(png, 'fixed-cutout.png'));
      // scene_from: this turn's plan and seed exactly; only the product's cutout changes. Later edits of
      // the new turn inherit its reference, so they keep the fixed cutout too.
      const request: SentRequest = { model: base.model, input: { ...base.input, input_urls: [url, ...base.input.input_urls.slice(1)], scene_from: current.taskId } };
      const taskId = await send(request);
      workspace.addTurn({
        taskId,
        parentId: current.taskId,
        kind: 'matte',
        prompt: base.input.prompt,
        beforeUrl: currentUrl ?? null,
        beforeKind: 'result',
        request,
        matteFrom: photoTaskFor(turns, current.taskId),
      });
      setFixing(false);
      // the form's reference this photo came from becomes the fixed one, for new renders too
      const from = referenceUrls(turns, current.taskId);
      if (from.length) {
        const detail: FixedCutout = { from, url, preview: URL.createObjectURL(png), content: await contentKey(png) };
        document.dispatchEvent(new CustomEvent(FIXED_CUTOUT_EVENT, { detail }));
      }
    } catch (err) {
      setError(describeError(err));
    } finally {
      setSubmitting(false);
    }
  }

  function pickFromBatch(taskId: string) {
    const item = batch?.items.find((i) => i.taskId === taskId);
    if (!batch || !item) return;
    const from = turns.find((t) => t.taskId === batch.fromTaskId);
    workspace.addTurn({
      taskId,
      parentId: batch.fromTaskId,
      kind: batch.kind === 'variants' ? 'variant' : 'aspect',
      prompt: `${item.request.input.prompt} (${item.label})`,
      // an aspect set reframes, so only a result of the same frame can be wiped against it
      beforeUrl: batch.kind === 'variants' || (from && beforeKindOf(from) === 'source') ? (from?.beforeUrl ?? null) : null,
      beforeKind: from ? beforeKindOf(from) : 'result',
      request: item.request,
    });
  }

  const requested = current?.request?.input;
  const fallbackSize = requested && requested.aspect_ratio !== 'auto' ? outputSize(requested.aspect_ratio, requested.resolution) : { width: 1024, height: 1024 };
  const busyCurrent = current && !isTerminal(currentTask);
  const frameStyle = `aspect-ratio: ${fallbackSize.width} / ${fallbackSize.height}; --ar: ${(fallbackSize.width / fallbackSize.height).toFixed(4)}`;
  const placement = readPlacement(currentTask?.reshoot?.placement);
  const changes = describeChanges(currentTask?.reshoot?.plan);
  const plan = currentTask?.reshoot?.plan as ScenePlan | undefined;
  const canVary = Boolean(current?.request && plan?.light);
  // moving the product re-lays a studio scene; a scene photo places it by its own reading
  const canReframe = Boolean(current?.request && current.request.input.aspect_ratio !== 'auto' && plan?.framing && placement && !plan.scene_photo);
  // the first reference is a product whose matte the worker kept
  const canFixCutout = Boolean(current?.request && currentTask?.reshoot?.mattes?.some((m) => m.ref === 0));

  return (
    <>
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
          <TaskFailure task={currentTask} />
        </div>
      )}
      {current && currentTask?.status === 'success' && currentUrl && (
        <>
          {fixing && canFixCutout ? (
            <MatteBrush
              key={current.taskId}
              api={api}
              taskId={current.taskId}
              photoTaskId={photoTaskFor(turns, current.taskId)}
              busy={submitting}
              onSave={(png) => void renderFixedCutout(png)}
              onCancel={() => setFixing(false)}
            />
          ) : reframing && canReframe ? (
            <Reframe
              key={current.taskId}
              after={currentUrl}
              width={fallbackSize.width}
              height={fallbackSize.height}
              framing={plan!.framing}
              placement={placement!}
              busy={submitting}
              onApply={(f) => void reframe(f)}
              onCancel={() => setReframing(false)}
            />
          ) : (
            <Compare
              before={current.beforeUrl}
              beforeKind={beforeKindOf(current)}
              placement={placement}
              after={currentUrl}
              width={fallbackSize.width}
              height={fallbackSize.height}
              alt={`Result: ${current.prompt}`}
            />
          )}
          {changes.length > 0 && (
            <div class="changes" aria-label="What this edit changed">
              <span class="label">Changed</span>
              <ul>
                {changes.map((c) => (
                  <li key={c}>{c}</li>
                ))}
              </ul>
            </div>
          )}
          {placement && placement.upscale > UPSCALE_WARNING && (
            <p class="notice" role="status">
              The product was enlarged {placement.upscale.toFixed(1)}× from its photo, so it may look soft. A larger photo, or a lower resolution, keeps it sharp.
            </p>
          )}
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
                <button type="button" class="btn" disabled={submitting || !canVary} onClick={() => runBatch('variants')}>
                  4 variants
                </button>
                <button type="button" class="btn" disabled={submitting} onClick={() => runBatch('aspects')}>
                  Aspect set (1:1, 4:5, 16:9, 9:16)
                </button>
                <button type="button" class="btn" disabled={submitting || !canReframe} aria-pressed={reframing} onClick={() => {
                    setFixing(false);
                    setReframing(!reframing);
                  }}>
                  Move or resize
                </button>
                <button type="button" class="btn" disabled={submitting || !canFixCutout} aria-pressed={fixing} onClick={() => {
                    setReframing(false);
                    setFixing(!fixing);
                  }}>
                  Fix cutout
                </button>
              </div>
            )}
            {error && (
              <p class="error" role="alert">
                {error}
              </p>
            )}
          </div>
        </>
      )}
      {batch && <BatchGrid batch={batch} tasks={tasks} onPick={pickFromBatch} onClose={() => setBatch(null)} />}
      <Timeline turns={turns} tasks={tasks} selected={selected} onSelect={workspace.select} />
    </>
  );
}
