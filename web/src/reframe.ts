import type { ScenePlan } from '../../src/contract/scene.js';
import type { Placement } from './image-box.js';

type Position = ScenePlan['framing']['position'];

/**
 * The framing positions from left to right with the column each centres the product on, as the
 * engine frames them (a fraction of the frame's width). The Chromium test that moves a product
 * checks the rendered placement against this.
 */
export const POSITION_X: ReadonlyArray<readonly [Position, number]> = [
  ['left-third', 1 / 3],
  ['left', 0.38],
  ['center', 0.5],
  ['right', 0.62],
  ['right-third', 2 / 3],
];

export const POSITIONS_BY_X: readonly Position[] = POSITION_X.map(([p]) => p);

/** The position whose column is nearest to `x` (a fraction of the frame's width). */
export function nearestPosition(x: number): Position {
  return POSITION_X.reduce((best, cur) => (Math.abs(cur[1] - x) < Math.abs(best[1] - x) ? cur : best))[0];
}

/**
 * Where the product will about stand with another position and size, from where it stands now:
 * scaled with the size around the middle of its base, centred on the position's column and kept 4 %
 * inside the frame, as the engine keeps it. A preview; the render lays it out exactly.
 */
export function previewBox(
  placement: Placement,
  from: { size: number },
  to: { position: Position; size: number },
  frame: { width: number; height: number },
): { x: number; y: number; width: number; height: number } {
  const k = to.size / from.size;
  const width = placement.width * k;
  const height = placement.height * k;
  const column = POSITION_X.find(([p]) => p === to.position)![1] * frame.width;
  const margin = frame.width * 0.04;
  const cx = Math.min(frame.width - width / 2 - margin, Math.max(width / 2 + margin, column));
  const base = placement.y + placement.height;
  return { x: cx - width / 2, y: base - height, width, height };
}
