import { useEffect, useRef, useState } from 'preact/hooks';
import type { ScenePlan } from '../../../src/contract/scene.js';
import type { Placement } from '../image-box.js';
import { POSITIONS_BY_X, nearestPosition, previewBox } from '../reframe.js';

type Framing = ScenePlan['framing'];

interface Props {
  after: string;
  /** the output's size in pixels */
  width: number;
  height: number;
  framing: Framing;
  placement: Placement;
  busy: boolean;
  onApply: (framing: Pick<Framing, 'position' | 'size'>) => void;
  onCancel: () => void;
}

const words = (s: string) => s.replace(/-/g, ' ');

/**
 * Move and resize the product on the result: drag it sideways to one of the positions the engine
 * frames with, pull the handle on top to make it larger or smaller; the box previews where it will
 * stand. Arrow keys do the same. Rendering it is a new turn with the same scene and seed.
 */
export function Reframe({ after, width, height, framing, placement, busy, onApply, onCancel }: Props) {
  const [position, setPosition] = useState(framing.position);
  const [size, setSize] = useState(framing.size);
  const figure = useRef<HTMLElement>(null);
  const drag = useRef<{ mode: 'move' | 'size'; pointer: number } | null>(null);
  // the button that opens this sits below the picture: bring the picture back into view
  useEffect(() => figure.current?.scrollIntoView({ block: 'nearest', behavior: 'smooth' }), []);
  const output = { width, height };
  const box = previewBox(placement, framing, { position, size }, output);
  const pct = (v: number, of: number) => `${((v / of) * 100).toFixed(3)}%`;
  const changed = position !== framing.position || Math.abs(size - framing.size) > 0.005;

  function toOutput(e: PointerEvent): { x: number; y: number } {
    const r = figure.current!.getBoundingClientRect();
    return { x: ((e.clientX - r.left) / r.width) * width, y: ((e.clientY - r.top) / r.height) * height };
  }

  function onPointerDown(mode: 'move' | 'size', e: PointerEvent) {
    e.preventDefault();
    e.stopPropagation();
    (e.currentTarget as Element).setPointerCapture(e.pointerId);
    drag.current = { mode, pointer: e.pointerId };
  }

  function onPointerMove(e: PointerEvent) {
    if (!drag.current || drag.current.pointer !== e.pointerId) return;
    const p = toOutput(e);
    if (drag.current.mode === 'move') {
      // the product's centre follows the pointer to the nearest framing position
      setPosition(nearestPosition(p.x / width));
    } else {
      // the top edge follows the pointer; the base stays where it stands
      const tall = Math.max(1, box.y + box.height - p.y);
      setSize(Math.min(0.95, Math.max(0.1, Math.round(((framing.size * tall) / placement.height) * 100) / 100)));
    }
  }

  function onKey(e: KeyboardEvent) {
    const at = POSITIONS_BY_X.indexOf(position);
    if (e.key === 'ArrowLeft' && at > 0) setPosition(POSITIONS_BY_X[at - 1]!);
    else if (e.key === 'ArrowRight' && at < POSITIONS_BY_X.length - 1) setPosition(POSITIONS_BY_X[at + 1]!);
    else if (e.key === 'ArrowUp') setSize((s) => Math.min(0.95, Math.round((s + 0.02) * 100) / 100));
    else if (e.key === 'ArrowDown') setSize((s) => Math.max(0.1, Math.round((s - 0.02) * 100) / 100));
    else return;
    e.preventDefault();
  }

  const frame = `aspect-ratio: ${width} / ${height}; --ar: ${(width / height).toFixed(4)}`;
  const described = `${words(position)}, size ${Math.round(size * 100)} %`;
  return (
    <div class="reframe">
      <figure class="compare reframe-frame" style={frame} ref={figure} onPointerMove={onPointerMove} onPointerUp={() => (drag.current = null)}>
        <img class="compare-after reframe-dim" src={after} alt="The result, dimmed while the product is moved" />
        <div
          class="reframe-box"
          style={`left: ${pct(box.x, width)}; top: ${pct(box.y, height)}; width: ${pct(box.width, width)}; height: ${pct(box.height, height)}`}
          tabIndex={0}
          role="group"
          aria-label={`Product: ${described}. Arrow keys left and right move it, up and down resize it.`}
          onPointerDown={(e) => onPointerDown('move', e)}
          onKeyDown={onKey}
        >
          {/* the product as rendered, scaled into its new box */}
          <span class="reframe-product-clip">
            <img
              class="reframe-product"
              src={after}
              alt=""
              style={`left: ${pct(-placement.x, placement.width)}; top: ${pct(-placement.y, placement.height)}; width: ${pct(width, placement.width)}; height: ${pct(height, placement.height)}`}
            />
          </span>
          <span class="reframe-handle" aria-hidden="true" onPointerDown={(e) => onPointerDown('size', e)} />
        </div>
      </figure>
      <div class="reframe-bar">
        <p class="muted small" aria-live="polite">
          Drag the product sideways to move it, pull the handle on top to resize it: <strong>{described}</strong>
        </p>
        <div class="reframe-actions">
          <button type="button" class="btn" onClick={onCancel}>
            Cancel
          </button>
          <button type="button" class="btn btn-primary" disabled={!changed || busy} onClick={() => onApply({ position, size: Math.round(size * 100) / 100 })}>
            Render this framing
          </button>
        </div>
      </div>
    </div>
  );
}
