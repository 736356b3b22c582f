import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { MODELS, comboProblem, outputSize } from '../../../src/contract/models.js';
import type { ApiClient, StudioTaskInput } from '../api.js';
import { UPSCALE_WARNING, estimateUpscale, measureImage } from '../image-box.js';
import { ENGINE_LABELS, engineOf, engineRequest, fitEngineChoice, loadEngineChoice, saveEngineChoice, type EngineChoice } from '../engine-choice.js';
import { FIXED_CUTOUT_EVENT, withFixedCutout, type FixedCutout } from '../matte-brush.js';
import { describeError, readableFields } from '../messages.js';
import { readPrompt } from '../planner.js';
import { EMPTY_SCENE, sceneOverride, type SceneSettings } from '../scene-settings.js';
import {
  DEFAULT_FORMAT,
  absoluteUrl,
  contentKey,
  duplicateOf,
  fitFormat,
  loadSession,
  pickSeed,
  rolesFor,
  saveSession,
  type FormatChoice,
  type Reference,
} from '../state.js';
import type { Workspace } from '../workspace.js';
import { EnginePanel, useServedRoutes } from './engine-panel.js';
import { FormatPanel, usePriceRows } from './format-panel.js';
import { studioPrice } from '../route-price.js';
import { PromptPanel } from './prompt-panel.js';
import { SceneLibraryPanel, useSceneLibrary } from './scene-library.js';
import { References, type PendingDuplicate } from './references.js';
import { SceneControls } from './scene-controls.js';

const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;
let refCounter = 0;
// Unique across reloads too: restored references keep the ids they were saved with.
const newRefId = () => `ref-${Date.now().toString(36)}-${++refCounter}`;

interface Props {
  api: ApiClient;
  workspace: Pick<Workspace, 'addTurn' | 'track'>;
  /** a pasted image arrived while another view was showing */
  onPasted: () => void;
  /** a render was sent: bring its progress into view */
  onSent: () => void;
}

/** Everything before Generate: references, prompt, format and fine controls, kept across reloads. */
export function RenderForm({ api, workspace, onPasted, onSent }: Props) {
  const [saved] = useState(() => loadSession().form);
  const [refs, setRefs] = useState<Reference[]>(saved?.refs ?? []);
  const [prompt, setPrompt] = useState(saved?.prompt ?? '');
  const [format, setFormat] = useState<FormatChoice>(saved?.format ?? DEFAULT_FORMAT);
  const [scene, setScene] = useState<SceneSettings>(() => ({ ...EMPTY_SCENE, ...(saved?.scene as Partial<SceneSettings> | undefined) }));
  const [duplicates, setDuplicates] = useState<PendingDuplicate[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const [showBlocker, setShowBlocker] = useState(false);
  // the engine (route) and the product lock, kept in this browser like the form
  const served = useServedRoutes(api);
  // the Output panel's price is the picked route's (a generative upstream's price plus margin), not the model's list price
  const priceRows = usePriceRows(api);
  const [engineChoice, setEngineChoice] = useState<EngineChoice>(loadEngineChoice);
  const engine = fitEngineChoice(engineChoice, served);
  useEffect(() => saveEngineChoice(engineChoice), [engineChoice]);

  useEffect(() => saveSession({ form: { refs, prompt, format, scene } }), [refs, prompt, format, scene]);

  const spec = MODELS[format.model]!;
  const override = useMemo(() => sceneOverride(scene), [scene]);
  // the server's scene library: a tag in the prompt reads as that photo
  const library = useSceneLibrary(api);
  const reading = useMemo(() => readPrompt(prompt, override, library), [prompt, override, library]);

  // Size and product box of every reference the page can read, for the low-resolution warning.
  useEffect(() => {
    for (const r of refs) {
      if (r.measured !== undefined || r.status === 'error') continue;
      void measureImage(r.preview).then((m) =>
        setRefs((rs) => rs.map((x) => (x.id === r.id && x.measured === undefined ? { ...x, measured: m ?? { width: 0, height: 0, box: null } } : x))),
      );
    }
  }, [refs]);

  const upload = useCallback(
    (file: File, content: string) => {
      const id = newRefId();
      const name = file.name || 'pasted image';
      const ref: Reference = { id, name, url: null, preview: URL.createObjectURL(file), role: 'auto', status: 'uploading', content };
      if (file.size > MAX_UPLOAD_BYTES) {
        setRefs((rs) => [...rs, { ...ref, status: 'error', error: 'Larger than 20 MB.' }]);
        return;
      }
      setRefs((rs) => [...rs, ref]);
      api
        .upload(file, name)
        .then((url) => setRefs((rs) => rs.map((r) => (r.id === id ? { ...r, url: absoluteUrl(url), status: 'ready' } : r))))
        .catch((err: Error) => setRefs((rs) => rs.map((r) => (r.id === id ? { ...r, status: 'error', error: describeError(err) } : r))));
    },
    [api],
  );

  const addFiles = useCallback(
    async (files: File[]) => {
      setError(null);
      const room = spec.maxRefs - refs.length;
      if (room <= 0) {
        setError(`This model takes at most ${spec.maxRefs} reference images.`);
        return;
      }
      const taken = refs.map((r) => ({ content: r.content, status: r.status }));
      const held: PendingDuplicate[] = [];
      for (const file of files.slice(0, room)) {
        const content = await contentKey(file);
        const same = duplicateOf(taken, content);
        taken.push({ content, status: 'uploading' });
        // The same picture twice renders the product twice: ask first.
        if (same >= 0) held.push({ file, content, of: same < refs.length ? refs[same]!.name : (file.name || 'pasted image') });
        else upload(file, content);
      }
      if (held.length) setDuplicates((d) => [...d, ...held]);
    },
    [refs, spec.maxRefs, upload],
  );

  const addUrl = async (url: string) => {
    if (refs.length >= spec.maxRefs) return;
    const content = await contentKey(url);
    const same = duplicateOf(refs, content);
    if (same >= 0) {
      setError(`That link is already reference ${same + 1}.`);
      return;
    }
    const id = newRefId();
    const name = url.split('/').pop()?.split('?')[0] || url;
    setRefs((rs) => [...rs, { id, name, url, preview: url, role: 'auto', status: 'ready', content }]);
  };

  const removeRef = (id: string) =>
    setRefs((rs) => {
      const gone = rs.find((r) => r.id === id);
      if (gone?.preview.startsWith('blob:')) URL.revokeObjectURL(gone.preview);
      return rs.filter((r) => r.id !== id);
    });

  // A cutout fixed on the stage replaces the reference it was painted on, so new renders use it too.
  useEffect(() => {
    const onFixed = (e: Event) => setRefs((rs) => withFixedCutout(rs, (e as CustomEvent<FixedCutout>).detail));
    document.addEventListener(FIXED_CUTOUT_EVENT, onFixed);
    return () => document.removeEventListener(FIXED_CUTOUT_EVENT, onFixed);
  }, []);

  // Paste an image anywhere on the page; a paste without image files (text) is left alone.
  useEffect(() => {
    const onPaste = (e: ClipboardEvent) => {
      const files = [...(e.clipboardData?.files ?? [])].filter((f) => f.type.startsWith('image/'));
      if (!files.length) return;
      e.preventDefault();
      onPasted();
      void addFiles(files);
    };
    document.addEventListener('paste', onPaste);
    return () => document.removeEventListener('paste', onPaste);
  }, [addFiles, onPasted]);

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
          : duplicates.length
            ? 'Answer the question about the repeated image first.'
            : refs.some((r) => r.status === 'error')
              ? 'Remove the image that could not be uploaded (marked in red).'
              : !prompt.trim()
                ? 'Write a prompt or pick a preset.'
                : combo
                  ? `This combination is not allowed: ${readableFields(combo)}.`
                  : reading.problem
                    ? `Fine controls: ${readableFields(reading.problem)}`
                    : null;

  // The first product's enlargement for the chosen output, when its box could be measured.
  const first = readyRefs.find((r) => r.role === 'auto' || r.role === 'product');
  const box = first?.measured?.box;
  const upscale =
    box && first.measured && reading.plan
      ? estimateUpscale(box, reading.plan.framing.size, outputSize(format.aspectRatio, format.resolution, first.measured))
      : null;
  const lowRes =
    upscale !== null && upscale > UPSCALE_WARNING
      ? `The product in image ${readyRefs.indexOf(first!) + 1} is ${Math.round(box!.height)} px tall; at ${format.resolution} it will be enlarged about ${upscale.toFixed(1)}× and look soft. Use a larger photo or a lower resolution.`
      : null;

  // which engine renders, when the server offers more than one (or its default paints)
  const engineName = engineOf(engine.route, served);
  const engineHint = served.routes.length > 2 || (engineName && engineName !== 'studio') ? ` · ${ENGINE_LABELS[engineName as keyof typeof ENGINE_LABELS] ?? engineName ?? ''}` : '';

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
    const { route, lock } = engineRequest(engine, served);
    if (lock) input.lock = lock;
    try {
      const taskId = await api.createTask(format.model, input, route);
      workspace.track(taskId);
      workspace.addTurn({
        taskId,
        parentId: null,
        kind: 'new',
        prompt: input.prompt,
        beforeUrl: readyRefs[0]!.url ?? readyRefs[0]!.preview,
        beforeKind: 'source',
        request: { model: format.model, input, ...(route ? { route } : {}) },
      });
      onSent();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setSubmitting(false);
    }
  }

  const answerDuplicate = (keep: boolean) => {
    const [head, ...rest] = duplicates;
    setDuplicates(rest);
    if (head && keep) upload(head.file, head.content);
  };

  return (
    <form class="controls" onSubmit={generate} aria-label="New render">
      <References
        refs={refs}
        max={spec.maxRefs}
        withRoles={spec.tier === 'pro'}
        duplicate={duplicates[0] ?? null}
        lowRes={lowRes}
        onFiles={(files) => void addFiles(files)}
        onUrl={(url) => void addUrl(url)}
        onRemove={removeRef}
        onRole={(id, role: Reference['role']) => setRefs((rs) => rs.map((r) => (r.id === id ? { ...r, role } : r)))}
        onDuplicate={answerDuplicate}
      />
      <PromptPanel prompt={prompt} reading={reading} onPrompt={setPrompt} />
      <SceneLibraryPanel scenes={library} prompt={prompt} onPrompt={setPrompt} />
      <EnginePanel served={served} choice={engine} onChange={setEngineChoice} idPrefix="studio" />
      <FormatPanel choice={format} onChange={(c) => setFormat(fitFormat(c))} priceOf={(model) => studioPrice(priceRows, model, engine.route, format)} />
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
          {showBlocker && blocker ? '' : (blocker ?? `${spec.tier === 'pro' ? 'Pro' : 'Standard'} · ${format.aspectRatio} · ${format.resolution}${engineHint}`)}
        </p>
      </div>
    </form>
  );
}
