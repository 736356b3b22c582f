import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIFTS, fixtureProduct, layoutFrame, repaintFromMask, type Rgba } from '../../../test/fakes/drift.js';
import { startFakeComfyUi, type FakeComfyUi } from '../../../test/fakes/fake-comfyui.js';
import { transformDistance } from '../../engine/lock/index.js';
import type { Box } from '../../engine/raster/types.js';
import { PermanentTaskError } from '../../errors.js';
import { paintLocked } from '../generative.js';
import { KEEP_PRODUCT } from '../hiapi/index.js';
import { comfyPromptId, comfyUiUpstream, fillWorkflow } from './index.js';

/**
 * ComfyUI as an upstream, against a fake ComfyUI on loopback that runs an API-format inpainting
 * workflow by repainting around what the mask keeps (test/fakes/drift.ts).
 */

/** An inpainting workflow in ComfyUI's API format, with reshoot's placeholders. */
const WORKFLOW = {
  4: { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd_xl_base_1.0_inpainting.safetensors' } },
  6: { class_type: 'CLIPTextEncode', inputs: { text: 'photograph, {{prompt}}', clip: ['4', 1] } },
  7: { class_type: 'CLIPTextEncode', inputs: { text: 'blurry, deformed product', clip: ['4', 1] } },
  10: { class_type: 'LoadImage', inputs: { image: '{{image}}' } },
  11: { class_type: 'LoadImage', inputs: { image: '{{mask}}' } },
  12: { class_type: 'VAEEncodeForInpaint', inputs: { pixels: ['10', 0], mask: ['11', 1], vae: ['4', 2], grow_mask_by: 0 } },
  3: { class_type: 'KSampler', inputs: { seed: '{{seed}}', steps: 30, cfg: 6, sampler_name: 'dpmpp_2m', scheduler: 'karras', denoise: 1, model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['12', 0] } },
  8: { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
  9: { class_type: 'SaveImage', inputs: { filename_prefix: 'reshoot', images: ['8', 0] } },
};
type Node = { class_type: string; inputs: Record<string, unknown> };

let fake: FakeComfyUi;
let product: Rgba;
let box: Box;

beforeAll(async () => {
  product = await fixtureProduct('bottle', 560);
  box = { x: Math.round(512 - product.width / 2), y: 210, width: product.width, height: product.height };
  fake = await startFakeComfyUi(async (wf, uploads) => {
    const image = uploads.get(String(wf['10']!.inputs.image))!;
    const mask = uploads.get(String(wf['11']!.inputs.image))!;
    return repaintFromMask(image, mask, DRIFTS[2]!);
  });
});
afterAll(() => fake?.close());

const upstream = (o: { timeoutMs?: number } = {}) => comfyUiUpstream({ url: fake.url, workflow: WORKFLOW, pollMs: 20, retryBaseMs: 20, ...o });
const request = (jobKey: string) => ({
  model: 'gpt-image-2-image-to-image', prompt: 'on black slate', layout: layoutFrame(product, box, { width: 1024, height: 1024 }), product, box,
  lock: 'strict' as const, aspectRatio: '1:1', resolution: '1K', jobKey, maxPixels: 50e6,
});

describe('ComfyUI upstream', () => {
  it('fills the placeholders: names, prompt inside a string, numbers', () => {
    const wf = fillWorkflow(WORKFLOW, { image: 'a.png', mask: 'm.png', prompt: 'on slate', seed: 42, width: 1024, height: 768 }) as Record<string, Node>;
    expect(wf['10']!.inputs.image).toBe('a.png');
    expect(wf['11']!.inputs.image).toBe('m.png');
    expect(wf['6']!.inputs.text).toBe('photograph, on slate');
    expect(wf['3']!.inputs.seed).toBe(42);
    expect(wf['3']!.inputs.model).toEqual(['4', 0]);
  });

  it('uploads layout and mask, queues the workflow, polls history, views the output; the product comes back locked', async () => {
    const before = fake.prompts.length;
    const done = await paintLocked(upstream(), request('job-c1'));
    expect(fake.prompts.length - before).toBe(1);
    const run = fake.prompts.at(-1)!;
    expect(run.id).toBe(comfyPromptId('job-c1'));
    expect(String(run.prompt['6']!.inputs.text)).toContain(KEEP_PRODUCT);
    expect(typeof run.prompt['3']!.inputs.seed).toBe('number');
    const truth = { dx: DRIFTS[2]!.shift[0] * 1024, dy: DRIFTS[2]!.shift[1] * 1024, scale: DRIFTS[2]!.scale, rotation: DRIFTS[2]!.rotation };
    expect(transformDistance(done.lock.transform, truth, box)).toBeLessThanOrEqual(1);
    expect(done.lock.deltaE.after).toBeLessThan(1);
    expect(done.upstream).toMatchObject({ taskId: run.id, createAttempts: 1 });
  }, 60_000);

  it('a job run again finds its run in the history and does not queue it twice', async () => {
    await paintLocked(upstream(), request('job-c2'));
    const before = fake.prompts.length;
    const again = await paintLocked(upstream(), request('job-c2'));
    expect(fake.prompts.length - before).toBe(0);
    expect(again.upstream).toMatchObject({ createAttempts: 0, replayed: true });
  }, 60_000);

  it('a 500 on /prompt is retried; three fail the task', async () => {
    fake.fault('POST /prompt', 500, 1);
    const ok = await paintLocked(upstream(), request('job-c3'));
    expect(ok.lock.found).toBe(true);
    fake.fault('POST /prompt', 500, 3);
    const err = await paintLocked(upstream(), request('job-c4')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentTaskError);
    expect((err as Error).message).toMatch(/^upstream comfyui: POST \/prompt: 3 attempts, last HTTP 500/);
  }, 60_000);

  it('an execution error fails the task with ComfyUI\'s message; a workflow naming no uploaded image is refused', async () => {
    fake.failNext();
    const err = await paintLocked(upstream(), request('job-c5')).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/upstream comfyui failed the run: .*CUDA out of memory/);
    const broken = comfyUiUpstream({ url: fake.url, workflow: { ...WORKFLOW, 10: { class_type: 'LoadImage', inputs: { image: 'missing.png' } } }, pollMs: 20 });
    const refused = await paintLocked(broken, request('job-c6')).catch((e: unknown) => e);
    expect((refused as Error).message).toMatch(/refused the workflow \(HTTP 400 prompt_outputs_failed_validation\).*nodes 10/);
  }, 60_000);

  it('a run that never finishes is a TASK_TIMEOUT', async () => {
    const slow = await startFakeComfyUi(async () => Buffer.alloc(0), 1e9);
    try {
      const u = comfyUiUpstream({ url: slow.url, workflow: WORKFLOW, pollMs: 20, timeoutMs: 500 });
      const err = await paintLocked(u, request('job-c7')).catch((e: unknown) => e);
      expect((err as PermanentTaskError).code).toBe('TASK_TIMEOUT');
    } finally {
      await slow.close();
    }
  });
});
