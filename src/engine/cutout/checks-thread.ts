import { parentPort } from 'node:worker_threads';
import { fitBackground } from './background.js';
import { transmissionChecks, warmUpMatte, type ChecksResult } from './matte.js';
import type { CheckRequest, CheckAnswer } from './offload.js';

/**
 * The thread of offload.ts: runs the see-through and clear-glass checks of one cutout at a time. The
 * backdrop is fitted again from the model's input, the same pixels and so the same model as the caller's.
 */
const port = parentPort!;
// the steps are compiled here too before the first real image (see warmUpMatte)
warmUpMatte();
port.on('message', ({ id, small, prior, trust }: CheckRequest) => {
  try {
    const image = { ...small, data: Buffer.from(small.data.buffer, small.data.byteOffset, small.data.byteLength) };
    const bg = fitBackground(image);
    const bgImg = bg.plain ? bg.render(image.width, image.height) : null;
    const result: ChecksResult = transmissionChecks({ small: image, prior, trust }, { bg, bgImg, fit: null });
    const transfer = [result.through?.buffer, result.glass?.mask.buffer, result.glass?.shade.buffer].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
    port.postMessage({ id, result } satisfies CheckAnswer, transfer);
  } catch (err) {
    port.postMessage({ id, error: err instanceof Error ? err.message : String(err) } satisfies CheckAnswer);
  }
});
