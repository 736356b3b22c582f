import { beforeAll, describe, expect, it } from 'vitest';
import { renderRaw, type Product } from '../../../test/fixtures/packshot.js';
import { trueOpening } from '../../../test/fixtures/openings.js';
import { rgba8, type Rgba8 } from '../raster/types.js';
import { productKind } from '../../plan/products.js';
import { detectOpening } from './opening.js';

/** A fixture product at 480 px as the cutout hands it over: its own pixels with the exact matte. */
function cutOut(product: Product, size = 480): Rgba8 {
  const { rgb, alpha } = renderRaw({ product, background: 'light-grey', width: size, height: size, seed: 5 });
  const rgba = Buffer.alloc(size * size * 4);
  for (let i = 0; i < size * size; i++) {
    rgba[i * 4] = rgb[i * 3]!; rgba[i * 4 + 1] = rgb[i * 3 + 1]!; rgba[i * 4 + 2] = rgb[i * 3 + 2]!; rgba[i * 4 + 3] = alpha[i]!;
  }
  return rgba8(rgba, size, size);
}

const OPEN: Product[] = ['cup', 'mug', 'dripper', 'vase', 'white-vase', 'glass'];
const CLOSED: Product[] = ['bottle', 'dark-bottle', 'can', 'box', 'chair', 'stem'];
const images = new Map<Product, Rgba8>();

beforeAll(() => {
  for (const p of [...OPEN, ...CLOSED]) images.set(p, cutOut(p));
});

describe('the opening detector', () => {
  it.each(OPEN)('finds the opening of the %s, its rim within 2 px of the true one', (product) => {
    const r = detectOpening(images.get(product)!);
    const truth = trueOpening(product, 480, 480)!;
    expect(r.opening, r.reason).not.toBeNull();
    const o = r.opening!;
    expect(Math.abs(o.cx - truth.cx)).toBeLessThan(2);
    expect(Math.abs(o.cy - truth.cy)).toBeLessThan(2);
    expect(Math.abs(o.rx - truth.rx)).toBeLessThan(2);
    expect(Math.abs(o.ry - truth.ry)).toBeLessThan(2);
    expect(r.confidence).toBeGreaterThanOrEqual(0.6);
  });

  it.each(CLOSED)('finds no opening on the %s', (product) => {
    const r = detectOpening(images.get(product)!);
    expect(r.opening, r.reason).toBeNull();
    expect(r.reason.length).toBeGreaterThan(10);
  });

  it('reads one product of several on a canvas by its box, in the canvas\'s pixels', () => {
    const cup = images.get('cup')!;
    const chair = images.get('chair')!;
    const W = 480 * 2;
    const canvas = Buffer.alloc(W * 480 * 4);
    for (let y = 0; y < 480; y++) {
      chair.data.copy(canvas, y * W * 4, y * 480 * 4, (y + 1) * 480 * 4);
      cup.data.copy(canvas, (y * W + 480) * 4, y * 480 * 4, (y + 1) * 480 * 4);
    }
    const img = rgba8(canvas, W, 480);
    expect(detectOpening(img, { x: 0, y: 0, width: 480, height: 480 }).opening).toBeNull();
    const o = detectOpening(img, { x: 480, y: 0, width: 480, height: 480 }).opening!;
    expect(Math.abs(o.cx - (480 + trueOpening('cup', 480, 480)!.cx))).toBeLessThan(2);
  });

  it('lets a noun in the prompt settle a top the pixels leave open, but not overrule clear pixels', () => {
    const can = images.get('can')!;
    // a can's lid inside its rim looks partly like an opening: unclear from the pixels alone
    expect(detectOpening(can).opening).toBeNull();
    expect(detectOpening(can, undefined, { noun: 'cup', vessel: true }).opening).not.toBeNull();
    // a chair named a cup still has no rim; a cup named a boot is not a vessel steam rises from
    expect(detectOpening(images.get('chair')!, undefined, { noun: 'cup', vessel: true }).opening).toBeNull();
    const boot = detectOpening(images.get('cup')!, undefined, { noun: 'boot', vessel: false });
    expect(boot.opening).toBeNull();
    expect(boot.reason).toContain('boot');
  });

  it('reads the product noun from the prompt', () => {
    expect(productKind('a cup of coffee with rising steam')).toEqual({ noun: 'cup', vessel: true });
    expect(productKind('Place this exact leather boots on wet concrete with smoke')).toEqual({ noun: 'boot', vessel: false });
    expect(productKind('two teapots on linen')).toEqual({ noun: 'teapot', vessel: true });
    expect(productKind('the cold brew can, no cup, with steam')).toEqual({ noun: 'can', vessel: false });
    expect(productKind('no cup, on slate with steam')).toBeNull();
    expect(productKind('on slate with rising steam')).toBeNull();
    // a noun in the scene is a prop, not the product
    expect(productKind('on a cafe bar next to a plant, with steam')).toBeNull();
    expect(productKind('espresso on a wooden table')).toEqual({ noun: 'espresso', vessel: true });
  });
});
