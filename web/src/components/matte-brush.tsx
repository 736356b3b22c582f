import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ApiClient } from '../api.js';
import { describeError } from '../messages.js';
import { MatteEditor, channelOf, composeRgba, cutoutRect, encodePng, tintRect, type BrushMode, type Point, type Rect } from '../matte-brush.js';

interface Props {
  api: ApiClient;
  /** the task whose matte is edited (the selected turn) */
  taskId: string;
  /** the task whose reference is the untouched photo (photoTaskFor) */
  photoTaskId: string;
  busy: boolean;
  /** the fixed reference: the photo's pixels with the edited alpha, as an RGBA PNG at the photo's size */
  onSave: (png: Blob) => void;
  onCancel: () => void;
}

interface Loaded {
  width: number;
  height: number;
  /** the photo, RGBA, opaque */
  photo: ImageData;
  editor: MatteEditor;
}

/** Draws a blob into a canvas of `width` × `height` (its own size by default) and reads the pixels back. */
async function pixelsOf(blob: Blob, size?: { width: number; height: number }): Promise<ImageData> {
  const bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image' });
  const width = size?.width ?? bitmap.width;
  const height = size?.height ?? bitmap.height;
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  return ctx.getImageData(0, 0, width, height);
}

const MIN_BRUSH = 2;
const MAX_BRUSH = 120;

/**
 * Fix cutout: the reference photo with what the cutout removed tinted red (or the cutout alone over a
 * checker), a round brush that erases (background) or restores (product), its size, undo, redo and
 * reset; mouse, pen and touch. Saving hands back the photo with the edited alpha, which the stage
 * uploads and renders as this turn's reference.
 */
export function MatteBrush({ api, taskId, photoTaskId, busy, onSave, onCancel }: Props) {
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [mode, setMode] = useState<BrushMode>('erase');
  // the brush's radius in screen pixels, so it feels the same whatever the photo's size
  const [size, setSize] = useState(18);
  const [preview, setPreview] = useState(false);
  // bumped after each change of the editor (it is mutable), so the buttons follow
  const [version, setVersion] = useState(0);
  const [saving, setSaving] = useState(false);
  // the brush outline follows the pointer without re-rendering the panel
  const cursor = useRef<HTMLSpanElement>(null);
  const baseCanvas = useRef<HTMLCanvasElement>(null);
  const overlayCanvas = useRef<HTMLCanvasElement>(null);
  const figure = useRef<HTMLElement>(null);
  const drawing = useRef<number | null>(null);

  useEffect(() => {
    let gone = false;
    setLoaded(null);
    setError(null);
    (async () => {
      const [photoBlob, matteBlob] = await Promise.all([
        api.image(`/v1/tasks/${encodeURIComponent(photoTaskId)}/source?ref=0`),
        api.image(`/v1/tasks/${encodeURIComponent(taskId)}/matte?ref=0`),
      ]);
      const photo = await pixelsOf(photoBlob);
      // the matte is at the size the engine worked at: the photo's own, unless the photo is very large
      const matte = await pixelsOf(matteBlob, photo);
      if (gone) return;
      setLoaded({ width: photo.width, height: photo.height, photo, editor: new MatteEditor({ width: photo.width, height: photo.height, alpha: channelOf(matte.data) }) });
    })().catch((err: unknown) => {
      if (!gone) setError(`The cutout could not be loaded: ${describeError(err)}`);
    });
    return () => {
      gone = true;
    };
  }, [api, taskId, photoTaskId]);

  /** Repaints the overlay (tint or cutout) inside `rect`. */
  const paint = useCallback(
    (rect: Rect | null) => {
      const ctx = overlayCanvas.current?.getContext('2d');
      if (!loaded || !ctx || !rect) return;
      const img = ctx.createImageData(rect.width, rect.height);
      if (preview) cutoutRect(loaded.photo.data, loaded.editor.alpha, loaded.width, rect, img.data);
      else tintRect(loaded.editor.alpha, loaded.width, rect, img.data);
      ctx.putImageData(img, rect.x, rect.y);
    },
    [loaded, preview],
  );

  // the button that opens this sits below the picture: bring the brush and its tools into view
  const root = useRef<HTMLDivElement>(null);
  useEffect(() => root.current?.scrollIntoView({ block: 'nearest', behavior: 'smooth' }), [loaded]);

  useEffect(() => {
    const ctx = baseCanvas.current?.getContext('2d');
    if (!loaded || !ctx) return;
    ctx.putImageData(loaded.photo, 0, 0);
  }, [loaded]);
  useEffect(() => paint(loaded && { x: 0, y: 0, width: loaded.width, height: loaded.height }), [loaded, paint]);

  const changed = (rect: Rect | null) => {
    paint(rect);
    setVersion((v) => v + 1);
  };

  /** The pointer in photo pixels, and the brush's radius there. */
  function toPhoto(e: PointerEvent): { p: Point; radius: number } {
    const r = overlayCanvas.current!.getBoundingClientRect();
    const k = loaded!.width / r.width;
    return { p: { x: (e.clientX - r.left) * k, y: (e.clientY - r.top) * k }, radius: Math.max(0.5, size * k) };
  }

  function onPointerDown(e: PointerEvent) {
    if (!loaded || busy || saving || (e.pointerType === 'mouse' && e.button !== 0)) return;
    e.preventDefault();
    (e.currentTarget as Element).setPointerCapture(e.pointerId);
    drawing.current = e.pointerId;
    const { p, radius } = toPhoto(e);
    paint(loaded.editor.begin(p, radius, mode));
  }

  function onPointerMove(e: PointerEvent) {
    const r = figure.current!.getBoundingClientRect();
    const c = cursor.current;
    if (c) {
      c.style.transform = `translate(${e.clientX - r.left}px, ${e.clientY - r.top}px)`;
      c.hidden = false;
    }
    if (!loaded || drawing.current !== e.pointerId) return;
    // every point the pointer passed since the last event, so a quick stroke stays smooth
    for (const ev of e.getCoalescedEvents?.() ?? [e]) {
      const { p, radius } = toPhoto(ev);
      paint(loaded.editor.extend(p, radius, mode));
    }
  }

  function onPointerUp(e: PointerEvent) {
    if (drawing.current !== e.pointerId) return;
    drawing.current = null;
    loaded?.editor.end();
    setVersion((v) => v + 1);
  }

  // Ctrl+Z / Ctrl+Shift+Z (⌘ on a Mac), E and R for the brush, [ and ] for its size
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!loaded || (e.target as Element | null)?.closest?.('input[type=text], textarea')) return;
      const mod = e.ctrlKey || e.metaKey;
      if (mod && e.key.toLowerCase() === 'z') changed(e.shiftKey ? loaded.editor.redo() : loaded.editor.undo());
      else if (mod && e.key.toLowerCase() === 'y') changed(loaded.editor.redo());
      else if (!mod && e.key === 'e') setMode('erase');
      else if (!mod && e.key === 'r') setMode('restore');
      else if (!mod && e.key === '[') setSize((s) => Math.max(MIN_BRUSH, Math.round(s / 1.25)));
      else if (!mod && e.key === ']') setSize((s) => Math.min(MAX_BRUSH, Math.round(s * 1.25)));
      else return;
      e.preventDefault();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  });

  async function save() {
    if (!loaded) return;
    setSaving(true);
    try {
      const png = await encodePng(composeRgba(loaded.photo.data, loaded.editor.alpha), loaded.width, loaded.height);
      onSave(new Blob([png as BlobPart], { type: 'image/png' }));
    } finally {
      setSaving(false);
    }
  }

  const ed = loaded?.editor;
  // a scan of the whole matte: once per change, not per render
  const edited = useMemo(() => ed?.edited ?? false, [ed, version]);
  const ratio = loaded ? loaded.width / loaded.height : 1;
  return (
    <div class="matte-brush" aria-label="Fix cutout" ref={root}>
      <figure
        class={`matte-frame${preview ? ' matte-preview' : ''}`}
        style={`aspect-ratio: ${loaded ? `${loaded.width} / ${loaded.height}` : '1 / 1'}; --ar: ${ratio.toFixed(4)}`}
        ref={figure}
        onPointerLeave={() => {
          if (cursor.current) cursor.current.hidden = true;
        }}
      >
        {!loaded && !error && <p class="matte-status muted">Loading the cutout…</p>}
        {error && (
          <p class="matte-status error" role="alert">
            {error}
          </p>
        )}
        {loaded && (
          <>
            <canvas ref={baseCanvas} class="matte-photo" width={loaded.width} height={loaded.height} hidden={preview} />
            <canvas
              ref={overlayCanvas}
              class="matte-overlay"
              width={loaded.width}
              height={loaded.height}
              role="img"
              aria-label={`The product photo, ${preview ? 'cut out over a checker' : 'with what the cutout removes tinted red'}. Drag to ${mode === 'erase' ? 'erase' : 'restore'}.`}
              onPointerDown={onPointerDown}
              onPointerMove={onPointerMove}
              onPointerUp={onPointerUp}
              onPointerCancel={onPointerUp}
            />
            <span ref={cursor} hidden class={`matte-cursor matte-cursor-${mode}`} aria-hidden="true" style={`width: ${size * 2}px; height: ${size * 2}px; margin: -${size}px 0 0 -${size}px`} />
          </>
        )}
      </figure>
      <div class="matte-tools" role="toolbar" aria-label="Brush">
        <fieldset class="segmented matte-mode">
          <legend class="sr-only">Brush</legend>
          {(['erase', 'restore'] as const).map((m) => (
            <label class="seg" key={m}>
              <input type="radio" name="matte-mode" value={m} checked={mode === m} onChange={() => setMode(m)} />
              <span>
                {m === 'erase' ? 'Erase' : 'Restore'}
                <span class="seg-sub">{m === 'erase' ? 'to background' : 'to product'}</span>
              </span>
            </label>
          ))}
        </fieldset>
        <label class="matte-size">
          <span class="label">Brush size</span>
          <input type="range" min={MIN_BRUSH} max={MAX_BRUSH} value={size} onInput={(e) => setSize(Number(e.currentTarget.value))} />
          <span class="small muted">{size * 2} px</span>
        </label>
        <div class="matte-history">
          <button type="button" class="btn btn-small" disabled={!ed?.canUndo} onClick={() => changed(ed!.undo())} title="Ctrl+Z">
            Undo
          </button>
          <button type="button" class="btn btn-small" disabled={!ed?.canRedo} onClick={() => changed(ed!.redo())} title="Ctrl+Shift+Z">
            Redo
          </button>
          <button type="button" class="btn btn-small" disabled={!edited} onClick={() => changed(ed!.reset())}>
            Reset
          </button>
          <label class="check small">
            <input type="checkbox" checked={preview} onChange={(e) => setPreview(e.currentTarget.checked)} /> Show the cutout
          </label>
        </div>
      </div>
      <div class="reframe-bar">
        <p class="muted small">
          Red is what the cutout leaves out. <strong>Erase</strong> paints background, <strong>Restore</strong> paints product back; the
          render after saving uses your cutout, and so do later edits of it.
        </p>
        <div class="reframe-actions">
          <button type="button" class="btn" onClick={onCancel}>
            Cancel
          </button>
          <button type="button" class="btn btn-primary" disabled={!edited || busy || saving} onClick={() => void save()}>
            {busy || saving ? 'Saving…' : 'Save and re-render'}
          </button>
        </div>
      </div>
    </div>
  );
}
