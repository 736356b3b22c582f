// `npm run bench -- matte`: what Fix cutout costs. The worker encodes each product's matte as an
// 8-bit grey PNG beside every output (inside the encode stage); the studio encodes the photo with
// the edited alpha as an RGBA PNG before uploading it (web/src/matte-brush.ts, run here in Node,
// whose CompressionStream is the same zlib as Chromium's). Median of a few runs on the mug fixture's
// true alpha and pixels at 1, 4 and 12 MP; the upload limit is 20 MB (RESHOOT_UPLOAD_LIMIT_BYTES).
import os from 'node:os';
import { decodeImage, encodeImage } from '../src/engine/codec.js';
import { mask8 } from '../src/engine/raster/types.js';
import { renderPackshot } from '../test/fixtures/index.js';
import { composeRgba, encodePng } from '../web/src/matte-brush.js';
import { printTable } from './table.js';

const RUNS = 5;
const SIZES = [
  { label: '1 MP', width: 1200, height: 900 },
  { label: '4 MP', width: 2400, height: 1800 },
  { label: '12 MP', width: 4000, height: 3000 },
];
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const mb = (n: number) => (n / 1024 / 1024).toFixed(2);

const rows: string[][] = [];
for (const s of SIZES) {
  const shot = await renderPackshot({ product: 'mug', background: 'white', width: s.width, height: s.height });
  const photo = (await decodeImage(shot.png, { maxPixels: 50_000_000 })).image.data;
  const matte = mask8(shot.alpha, s.width, s.height);
  const grey: number[] = [];
  const rgba: number[] = [];
  let greyBytes = 0;
  let rgbaBytes = 0;
  for (let i = 0; i < RUNS; i++) {
    let t0 = performance.now();
    greyBytes = (await encodeImage(matte, 'png')).length;
    grey.push(performance.now() - t0);
    t0 = performance.now();
    rgbaBytes = (await encodePng(composeRgba(photo, shot.alpha), s.width, s.height)).length;
    rgba.push(performance.now() - t0);
  }
  rows.push([s.label, `${s.width}×${s.height}`, median(grey).toFixed(0), mb(greyBytes), median(rgba).toFixed(0), mb(rgbaBytes)]);
}
console.log(`Fix cutout, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), median of ${RUNS}:`);
printTable(['photo', 'size', 'worker: matte PNG ms', 'matte MB', 'studio: RGBA PNG ms', 'RGBA PNG MB'], rows);
