import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIFTS, fixtureProduct, layoutFrame, repaintFromMask, type Rgba } from '../../../test/fakes/drift.js';
import { startFakeOpenAi, type FakeOpenAi } from '../../../test/fakes/fake-openai.js';
import { decodeImage, probeImage } from '../../engine/codec.js';
import { transformDistance } from '../../engine/lock/index.js';
import type { Box } from '../../engine/raster/types.js';
import { PermanentTaskError } from '../../errors.js';
import { paintLocked } from '../generative.js';
import { KEEP_PRODUCT, upstreamKey } from '../hiapi/index.js';
import { openAiUpstream, sizeFor } from './index.js';

/**
 * An OpenAI-compatible images API as an upstream, against a fake on loopback whose "model" finds
 * the product where the mask protects it and repaints the frame with it drifted (test/fakes/drift.ts).
 */

let fake: FakeOpenAi;
let product: Rgba;

beforeAll(async () => {
  product = await fixtureProduct('can', 520);
  fake = await startFakeOpenAi((req) => repaintFromMask(req.image, req.mask!, DRIFTS[3]!), probeImage);
});
afterAll(() => fake?.close());

const upstream = () => openAiUpstream({ baseUrl: `${fake.url}/v1`, apiKey: fake.apiKey, retryBaseMs: 20 });
function request(frame: { width: number; height: number }, jobKey: string) {
  const box: Box = { x: Math.round(frame.width / 2 - product.width / 2), y: Math.round(frame.height * 0.2), width: product.width, height: product.height };
  const layout = layoutFrame(product, box, frame);
  return { box, req: { model: 'gpt-image-2-image-to-image', prompt: 'on a kitchen counter', layout, product, box, lock: 'strict' as const, aspectRatio: '1:1', resolution: '1K', jobKey, maxPixels: 50e6 } };
}

describe('OpenAI-compatible images upstream', () => {
  it('picks the documented size nearest the layout ratio', () => {
    expect(sizeFor(1024, 1024).size).toBe('1024x1024');
    expect(sizeFor(1200, 900).size).toBe('1536x1024');
    expect(sizeFor(1920, 1080).size).toBe('1536x1024');
    expect(sizeFor(900, 1600).size).toBe('1024x1536');
  });

  it('sends layout, mask, prompt and size; the product comes back locked', async () => {
    const { box, req } = request({ width: 1024, height: 1024 }, 'job-oa-1');
    const done = await paintLocked(upstream(), req);
    const sent = fake.requests.at(-1)!;
    expect(sent).toMatchObject({ model: 'gpt-image-1', size: '1024x1024' });
    expect(sent.prompt).toContain(KEEP_PRODUCT);
    expect(sent.headers['idempotency-key']).toBe(upstreamKey('job-oa-1'));
    // the mask keeps the product (opaque) and frees the rest (transparent)
    const { image: mask } = await decodeImage(sent.mask!, { maxPixels: 1e8 });
    const at = (x: number, y: number) => mask.data[(y * mask.width + x) * 4 + 3]!;
    expect(at(Math.round(box.x + box.width / 2), Math.round(box.y + box.height / 2))).toBe(255);
    expect(at(5, 5)).toBe(0);
    const truth = { dx: DRIFTS[3]!.shift[0] * 1024, dy: DRIFTS[3]!.shift[1] * 1024, scale: DRIFTS[3]!.scale, rotation: DRIFTS[3]!.rotation };
    expect(transformDistance(done.lock.transform, truth, box)).toBeLessThanOrEqual(1);
    expect(done.lock.deltaE.before).toBeGreaterThan(3);
    expect(done.lock.deltaE.after).toBeLessThan(1);
  }, 60_000);

  it('a 4:3 layout goes letterboxed into 1536x1024 and comes back at its own size', async () => {
    const { req } = request({ width: 1200, height: 900 }, 'job-oa-43');
    const done = await paintLocked(upstream(), req);
    const sent = fake.requests.at(-1)!;
    expect(sent.size).toBe('1536x1024');
    expect(await probeImage(sent.image)).toMatchObject({ width: 1536, height: 1024 });
    expect(await probeImage(sent.mask!)).toMatchObject({ width: 1536, height: 1024 });
    expect(done.frame).toMatchObject({ width: 1200, height: 900 });
    expect(done.lock.found).toBe(true);
    expect(done.lock.deltaE.after).toBeLessThan(1);
  }, 60_000);

  it('429 with Retry-After, then success', async () => {
    fake.fault(429, 1, '1');
    const before = fake.requests.length;
    const t0 = Date.now();
    const done = await paintLocked(upstream(), request({ width: 1024, height: 1024 }, 'job-oa-429').req);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(fake.requests.length - before).toBe(1);
    expect(done.upstream.createAttempts).toBe(2);
  }, 60_000);

  it('500 three times fails the task with the upstream named', async () => {
    fake.fault(500, 3);
    const err = await paintLocked(upstream(), request({ width: 1024, height: 1024 }, 'job-oa-500').req).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentTaskError);
    expect((err as PermanentTaskError).code).toBe('TASK_FAILED');
    expect((err as Error).message).toMatch(/^upstream openai: 3 attempts, last HTTP 500/);
  });

  it('a wrong key is refused at once with the upstream message', async () => {
    const bad = openAiUpstream({ baseUrl: fake.url, apiKey: 'sk-wrong', retryBaseMs: 20 });
    const err = await paintLocked(bad, request({ width: 1024, height: 1024 }, 'job-oa-401').req).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentTaskError);
    expect((err as Error).message).toMatch(/refused reshoot's key \(HTTP 401 invalid_api_key: Incorrect API key provided\)/);
  });
});
