import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createCutout, DEFAULT_MODEL_SIZE, DEFAULT_SCENE_MODEL_SIZE, modelLoadMs, type CutoutResult } from '../src/engine/cutout/index.js';
import { scoreMatte } from '../src/engine/cutout/metrics.js';
import { fitBackground } from '../src/engine/cutout/background.js';
import { guardShares } from '../src/engine/cutout/matte.js';
import { loadSegmenter, type Segmenter } from '../src/engine/cutout/session.js';
import { mask8, rgba8, type Raster8 } from '../src/engine/raster/types.js';
import { decodeImage, encodeImage, initCodec, resize } from '../src/engine/codec.js';
import { asJpeg, FIXTURES, renderPackshot, type FixtureName } from '../test/fixtures/index.js';
import { COMPOSITES, renderComposite, type CompositeName } from '../test/fixtures/composite.js';

/**
 * `npm run eval:cutout [-- --set fixtures|composite|all --size N --scene-size N --mirrored --jpeg Q --out DIR --models --errors --model-cache DIR NAME...]`
 *
 * Without --size it scores the free model's shipped setting: 768, and 1024 for a photo whose border is
 * not a plain backdrop (`side` says which ran). --size N alone runs N for every photo.
 *
 * Scores the cutout on two sets, beside the raw model it starts from:
 * - fixtures: the 13 synthetic packshots on studio backdrops (test/fixtures/packshot.ts);
 * - composite: the fixture products in front of real photographs (views of the CC0 HDR environments,
 *   test/fixtures/composite.ts), where the plain-backdrop assumption does not hold.
 *
 * Per image: the raw model's IoU (IS-Net at its native 1024, thresholded at 0.5, upsampled bilinearly),
 * ours, and the label-free check, which needs no ground truth: the share of the model's confident
 * foreground (p > 0.9, at the size the cutout runs it) that the final matte removes, and of its confident
 * background (p < 0.1) that it adds. The regression signal is the number of images more than 0.005 IoU
 * below the raw model. In front of a scene, `ceiling` is the best IoU any matte can score while it keeps
 * every pixel the model is sure is product (p > 0.9) as product, as the cutout must there: what is left
 * between ours and it is the steps' to win, what is left above it is the model's own confident error.
 * With --out, each cut-out is written on dark and on light grey for inspection.
 * With --models, the raw model's IoU at 768 and 1024, each alone and averaged with a mirrored pass, is printed
 * per image instead (how the model size was chosen).
 * With --errors, each image's wrong pixels (ours and the raw model's) are split by their distance to the true
 * edge, in IoU units: where the remaining error sits (a 1-2 px edge placement, or whole regions); with --out
 * also a map of them (`NAME-errors.png`: missed product red, added background blue).
 * With --jpeg Q, every photo is first re-encoded as a JPEG of quality Q with 4:2:0 chroma, as most uploads
 * arrive (block edges, colour at half resolution); the truth stays the same.
 * With --model-cache DIR, the model's answers are kept in DIR by input bytes and side, so a rerun that
 * changes only the steps after the model skips inference (for iterating; the ms column then omits the model).
 */
interface Item { set: 'fixtures' | 'composite'; name: string; photo: Buffer; alpha: Buffer; width: number; height: number }

async function items(set: string, only: string[], jpeg?: number): Promise<Item[]> {
  const out: Item[] = [];
  const want = (n: string) => !only.length || only.includes(n);
  if (set === 'fixtures' || set === 'all') {
    for (const name of Object.keys(FIXTURES) as FixtureName[]) {
      if (!want(name)) continue;
      const shot = await renderPackshot(FIXTURES[name]);
      out.push({ set: 'fixtures', name, photo: shot.png, alpha: shot.alpha, width: shot.width, height: shot.height });
    }
  }
  if (set === 'composite' || set === 'all') {
    for (const name of Object.keys(COMPOSITES) as CompositeName[]) {
      if (!want(name)) continue;
      const c = await renderComposite(name);
      out.push({ set: 'composite', name, photo: c.png, alpha: c.alpha, width: c.width, height: c.height });
    }
  }
  if (jpeg !== undefined) for (const it of out) it.photo = await asJpeg(it.photo, jpeg);
  return out;
}

/** The model's probabilities at the source's size (bilinear), optionally averaged with a mirrored pass. */
async function modelAtFullSize(seg: Segmenter, image: Raster8, flip = false): Promise<Float32Array> {
  const S = seg.size;
  const small = await resize(image, S, S);
  const p = await seg.run(small.data);
  if (flip) {
    const m = Buffer.alloc(small.data.length);
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) small.data.copy(m, (y * S + (S - 1 - x)) * 4, (y * S + x) * 4, (y * S + x) * 4 + 4);
    const q = await seg.run(m);
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) p[y * S + x] = (p[y * S + x]! + q[y * S + (S - 1 - x)]!) / 2;
  }
  const { width: w, height: h } = image;
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const fy = Math.min(S - 1, Math.max(0, ((y + 0.5) * S) / h - 0.5));
    const ya = Math.floor(fy), yb = Math.min(S - 1, ya + 1), ty = fy - ya;
    for (let x = 0; x < w; x++) {
      const fx = Math.min(S - 1, Math.max(0, ((x + 0.5) * S) / w - 0.5));
      const xa = Math.floor(fx), xb = Math.min(S - 1, xa + 1), tx = fx - xa;
      out[y * w + x] = (p[ya * S + xa]! * (1 - tx) + p[ya * S + xb]! * tx) * (1 - ty) + (p[yb * S + xa]! * (1 - tx) + p[yb * S + xb]! * tx) * ty;
    }
  }
  return out;
}

/**
 * The best IoU a matte can score on a photo in front of a scene while every pixel the model is sure is
 * product (p > 0.9, at the side the cutout ran) stays product: the truth joined with those pixels. On a
 * scene nothing may remove them (rule 2 allows it only on a plain backdrop that explains the pixel, in an
 * enclosed hole), while adding is left free, so this is an upper bound. null on a plain backdrop.
 */
function sureCeiling(p: Float32Array, truth: Buffer): number {
  let t = 0, union = 0;
  for (let i = 0; i < truth.length; i++) {
    const inT = truth[i]! >= 128;
    if (inT) t++;
    if (inT || p[i]! > 0.9) union++;
  }
  return union ? t / union : 1;
}

function thresholded(p: Float32Array, w: number, h: number): Raster8<1> {
  const m = Buffer.alloc(w * h);
  for (let i = 0; i < m.length; i++) m[i] = p[i]! >= 0.5 ? 255 : 0;
  return mask8(m, w, h);
}

/** A segmenter whose answers are kept on disk by input bytes and side (--model-cache). */
function cachedSegmenter(seg: Segmenter, dir: string): Segmenter {
  return {
    size: seg.size,
    loadMs: seg.loadMs,
    close: () => seg.close(),
    async run(rgba) {
      const file = `${dir}/${seg.size}-${createHash('sha256').update(rgba).digest('hex').slice(0, 32)}.f32`;
      const kept = await readFile(file).catch(() => null);
      if (kept) return new Float32Array(kept.buffer.slice(kept.byteOffset, kept.byteOffset + kept.byteLength));
      const p = await seg.run(rgba);
      await writeFile(file, Buffer.from(p.buffer, p.byteOffset, p.byteLength));
      return p;
    },
  };
}

/** Distance bands (px, upper bounds) of the --errors split. */
const BANDS = [1, 2, 4, 8, Infinity];

/**
 * Two-pass chamfer distance (1, sqrt 2) from every pixel to the nearest pixel where `src` is 1: a
 * pixel next to a source is 1 away.
 */
function chamfer(src: Uint8Array, w: number, h: number): Float32Array {
  const d = new Float32Array(w * h);
  const D = Math.SQRT2;
  for (let i = 0; i < d.length; i++) d[i] = src[i] ? 0 : 1e9;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      let v = d[i]!;
      if (x > 0) v = Math.min(v, d[i - 1]! + 1);
      if (y > 0) {
        v = Math.min(v, d[i - w]! + 1);
        if (x > 0) v = Math.min(v, d[i - w - 1]! + D);
        if (x < w - 1) v = Math.min(v, d[i - w + 1]! + D);
      }
      d[i] = v;
    }
  }
  for (let y = h - 1; y >= 0; y--) {
    for (let x = w - 1; x >= 0; x--) {
      const i = y * w + x;
      let v = d[i]!;
      if (x < w - 1) v = Math.min(v, d[i + 1]! + 1);
      if (y < h - 1) {
        v = Math.min(v, d[i + w]! + 1);
        if (x < w - 1) v = Math.min(v, d[i + w + 1]! + D);
        if (x > 0) v = Math.min(v, d[i + w - 1]! + D);
      }
      d[i] = v;
    }
  }
  return d;
}

interface ErrorSplit {
  /** IoU lost: (false negatives + false positives) / union */
  loss: number;
  /** per distance band (BANDS) to the true edge, as shares of the union */
  fn: number[];
  fp: number[];
  /** wrong pixels whose true alpha is fractional (10-90%): see-through parts and soft edges */
  soft: number;
}

/** Splits a matte's wrong pixels (thresholded at 50%, as the IoU) by their distance to the true edge. */
function splitErrors(pred: Buffer, truth: Buffer, w: number, h: number): ErrorSplit {
  const n = w * h;
  const tf = new Uint8Array(n), tb = new Uint8Array(n);
  for (let i = 0; i < n; i++) { const t = truth[i]! >= 128 ? 1 : 0; tf[i] = t; tb[i] = 1 - t; }
  // a product pixel's distance to the nearest true background, a background pixel's to the nearest product
  const toBg = chamfer(tb, w, h), toFg = chamfer(tf, w, h);
  const fn = BANDS.map(() => 0), fp = BANDS.map(() => 0);
  let union = 0, soft = 0;
  const band = (d: number) => BANDS.findIndex((b) => d <= b + 1e-3);
  for (let i = 0; i < n; i++) {
    const p = pred[i]! >= 128, t = tf[i] === 1;
    if (p || t) union++;
    if (p === t) continue;
    if (truth[i]! > 25 && truth[i]! < 230) soft++;
    if (t) fn[band(toBg[i]!)]!++; else fp[band(toFg[i]!)]!++;
  }
  const u = union || 1;
  return { loss: (fn.reduce((a, b) => a + b, 0) + fp.reduce((a, b) => a + b, 0)) / u, fn: fn.map((v) => v / u), fp: fp.map((v) => v / u), soft: soft / u };
}

function errorRow(name: string, who: string, e: ErrorSplit): string {
  const f = (v: number) => (v * 1e4).toFixed(1);
  return `| ${name} | ${who} | ${f(e.loss)} | ${e.fn.map(f).join(' | ')} | ${e.fp.map(f).join(' | ')} | ${f(e.soft)} |`;
}

async function writeLooks(dir: string, it: Item, res: CutoutResult): Promise<void> {
  const { width: w, height: h } = res.foreground;
  const f = res.foreground.data;
  for (const [tone, rgb] of [['dark', [38, 42, 48]], ['light', [214, 216, 220]]] as const) {
    const out = Buffer.alloc(w * h * 3);
    for (let i = 0; i < w * h; i++) {
      const a = f[i * 4 + 3]! / 255;
      for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.round(f[i * 4 + c]! * a + rgb[c]! * (1 - a));
    }
    await writeFile(`${dir}/${it.name}-${tone}.png`, await encodeImage({ data: out, width: w, height: h, channels: 3 }, 'png'));
  }
}

/** The photo in grey with the product the matte misses in red and what it adds in blue (--errors with --out). */
async function writeErrorMap(dir: string, it: Item, alpha: Buffer, rgba: Buffer): Promise<void> {
  const n = it.width * it.height;
  const out = Buffer.alloc(n * 3);
  for (let i = 0; i < n; i++) {
    const grey = Math.round((rgba[i * 4]! + rgba[i * 4 + 1]! + rgba[i * 4 + 2]!) / 6 + 40);
    const p = alpha[i]! >= 128, t = it.alpha[i]! >= 128;
    out[i * 3] = p === t ? grey : t ? 255 : 0;
    out[i * 3 + 1] = p === t ? grey : 0;
    out[i * 3 + 2] = p === t ? grey : t ? 0 : 255;
  }
  await writeFile(`${dir}/${it.name}-errors.png`, await encodeImage({ data: out, width: it.width, height: it.height, channels: 3 }, 'png'));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string) => { const i = args.indexOf(name); if (i < 0) return undefined; const v = args[i + 1]; args.splice(i, 2); return v; };
  const flag = (name: string) => { const i = args.indexOf(name); if (i < 0) return false; args.splice(i, 1); return true; };
  const set = opt('--set') ?? 'all';
  const sizeArg = opt('--size');
  const size = Number(sizeArg ?? DEFAULT_MODEL_SIZE);
  // --size alone evaluates one side for every photo; the shipped free setting adds the scene side
  const sceneSize = Number(opt('--scene-size') ?? (sizeArg ? size : DEFAULT_SCENE_MODEL_SIZE));
  const outDir = opt('--out');
  const models = flag('--models');
  const mirrored = flag('--mirrored');
  const errors = flag('--errors');
  const modelCache = opt('--model-cache');
  const jpegArg = opt('--jpeg');
  const jpeg = jpegArg === undefined ? undefined : Number(jpegArg);
  if (jpeg !== undefined && !(Number.isInteger(jpeg) && jpeg >= 1 && jpeg <= 100)) throw new Error(`--jpeg takes a quality from 1 to 100, not ${jpegArg}`);
  initCodec({ concurrency: 2 });
  const list = await items(set, args, jpeg);
  if (outDir) await mkdir(outDir, { recursive: true });
  if (modelCache) await mkdir(modelCache, { recursive: true });
  const keep = (s: Segmenter) => (modelCache ? cachedSegmenter(s, modelCache) : s);
  const raw1024 = keep(await loadSegmenter({ size: 1024 }));

  if (models) {
    const raw768 = await loadSegmenter({ size: 768 });
    console.log('| set | image | 768 | 768 + mirrored | 1024 | 1024 + mirrored | 768 ms | 1024 ms |');
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
    const sums = { a: 0, am: 0, b: 0, c: 0, ta: 0, tb: 0 };
    for (const it of list) {
      const { image } = await decodeImage(it.photo, { maxPixels: 100e6 });
      const truth = mask8(it.alpha, it.width, it.height);
      let t0 = performance.now();
      const a = scoreMatte(thresholded(await modelAtFullSize(raw768, image), it.width, it.height), truth).iou;
      const ta = performance.now() - t0;
      const am = scoreMatte(thresholded(await modelAtFullSize(raw768, image, true), it.width, it.height), truth).iou;
      t0 = performance.now();
      const b = scoreMatte(thresholded(await modelAtFullSize(raw1024, image), it.width, it.height), truth).iou;
      const tb = performance.now() - t0;
      const c = scoreMatte(thresholded(await modelAtFullSize(raw1024, image, true), it.width, it.height), truth).iou;
      sums.a += a; sums.am += am; sums.b += b; sums.c += c; sums.ta += ta; sums.tb += tb;
      console.log(`| ${it.set} | ${it.name} | ${a.toFixed(4)} | ${am.toFixed(4)} | ${b.toFixed(4)} | ${c.toFixed(4)} | ${ta.toFixed(0)} | ${tb.toFixed(0)} |`);
    }
    const n = list.length;
    console.log(`| | **mean** | ${(sums.a / n).toFixed(4)} | ${(sums.am / n).toFixed(4)} | ${(sums.b / n).toFixed(4)} | ${(sums.c / n).toFixed(4)} | ${(sums.ta / n).toFixed(0)} | ${(sums.tb / n).toFixed(0)} |`);
    return;
  }

  const cutout = createCutout({ cacheDir: '', maskCacheBytes: 0, modelSize: size, sceneModelSize: sceneSize, mirrored, segmenter: async (side) => keep(await loadSegmenter({ size: side })) });
  interface Row { set: string; name: string; raw: number; iou: number; bf: number; ceiling: number | null; removed: number; added: number; ms: number }
  const rows: Row[] = [];
  const splits: string[] = [];
  const totals: Array<{ set: string; ours: ErrorSplit; raw: ErrorSplit }> = [];
  console.log(`cutout at model size ${size}${sceneSize !== size ? ` (${sceneSize} for photos not on a plain backdrop)` : ''}${mirrored ? ' with a mirrored pass' : ''}; raw model = IS-Net at 1024, thresholded at 0.5`);
  console.log('ceiling: the best IoU possible while the pixels the model is sure are product (p > 0.9) stay product, as they must in front of a scene (— on a plain backdrop)');
  console.log('| set | image | raw IoU | ours IoU | Δ | ceiling | ours bF | removed | added | side | ms |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const sides = new Map<number, Promise<Segmenter>>([[raw1024.size, Promise.resolve(raw1024)]]);
  const sideModel = (side: number) => { let seg = sides.get(side); if (!seg) { seg = loadSegmenter({ size: side }).then(keep); sides.set(side, seg); } return seg; };
  for (const it of list) {
    const { image } = await decodeImage(it.photo, { maxPixels: 100e6 });
    const truth = mask8(it.alpha, it.width, it.height);
    const rawP = await modelAtFullSize(raw1024, image);
    const rawMask = thresholded(rawP, it.width, it.height);
    const raw = scoreMatte(rawMask, truth).iou;
    const t0 = performance.now();
    const res = await cutout.cutout(rgba8(Buffer.from(image.data), image.width, image.height));
    const ms = performance.now() - t0;
    const s = scoreMatte(mask8(res.alpha, it.width, it.height), truth);
    // the cache is off, so every result carries its tally
    const lf = guardShares(res.guard!);
    // the cutout's own test of the backdrop (at its first side) tells a scene from a plain backdrop
    const plain = fitBackground(await resize(image, size, size)).plain;
    // at the raw model's side without a mirrored pass, the cutout's model answered as the raw one did
    const sideP = async () => (res.modelSize === raw1024.size && !mirrored ? rawP : modelAtFullSize(await sideModel(res.modelSize!), image, mirrored));
    const ceiling = plain ? null : sureCeiling(await sideP(), it.alpha);
    const row = { set: it.set, name: it.name, raw, iou: s.iou, bf: s.boundaryF, ceiling, ...lf, ms };
    rows.push(row);
    console.log(`| ${row.set} | ${row.name} | ${raw.toFixed(4)} | ${s.iou.toFixed(4)} | ${(s.iou - raw >= 0 ? '+' : '') + (s.iou - raw).toFixed(4)} | ${ceiling === null ? '—' : ceiling.toFixed(4)} | ${s.boundaryF.toFixed(4)} | ${(lf.removed * 100).toFixed(2)}% | ${(lf.added * 100).toFixed(2)}% | ${res.modelSize} | ${ms.toFixed(0)} |`);
    if (outDir) await writeLooks(outDir, it, res);
    if (errors && outDir) await writeErrorMap(outDir, it, res.alpha, image.data);
    if (errors) {
      const o = splitErrors(res.alpha, it.alpha, it.width, it.height), r = splitErrors(rawMask.data, it.alpha, it.width, it.height);
      splits.push(errorRow(it.name, 'ours', o), errorRow(it.name, 'raw', r));
      totals.push({ set: it.set, ours: o, raw: r });
    }
  }
  if (errors) {
    const b = BANDS.map((v) => (v === Infinity ? '> 8' : `≤ ${v}`));
    console.log('\nwrong pixels by distance to the true edge, in 1e-4 IoU (share of the union); soft: true alpha 10-90%');
    console.log(`| image | matte | lost | ${b.map((v) => `FN ${v}`).join(' | ')} | ${b.map((v) => `FP ${v}`).join(' | ')} | soft |`);
    console.log(`| --- | --- | --- | ${b.map(() => '---').join(' | ')} | ${b.map(() => '---').join(' | ')} | --- |`);
    for (const line of splits) console.log(line);
    const mean = (l: ErrorSplit[]): ErrorSplit => ({
      loss: l.reduce((t, e) => t + e.loss, 0) / l.length,
      fn: BANDS.map((_, k) => l.reduce((t, e) => t + e.fn[k]!, 0) / l.length),
      fp: BANDS.map((_, k) => l.reduce((t, e) => t + e.fp[k]!, 0) / l.length),
      soft: l.reduce((t, e) => t + e.soft, 0) / l.length,
    });
    for (const name of ['fixtures', 'composite']) {
      const t = totals.filter((x) => x.set === name);
      if (t.length) console.log(`${errorRow(`**${name} mean**`, 'ours', mean(t.map((x) => x.ours)))}\n${errorRow(`**${name} mean**`, 'raw', mean(t.map((x) => x.raw)))}`);
    }
  }
  console.log('');
  console.log('| set | images | mean raw IoU | mean ours IoU | mean ceiling (1 on a plain backdrop) | mean ours bF | below raw by > 0.005 | by > 0.01 | worst Δ | max removed | max added |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const name of ['fixtures', 'composite']) {
    const r = rows.filter((x) => x.set === name);
    if (!r.length) continue;
    const mean = (f: (x: Row) => number) => r.reduce((t, x) => t + f(x), 0) / r.length;
    const worst = Math.min(...r.map((x) => x.iou - x.raw));
    console.log(`| ${name} | ${r.length} | ${mean((x) => x.raw).toFixed(4)} | ${mean((x) => x.iou).toFixed(4)} | ${mean((x) => x.ceiling ?? 1).toFixed(4)} | ${mean((x) => x.bf).toFixed(4)} | ${r.filter((x) => x.iou < x.raw - 0.005).length} | ${r.filter((x) => x.iou < x.raw - 0.01).length} | ${worst.toFixed(4)} | ${(Math.max(...r.map((x) => x.removed)) * 100).toFixed(2)}% | ${(Math.max(...r.map((x) => x.added)) * 100).toFixed(2)}% |`);
  }
  console.log(`\nmodel load ${modelLoadMs()?.toFixed(0)} ms (once, not in the per-image times)`);
  await cutout.close();
}

await main();
