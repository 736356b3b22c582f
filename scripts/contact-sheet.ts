import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { decodeImage, encodeImage, initCodec, resize } from '../src/engine/codec.js';

/**
 * `node --import tsx scripts/contact-sheet.ts DIR OUT.png [--cols N --cell PX]`: the PNG/JPEG/WebP files
 * of a folder side by side on one sheet, in name order, each fitted into a square cell, for looking at a
 * set of outputs at once.
 */
const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => { const i = args.indexOf(name); if (i < 0) return dflt; const v = Number(args[i + 1]); args.splice(i, 2); return v; };
const cols = opt('--cols', 5);
const cell = opt('--cell', 220);
const [dir, out] = args;
if (!dir || !out) throw new Error('usage: contact-sheet.ts DIR OUT.png [--cols N --cell PX]');
initCodec({ concurrency: 2 });
const files = (await readdir(dir)).filter((f) => /\.(png|jpe?g|webp)$/i.test(f)).sort();
const rows = Math.ceil(files.length / cols);
const W = cols * cell, H = rows * cell;
const sheet = Buffer.alloc(W * H * 3, 32);
for (const [n, f] of files.entries()) {
  const { image } = await decodeImage(await readFile(path.join(dir, f)), { maxPixels: 100e6 });
  const k = Math.min(cell / image.width, cell / image.height);
  const tile = await resize(image, Math.max(1, Math.round(image.width * k)), Math.max(1, Math.round(image.height * k)));
  const ox = (n % cols) * cell + Math.floor((cell - tile.width) / 2), oy = Math.floor(n / cols) * cell + Math.floor((cell - tile.height) / 2);
  const c = tile.channels;
  for (let y = 0; y < tile.height; y++) {
    for (let x = 0; x < tile.width; x++) {
      const s = (y * tile.width + x) * c, d = ((oy + y) * W + ox + x) * 3;
      const a = c === 4 || c === 2 ? tile.data[s + c - 1]! / 255 : 1;
      for (let ch = 0; ch < 3; ch++) sheet[d + ch] = Math.round((c >= 3 ? tile.data[s + ch]! : tile.data[s]!) * a + 32 * (1 - a));
    }
  }
}
await writeFile(out, await encodeImage({ data: sheet, width: W, height: H, channels: 3 }, 'png'));
console.log(`${files.length} images → ${out}`);
