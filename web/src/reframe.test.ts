import { describe, expect, it } from 'vitest';
import { POSITIONS } from '../../src/contract/scene.js';
import { POSITIONS_BY_X, nearestPosition, previewBox } from './reframe.js';

describe('moving the product on the canvas', () => {
  it('knows every framing position the contract has, from left to right', () => {
    expect([...POSITIONS_BY_X].sort()).toEqual([...POSITIONS].sort());
    expect(POSITIONS_BY_X[0]).toBe('left-third');
    expect(POSITIONS_BY_X.at(-1)).toBe('right-third');
  });

  it('snaps a dragged centre to the nearest position', () => {
    expect(nearestPosition(0.02)).toBe('left-third');
    expect(nearestPosition(0.36)).toBe('left');
    expect(nearestPosition(0.47)).toBe('center');
    expect(nearestPosition(0.9)).toBe('right-third');
  });

  it('previews the box scaled with the size around its base, on the new column, inside the frame', () => {
    const placement = { x: 412, y: 300, width: 200, height: 400, scale: 1, upscale: 1 };
    const frame = { width: 1024, height: 1024 };
    const same = previewBox(placement, { size: 0.5 }, { position: 'center', size: 0.5 }, frame);
    expect(same).toEqual({ x: 412, y: 300, width: 200, height: 400 });
    const moved = previewBox(placement, { size: 0.5 }, { position: 'left-third', size: 0.6 }, frame);
    expect(moved.height).toBeCloseTo(480, 6);
    // the base stays on the same row
    expect(moved.y + moved.height).toBeCloseTo(700, 6);
    expect(moved.x + moved.width / 2).toBeCloseTo(1024 / 3, 6);
    // a product too wide for the third's column is kept 4 % inside the frame
    const wide = previewBox({ ...placement, x: 112, width: 800 }, { size: 0.5 }, { position: 'left-third', size: 0.5 }, frame);
    expect(wide.x).toBeCloseTo(1024 * 0.04, 6);
  });
});
