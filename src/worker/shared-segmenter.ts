import type { MessagePort } from 'node:worker_threads';
import type { Segmenter } from '../engine/cutout/session.js';

/**
 * One segmentation session for the whole engine pool. Measured (README "Cutout model"): one session
 * with two onnxruntime threads gives the same throughput as a session per engine thread at a quarter
 * of the memory (0.55 GB against 2.1 GB), and each image comes back in half the time. The session
 * lives in a model thread of its own (preparing the model takes seconds of CPU that must not hold the
 * HTTP event loop); each task's engine thread reaches it through a MessageChannel made for the task.
 */

interface RunRequest {
  id: number;
  /** the model side the run is for */
  size: number;
  rgba: Uint8Array;
}
type RunReply = { id: number; ok: true; out: Float32Array; size: number; loadMs: number } | { id: number; ok: false; message: string };

/** Model-thread side: answers the runs arriving on one task's port until the task closes it. */
export function serveSegmenterPort(port: MessagePort, load: (size: number) => Promise<Segmenter>): void {
  port.on('message', (req: RunRequest) => {
    load(req.size)
      .then(async (seg) => {
        const out = await seg.run(Buffer.from(req.rgba.buffer, req.rgba.byteOffset, req.rgba.byteLength));
        const reply: RunReply = { id: req.id, ok: true, out, size: seg.size, loadMs: seg.loadMs };
        port.postMessage(reply, [out.buffer as ArrayBuffer]);
      })
      .catch((err: unknown) => port.postMessage({ id: req.id, ok: false, message: err instanceof Error ? err.message : String(err) } satisfies RunReply));
  });
  port.once('close', () => port.removeAllListeners('message'));
}

/**
 * Thread side: a Segmenter whose runs go to the host through the port of the task in progress
 * (a thread runs one task at a time).
 */
export function createSegmenterProxy(size: number, currentPort: () => MessagePort | null): Segmenter {
  let next = 0;
  let loadMs = 0;
  return {
    size,
    get loadMs() {
      return loadMs;
    },
    run(rgba: Buffer): Promise<Float32Array> {
      const port = currentPort();
      if (!port) return Promise.reject(new Error('Expected a segmenter port for the running task but received none'));
      const id = ++next;
      return new Promise((resolve, reject) => {
        // If the model thread goes away, its end of the channel closes: fail the run instead of waiting forever.
        const onClose = () => reject(new Error('the segmentation model thread stopped'));
        const onReply = (reply: RunReply) => {
          if (reply.id !== id) return;
          port.off('message', onReply);
          port.off('close', onClose);
          if (!reply.ok) return reject(new Error(reply.message));
          if (reply.size !== size) return reject(new Error(`Expected a ${size}px segmenter but the host runs ${reply.size}px`));
          loadMs = reply.loadMs;
          resolve(reply.out);
        };
        port.on('message', onReply);
        port.once('close', onClose);
        const copy = new Uint8Array(rgba);
        port.postMessage({ id, size, rgba: copy } satisfies RunRequest, [copy.buffer]);
      });
    },
    async close() {},
  };
}
