import { workerData, type MessagePort } from 'node:worker_threads';
import { loadSegmenter } from '../engine/cutout/session.js';
import { serveSegmenterPort } from './shared-segmenter.js';

/**
 * The pool's model thread (a one-thread piscina pool): one segmentation session, served to every
 * task that hands over a port. The port keeps answering after this call returns.
 */
const { size, threads, cacheDir, modelPath } = workerData as { size: number; threads: number; cacheDir?: string; modelPath?: string };
const load = () => loadSegmenter({ size, threads, cacheDir, modelPath });

export default function serve(port: MessagePort): void {
  serveSegmenterPort(port, load);
}
