import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, renderPackshot, type Packshot } from '../fixtures/index.js';
import { buildStudio, chromiumUnavailable, launchChromium, openPage } from '../helpers/chromium.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Fix cutout in the studio, as a person uses it: render, open the brush on the result, erase the top
// of the mug (its rim) with the mouse, try a touch dot and undo it, save; the new turn is rendered
// from the photo with the edited alpha, its output has lost the rim, a reload keeps it, and an edit
// of it keeps the fixed cutout. Debian's Chromium driven by playwright-core; screenshots at 1440×900
// go to .tmp/e2e/matte-*.png.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SHOTS = path.join(ROOT, '.tmp', 'e2e');
const POLL = { timeout: 20_000 };
const SIDE = 480;

let tmp: string;
let server: TestServer;
let browser: Browser;
let page: Page;
let mug: Packshot;
let mugPath: string;
/** the true product box in the photo */
let box: { x0: number; y0: number; x1: number; y1: number };
/** the row above which the rim is erased: the top 30 % of the product */
let cut: number;
let firstTask: any;
let firstSrc: string;
let fixedTask: any;
/** the fixed reference the studio uploaded */
let fixedUrl: string;

async function apiGet(pathname: string): Promise<any> {
  const res = await fetch(`${server.url}${pathname}`, { headers: { authorization: `Bearer ${server.apiKey}` } });
  return ((await res.json()) as { data: unknown }).data;
}

async function finished(taskId: string): Promise<any> {
  for (;;) {
    const task = await apiGet(`/v1/tasks/${taskId}`);
    if (task.status === 'success') return task;
    if (task.status === 'fail') throw new Error(`${taskId} failed: ${task.error.message}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function bytes(url: string): Promise<Buffer> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${server.apiKey}` } });
  return Buffer.from(await res.arrayBuffer());
}

/** Height over width of what is opaque (alpha over 128) in an output. */
async function opaqueAspect(png: Buffer): Promise<number> {
  const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  let [x0, y0, x1, y1] = [info.width, info.height, -1, -1];
  for (let y = 0; y < info.height; y++) {
    for (let x = 0; x < info.width; x++) {
      if (data[(y * info.width + x) * 4 + 3]! <= 128) continue;
      [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
    }
  }
  return (y1 - y0 + 1) / (x1 - x0 + 1);
}

/** Waits until the result image is loaded and differs from `prev`; returns its src. */
async function resultLoaded(p: Page, prev = ''): Promise<string> {
  await p.waitForFunction(
    (before) => {
      const el = document.querySelector<HTMLImageElement>('img.compare-after');
      return !!el && el.complete && el.naturalWidth > 0 && el.src !== before;
    },
    prev,
    { timeout: 120_000 },
  );
  return (await p.locator('img.compare-after').getAttribute('src'))!;
}

/** A pixel of one of the brush's canvases (photo pixels), read in the page. */
async function canvasPixel(p: Page, which: 'photo' | 'overlay', x: number, y: number): Promise<number[]> {
  return p.evaluate(
    ([cls, px, py]) => {
      const c = document.querySelector<HTMLCanvasElement>(`canvas.matte-${cls as string}`)!;
      return [...c.getContext('2d')!.getImageData(px as number, py as number, 1, 1).data];
    },
    [which, x, y] as const,
  );
}

/** Where a photo pixel is on the screen, over the brush's canvas. */
async function onScreen(p: Page, x: number, y: number): Promise<{ x: number; y: number; scale: number }> {
  const r = (await p.locator('canvas.matte-overlay').boundingBox())!;
  const scale = r.width / SIDE;
  return { x: r.x + x * scale, y: r.y + y * scale, scale };
}

/** Waits until the brush has scrolled into the stage: the photo's top edge and the save button both showing. */
async function brushInView(p: Page): Promise<void> {
  await expect
    .poll(async () => {
      const stage = (await p.locator('section.stage').boundingBox())!;
      const frame = (await p.locator('.matte-frame').boundingBox())!;
      const save = (await p.getByRole('button', { name: 'Save and re-render' }).boundingBox())!;
      return frame.y >= stage.y - 1 && save.y + save.height <= Math.min(stage.y + stage.height, 900) + 1;
    }, POLL)
    .toBe(true);
}

describe.skipIf(chromiumUnavailable !== null)('Fix cutout in the studio (Chromium)', { timeout: 240_000 }, () => {
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reshoot-e2e-matte-'));
    fs.mkdirSync(SHOTS, { recursive: true });
    const webDir = path.join(tmp, 'web');
    await buildStudio(webDir);
    mug = await renderPackshot({ ...FIXTURES.mug, width: SIDE, height: SIDE });
    mugPath = path.join(tmp, 'mug.png');
    fs.writeFileSync(mugPath, mug.png);
    let [x0, y0, x1, y1] = [SIDE, SIDE, -1, -1];
    for (let i = 0; i < mug.alpha.length; i++) {
      if (mug.alpha[i]! < 128) continue;
      const x = i % SIDE;
      const y = Math.floor(i / SIDE);
      [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
    }
    box = { x0, y0, x1, y1 };
    cut = y0 + Math.round((y1 - y0) * 0.3);
    server = await startTestServer({ RESHOOT_WEB_DIR: webDir, RESHOOT_JOB_MAX_ATTEMPTS: '1' });
    browser = await launchChromium();
    // hasTouch: the brush also takes touch (a tap below); the mouse works as usual
    page = await openPage(browser, { viewport: { width: 1440, height: 900 }, hasTouch: true });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('renders the mug on a transparent background, and offers Fix cutout on the result', async () => {
    await page.goto(server.url);
    await page.getByLabel('API key').fill(server.apiKey);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.locator('input[type=file]').setInputFiles(mugPath);
    await page.getByText('1. mug.png').waitFor();
    await page.waitForFunction(() => !document.body.textContent?.includes('Uploading…'));
    await page.getByRole('textbox', { name: 'Prompt' }).fill('on white marble, soft light from the left');
    await page.getByLabel('Background').selectOption('transparent');
    await page.getByLabel('Seed').fill('7');
    await page.getByRole('button', { name: 'Generate' }).click();
    firstSrc = await resultLoaded(page);
    const id = (await page.evaluate(() => JSON.parse(localStorage.getItem('reshoot.session')!).selected)) as string;
    firstTask = await finished(id);
    expect(firstTask.reshoot.mattes).toEqual([{ ref: 0, width: SIDE, height: SIDE }]);
    expect(await page.getByRole('button', { name: 'Fix cutout' }).isEnabled()).toBe(true);
  });

  it('shows the photo with what the cutout leaves out tinted red', async () => {
    await page.getByRole('button', { name: 'Fix cutout' }).click();
    await page.locator('canvas.matte-overlay').waitFor();
    // the brush comes into view by itself (the button sits below the picture)
    await brushInView(page);
    // the photo is the reference itself, pixel for pixel (a product pixel in the middle of the mug)
    const cx = Math.round((box.x0 + box.x1) / 2);
    const cy = Math.round((box.y0 + box.y1) / 2);
    const photo = await sharp(mug.png).removeAlpha().raw().toBuffer();
    await expect.poll(() => canvasPixel(page, 'photo', cx, cy), POLL).toEqual([...photo.subarray((cy * SIDE + cx) * 3, (cy * SIDE + cx) * 3 + 3), 255]);
    // the backdrop (a corner) is tinted, the product is not
    expect((await canvasPixel(page, 'overlay', 4, 4))[3]).toBeGreaterThan(140);
    expect((await canvasPixel(page, 'overlay', cx, cy))[3]).toBeLessThan(20);
    // the whole brush fits the stage at 1440×900: the photo and the save button are on the screen
    const frame = (await page.locator('.matte-frame').boundingBox())!;
    const save = (await page.getByRole('button', { name: 'Save and re-render' }).boundingBox())!;
    expect(frame.height).toBeGreaterThan(380);
    expect(save.y + save.height).toBeLessThanOrEqual(900);
    expect(await page.getByRole('button', { name: 'Save and re-render' }).isDisabled()).toBe(true);
    await page.screenshot({ path: path.join(SHOTS, 'matte-open.png') });
  });

  it('erases the rim with the mouse; a touch dot and a restore stroke are undone', async () => {
    // a large brush: its radius in photo pixels is the slider's value over the canvas's scale
    await page.getByLabel('Brush size').fill('30');
    const { scale } = await onScreen(page, 0, 0);
    const radius = 30 / scale;
    // passes from the row whose lower edge is `cut` upwards, well past both sides of the mug
    for (let y = cut - radius; y > box.y0 - radius; y -= radius * 1.2) {
      const a = await onScreen(page, box.x0 - radius * 2, y);
      const b = await onScreen(page, box.x1 + radius * 2, y);
      await page.mouse.move(a.x, a.y);
      await page.mouse.down();
      await page.mouse.move(b.x, b.y, { steps: 12 });
      await page.mouse.up();
    }
    const cx = Math.round((box.x0 + box.x1) / 2);
    // the rim is now tinted; the body below the cut is not
    expect((await canvasPixel(page, 'overlay', cx, box.y0 + 4))[3]).toBeGreaterThan(140);
    expect((await canvasPixel(page, 'overlay', cx, cut + Math.round(radius) + 6))[3]).toBeLessThan(20);
    await page.screenshot({ path: path.join(SHOTS, 'matte-erased.png') });

    // a tap on the body erases a dot; Undo takes only that back
    const body = { x: cx, y: Math.round((cut + box.y1) / 2) };
    const at = await onScreen(page, body.x, body.y);
    await page.touchscreen.tap(at.x, at.y);
    await expect.poll(async () => (await canvasPixel(page, 'overlay', body.x, body.y))[3], POLL).toBeGreaterThan(140);
    await page.getByRole('button', { name: 'Undo' }).click();
    expect((await canvasPixel(page, 'overlay', body.x, body.y))[3]).toBeLessThan(20);
    expect((await canvasPixel(page, 'overlay', cx, box.y0 + 4))[3]).toBeGreaterThan(140);

    // Restore paints product back: a short stroke on the erased rim, then undone
    await page.getByRole('radio', { name: /Restore/ }).check({ force: true });
    const rim = { x: cx, y: box.y0 + 6 };
    const r0 = await onScreen(page, rim.x - 10, rim.y);
    const r1 = await onScreen(page, rim.x + 10, rim.y);
    await page.mouse.move(r0.x, r0.y);
    await page.mouse.down();
    await page.mouse.move(r1.x, r1.y, { steps: 4 });
    await page.mouse.up();
    expect((await canvasPixel(page, 'overlay', rim.x, rim.y))[3]).toBeLessThan(20);
    await page.getByRole('button', { name: 'Undo' }).click();
    expect((await canvasPixel(page, 'overlay', rim.x, rim.y))[3]).toBeGreaterThan(140);
    await page.getByRole('radio', { name: /Erase/ }).check({ force: true });

    // the cutout alone, over a checker
    await page.getByLabel('Show the cutout').check();
    await expect.poll(async () => (await canvasPixel(page, 'overlay', cx, box.y0 + 4))[3], POLL).toBe(0);
    await page.screenshot({ path: path.join(SHOTS, 'matte-preview.png') });
  });

  it('saves: the photo with the edited alpha is uploaded and rendered in the same scene, without the rim', async () => {
    const upload = page.waitForRequest((r) => r.url().endsWith('/v1/uploads') && r.method() === 'POST');
    const created = page.waitForRequest((r) => r.url().endsWith('/v1/tasks') && r.method() === 'POST');
    // the brush stands in for the result while it is open
    expect(await page.locator('img.compare-after').count()).toBe(0);
    await page.getByRole('button', { name: 'Save and re-render' }).click();
    await upload;
    const sent = (await created).postDataJSON() as { input: { input_urls: string[]; scene_from: string; seed: number } };
    expect(sent.input.scene_from).toBe(firstTask.taskId);
    expect(sent.input.seed).toBe(7);
    expect(sent.input.input_urls[0]).toMatch(/\/files\/uploads\//);
    fixedUrl = sent.input.input_urls[0]!;
    await resultLoaded(page, new URL(firstSrc, server.url).toString());
    await expect.poll(() => page.locator('.turns > li').count(), POLL).toBe(2);
    expect(await page.locator('.turn-on').textContent()).toMatch(/#2 · Cutout fixed of #1/);
    const id = (await page.evaluate(() => JSON.parse(localStorage.getItem('reshoot.session')!).selected)) as string;
    fixedTask = await finished(id);

    // the reference it rendered: the photo's own pixels under the edited alpha, nothing above the cut
    const src = await sharp(await bytes(`${server.url}/v1/tasks/${fixedTask.taskId}/source`)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    expect([src.info.width, src.info.height, src.info.channels]).toEqual([SIDE, SIDE, 4]);
    const rgb = await sharp(mug.png).removeAlpha().raw().toBuffer();
    let rimLeft = 0;
    let bodyKept = 0;
    let bodyPixels = 0;
    let colourOff = 0;
    for (let i = 0; i < SIDE * SIDE; i++) {
      const y = Math.floor(i / SIDE);
      const a = src.data[i * 4 + 3]!;
      if (y < cut - 2 && mug.alpha[i]! >= 128 && a > 8) rimLeft++;
      if (y > cut + 40 && mug.alpha[i]! === 255) {
        bodyPixels++;
        if (a > 200) bodyKept++;
      }
      if (a > 0) for (let c = 0; c < 3; c++) colourOff = Math.max(colourOff, Math.abs(src.data[i * 4 + c]! - rgb[i * 3 + c]!));
    }
    expect(rimLeft).toBe(0);
    expect(bodyKept / bodyPixels).toBeGreaterThan(0.97);
    expect(colourOff).toBe(0);

    // the outputs, decoded: the same scene, and the product has lost its top 30 %
    const [a, b] = await Promise.all([bytes(firstTask.output[0].url), bytes(fixedTask.output[0].url)]);
    const ratio = (await opaqueAspect(b)) / (await opaqueAspect(a));
    expect(ratio).toBeGreaterThan(0.6);
    expect(ratio).toBeLessThan(0.82);
    expect(fixedTask.reshoot.plan).toEqual(firstTask.reshoot.plan);
    // the form's reference is now the fixed one, so a new render uses it too
    await page.getByText('1. mug.png (cutout fixed)').waitFor();
    expect(await page.getByRole('img', { name: /^Reference 1: mug\.png \(cutout fixed\)/ }).getAttribute('src')).toMatch(/^blob:/);
    await page.screenshot({ path: path.join(SHOTS, 'matte-rendered.png') });
  });

  it('after a reload the fixed turn opens with its own cutout on the untouched photo, and an edit keeps the fix', async () => {
    await page.reload();
    await resultLoaded(page);
    expect(await page.locator('.turn-on').textContent()).toMatch(/Cutout fixed of #1/);
    await page.getByRole('button', { name: 'Fix cutout' }).click();
    await page.locator('canvas.matte-overlay').waitFor();
    await brushInView(page);
    const cx = Math.round((box.x0 + box.x1) / 2);
    // the rim is still erased (the fixed task's matte) over the photo's own pixels (the first task's reference)
    await expect.poll(async () => (await canvasPixel(page, 'overlay', cx, box.y0 + 4))[3], POLL).toBeGreaterThan(140);
    const photo = await sharp(mug.png).removeAlpha().raw().toBuffer();
    const o = ((box.y0 + 4) * SIDE + cx) * 3;
    expect(await canvasPixel(page, 'photo', cx, box.y0 + 4)).toEqual([photo[o]!, photo[o + 1]!, photo[o + 2]!, 255]);
    await page.screenshot({ path: path.join(SHOTS, 'matte-reopened.png') });
    await page.getByRole('button', { name: 'Cancel' }).click();

    const prev = await page.locator('img.compare-after').getAttribute('src');
    await page.getByRole('textbox', { name: 'Edit this result' }).fill('make the light warmer');
    await page.getByRole('button', { name: 'Apply edit' }).click();
    await resultLoaded(page, prev ?? '');
    const id = (await page.evaluate(() => JSON.parse(localStorage.getItem('reshoot.session')!).selected)) as string;
    const edited = await finished(id);
    expect(edited.reshoot.lineage.parent).toBe(fixedTask.taskId);
    const [a, b] = await Promise.all([bytes(firstTask.output[0].url), bytes(edited.output[0].url)]);
    expect((await opaqueAspect(b)) / (await opaqueAspect(a))).toBeLessThan(0.82);
    await page.screenshot({ path: path.join(SHOTS, 'matte-edit-kept.png') });

    // a new render from the form (kept across the reload) starts from the fixed reference
    expect(await page.getByText('1. mug.png (cutout fixed)').count()).toBe(1);
    const created = page.waitForRequest((r) => r.url().endsWith('/v1/tasks') && r.method() === 'POST');
    await page.getByRole('textbox', { name: 'Prompt' }).fill('on a dark slate stone surface');
    await page.getByRole('button', { name: 'Generate' }).click();
    const sent = (await created).postDataJSON() as { input: { input_urls: string[] } };
    expect(sent.input.input_urls).toEqual([fixedUrl]);
    const fresh = await finished((await page.evaluate(() => JSON.parse(localStorage.getItem('reshoot.session')!).selected)) as string);
    expect((await opaqueAspect(await bytes(fresh.output[0].url))) / (await opaqueAspect(a))).toBeLessThan(0.82);
  });
});
