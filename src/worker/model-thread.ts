import { workerData, type MessagePort } from 'node:worker_threads';
import { loadSegmenter } from '../engine/cutout/session.js';
import { serveSegmenterPort } from './shared-segmenter.js';

/**
 * The pool's model thread (a one-thread piscina pool): one segmentation session per model side (the
 * free model's, and the Pro model's when it differs, loaded on its first run), served to every task
 * that hands over a port. The port keeps answering after this call returns.
 */
const { threads, cacheDir, modelPath } = workerData as { threads: number; cacheDir?: string; modelPath?: string };
const load = (size: number) => loadSegmenter({ size, threads, cacheDir, modelPath });

export default function serve(port: MessagePort): void {
  serveSegmenterPort(port, load);
}
