import { useEffect, useState } from 'preact/hooks';
import type { TaskObject } from '../api.js';

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

interface CompareProps {
  before: string | null;
  after: string;
  width: number;
  height: number;
  alt: string;
}

/**
 * The result with the original under a draggable divider. A range input drives it, so arrow keys
 * and screen readers work the same as a pointer.
 */
export function Compare({ before, after, width, height, alt }: CompareProps) {
  const [pos, setPos] = useState(50);
  const [natural, setNatural] = useState<{ src: string; w: number; h: number } | null>(null);
  const dims = natural?.src === after ? natural : { w: width, h: height };
  const frame = `aspect-ratio: ${dims.w} / ${dims.h}; --ar: ${(dims.w / dims.h).toFixed(4)}`;
  const onLoad = (e: Event) => {
    const img = e.currentTarget as HTMLImageElement;
    if (img.naturalWidth) setNatural({ src: after, w: img.naturalWidth, h: img.naturalHeight });
  };
  if (!before) {
    return (
      <figure class="compare" style={frame}>
        <img class="compare-after" src={after} alt={alt} onLoad={onLoad} />
      </figure>
    );
  }
  return (
    <figure class="compare" style={frame}>
      <img class="compare-after" src={after} alt={alt} onLoad={onLoad} />
      <div class="compare-before" style={{ clipPath: `inset(0 ${100 - pos}% 0 0)` }} aria-hidden="true">
        {/* The source keeps its own shape; a blurred copy fills the rest of the frame instead of bars. */}
        <img class="compare-fill" src={before} alt="" />
        <img class="compare-source" src={before} alt="" />
      </div>
      <div class="compare-line" style={{ left: `${pos}%` }} aria-hidden="true">
        <span class="compare-knob" />
      </div>
      <span class="compare-tag compare-tag-before" aria-hidden="true">
        Before
      </span>
      <span class="compare-tag compare-tag-after" aria-hidden="true">
        After
      </span>
      <input
        class="compare-range"
        type="range"
        min={0}
        max={100}
        step={1}
        value={pos}
        aria-label="Before and after divider"
        aria-valuetext={`${pos}% before`}
        onInput={(e) => setPos(Number(e.currentTarget.value))}
      />
    </figure>
  );
}
