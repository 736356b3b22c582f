import { describe, expect, it } from 'vitest';
import { autoRatio, outputSize } from './models.js';

describe('outputSize', () => {
  it('gives the long side of the resolution and a short side in multiples of 16', () => {
    expect(outputSize('16:9', '1K')).toEqual({ width: 1024, height: 576 });
    expect(outputSize('9:16', '2K')).toEqual({ width: 1152, height: 2048 });
    expect(outputSize('3:1', '4K')).toEqual({ width: 3840, height: 1280 });
  });

  it('follows the source for auto, clamped to 3:1 and 1:3', () => {
    expect(outputSize('auto', '1K', { width: 1200, height: 800 })).toEqual({ width: 1024, height: 688 });
    expect(autoRatio({ width: 1200, height: 800 })).toEqual({ ratio: 1.5, clamped: false });
    for (const [w, h] of [[20000, 20], [30000, 1], [16383, 16], [8000, 100]] as const) {
      expect(autoRatio({ width: w, height: h }).clamped).toBe(true);
      expect(outputSize('auto', '1K', { width: w, height: h })).toEqual(outputSize('3:1', '1K'));
      expect(outputSize('auto', '1K', { width: h, height: w })).toEqual(outputSize('1:3', '1K'));
    }
  });
});
