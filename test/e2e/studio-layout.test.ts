import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASPECT_RATIOS } from '../../src/contract/models.js';
import sharp from 'sharp';
import { FIXTURES, renderPackshot } from '../fixtures/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { buildStudio, chromiumUnavailable, launchChromium, openPage } from '../helpers/chromium.js';

// The studio as a new user meets it on common desktop sizes: the result always whole and as large as
// the stage allows, a before/after wipe that lines up, and the messages, warnings and history that
// come with it. Debian's Chromium driven by playwright-core; screenshots go to .tmp/e2e/layout-*.png.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SHOTS = path.join(ROOT, '.tmp', 'e2e');
const POLL = { timeout: 20_000 };
const VIEWPORTS = [
  { width: 1280, height: 720 },
  { width: 1440, height: 900 },
  { width: 1920, height: 1080 },
] as const;
const RATIOS = ASPECT_RATIOS.filter((r) => r !== 'auto');
const MODEL = 'gpt-image-2-image-to-image';

let tmp: string;
let server: TestServer;
let browser: Browser;
let dripperPath: string;
let dripper: { width: number; height: number; box: { x: number; y: number; width: number; height: number } };
let sourceUrl: string;
/** a finished task per aspect ratio, made through the API */
const byRatio = new Map<string, { taskId: string; prompt: string }>();

async function api(pathname: string, init: RequestInit = {}): Promise<any> {
  const res = await fetch(`${server.url}${pathname}`, { ...init, headers: { authorization: `Bearer ${server.apiKey}`, ...init.headers } });
  const body = (await res.json()) as { code: number; message: string; data: unknown };
  if (body.code !== 200) throw new Error(`${pathname}: ${body.message}`);
  return body.data;
}

async function render(input: Record<string, unknown>): Promise<string> {
  const { taskId } = await api('/v1/tasks', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, input }) });
  return taskId as string;
}

async function finished(taskId: string): Promise<any> {
  for (;;) {
    const task = await api(`/v1/tasks/${taskId}`);
    if (task.status === 'success') return task;
    if (task.status === 'fail') throw new Error(`${taskId} failed: ${task.error.message}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The studio's saved session, as the page keeps it in localStorage, with these tasks as turns. */
function session(taskIds: string[], selected = taskIds.at(-1)!) {
  const ratioOf = new Map([...byRatio].map(([r, t]) => [t.taskId, r]));
  return JSON.stringify({
    turns: taskIds.map((taskId, i) => {
      const ratio = ratioOf.get(taskId)!;
      const { prompt } = byRatio.get(ratio)!;
      return {
        taskId,
        parentId: i ? taskIds[i - 1] : null,
        kind: i ? 'variant' : 'new',
        prompt,
        beforeUrl: sourceUrl,
        beforeKind: 'source',
        request: { model: MODEL, input: { prompt, input_urls: [sourceUrl], aspect_ratio: ratio, resolution: '1K', seed: 7 } },
      };
    }),
    selected,
    form: null,
  });
}

async function openStudio(viewport: { width: number; height: number }, sessionJson: string | null): Promise<Page> {
  const page = await openPage(browser, { viewport }, (context) => context.addInitScript(
    ([key, s]) => {
      if (sessionStorage.getItem('seeded')) return;
      sessionStorage.setItem('seeded', '1');
      localStorage.setItem('reshoot.apiKey', key!);
      if (s) localStorage.setItem('reshoot.session', s);
    },
    [server.apiKey, sessionJson] as const,
  ));
  await page.goto(server.url);
  return page;
}

/** The result image once it has loaded: its box on screen, its natural size, and the stage's width. */
async function resultBox(page: Page) {
  await page.waitForFunction(() => {
    const el = document.querySelector<HTMLImageElement>('img.compare-after');
    return !!el && el.complete && el.naturalWidth > 0;
  }, undefined, { timeout: 60_000 });
  return page.evaluate(() => {
    const img = document.querySelector<HTMLImageElement>('img.compare-after')!;
    const r = img.getBoundingClientRect();
    return {
      x: r.x, y: r.y, width: r.width, height: r.height,
      naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
      stageWidth: document.querySelector('.stage')!.clientWidth,
      innerWidth: window.innerWidth, innerHeight: window.innerHeight,
    };
  });
}

/** Whole (inside the viewport, not cropped) and as large as the layout allows. */
function expectWholeAndLarge(b: Awaited<ReturnType<typeof resultBox>>, label: string) {
  expect(b.y, label).toBeGreaterThanOrEqual(0);
  expect(b.x, label).toBeGreaterThanOrEqual(0);
  expect(b.y + b.height, label).toBeLessThanOrEqual(b.innerHeight);
  expect(b.x + b.width, label).toBeLessThanOrEqual(b.innerWidth);
  // the box has the picture's own shape, so nothing of it is cut off
  expect(b.width / b.height, label).toBeCloseTo(b.naturalWidth / b.naturalHeight, 1);
  // it fills the stage's width or the height below the top bar (58 px bar, 24 px gap, room below)
  const fill = Math.max(b.width / (b.stageWidth - 12), b.height / (b.innerHeight - 130));
  expect(fill, label).toBeGreaterThan(0.95);
}

describe.skipIf(chromiumUnavailable !== null)('web studio on desktop screens', { timeout: 240_000 }, () => {
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reshoot-e2e-layout-'));
    fs.mkdirSync(SHOTS, { recursive: true });
    const webDir = path.join(tmp, 'web');
    await buildStudio(webDir);
    const shot = await renderPackshot({ ...FIXTURES.dripper, width: 640, height: 640 });
    dripperPath = path.join(tmp, 'dripper.png');
    fs.writeFileSync(dripperPath, shot.png);
    // the product's true box, from the fixture's own alpha
    let [x0, y0, x1, y1] = [shot.width, shot.height, -1, -1];
    for (let y = 0; y < shot.height; y++) {
      for (let x = 0; x < shot.width; x++) {
        if (shot.alpha[y * shot.width + x]! < 128) continue;
        [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
      }
    }
    dripper = { width: shot.width, height: shot.height, box: { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 } };
    server = await startTestServer({ RESHOOT_WEB_DIR: webDir, RESHOOT_JOB_MAX_ATTEMPTS: '1' });
    browser = await launchChromium();

    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(shot.png)], { type: 'image/png' }), 'dripper.png');
    sourceUrl = new URL(((await api('/v1/uploads', { method: 'POST', body: form })) as { url: string }).url, server.url).toString();
    const ids = await Promise.all(
      RATIOS.map(async (ratio, i) => {
        const prompt = `${i % 2 ? 'On white marble' : 'On a dark slate stone surface'}, soft light from the left (${ratio})`;
        const taskId = await render({ prompt, input_urls: [sourceUrl], aspect_ratio: ratio, resolution: '1K', seed: 7 });
        byRatio.set(ratio, { taskId, prompt });
        return taskId;
      }),
    );
    await Promise.all(ids.map(finished));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('shows a 1:1 result whole and large at 1280×720, 1440×900 and 1920×1080 with 1, 3 and 8 turns', async () => {
    const others = RATIOS.filter((r) => r !== '1:1').map((r) => byRatio.get(r)!.taskId);
    const square = byRatio.get('1:1')!.taskId;
    for (const viewport of VIEWPORTS) {
      for (const turns of [1, 3, 8]) {
        const page = await openStudio(viewport, session([...others.slice(0, turns - 1), square]));
        const label = `${viewport.width}x${viewport.height}, ${turns} turns`;
        await page.locator('.turns > li').nth(turns - 1).waitFor();
        const b = await resultBox(page);
        expectWholeAndLarge(b, label);
        // a laptop's 1:1 result is most of the screen's height, not a strip
        expect(b.height, label).toBeGreaterThanOrEqual(viewport.height - 140);
        await page.screenshot({ path: path.join(SHOTS, `layout-${viewport.width}x${viewport.height}-${turns}-turns.png`) });
        await page.context().close();
      }
    }
  });

  it('shows every ratio from 9:21 to 21:9 whole, at 1280×720 and 1920×1080', async () => {
    for (const viewport of [VIEWPORTS[0], VIEWPORTS[2]]) {
      const page = await openStudio(viewport, session([byRatio.get('1:1')!.taskId]));
      for (const ratio of RATIOS) {
        const { taskId } = byRatio.get(ratio)!;
        await page.evaluate((s) => localStorage.setItem('reshoot.session', s), session([taskId]));
        await page.reload();
        const b = await resultBox(page);
        const [w, h] = ratio.split(':').map(Number) as [number, number];
        expect(b.naturalWidth / b.naturalHeight, ratio).toBeCloseTo(w / h, 1);
        expectWholeAndLarge(b, `${ratio} at ${viewport.width}x${viewport.height}`);
        if (['9:21', '21:9', '3:1', '1:3'].includes(ratio)) await page.screenshot({ path: path.join(SHOTS, `layout-${viewport.width}x${viewport.height}-${ratio.replace(':', 'x')}.png`) });
      }
      await page.context().close();
    }
  });

  it('opens a task from the history with its picture, at 1280×720 after 3 turns', async () => {
    const three = ['16:9', '9:16', '4:5'].map((r) => byRatio.get(r)!.taskId);
    const page = await openStudio(VIEWPORTS[0], session(three));
    await resultBox(page);
    await page.getByRole('button', { name: 'History', exact: true }).click();
    const square = byRatio.get('1:1')!.taskId;
    // the list is newest first and paged: search finds the task on any page
    await page.getByRole('searchbox', { name: 'Search the history' }).fill(square);
    await expect.poll(() => page.locator('.history-grid > li').count(), POLL).toBe(1);
    await page.getByRole('button', { name: `Open task ${square}` }).click();
    const b = await resultBox(page);
    expect(b.naturalWidth).toBe(1024);
    expectWholeAndLarge(b, 'opened from history');
    expect(await page.locator('.turns > li').count()).toBe(4);
    await page.screenshot({ path: path.join(SHOTS, 'layout-history-opened-1280x720.png') });
    await page.context().close();
  });

  it('lines the before image up with the result: the source product sits on the box the result placed it in', async () => {
    const task = await api(`/v1/tasks/${byRatio.get('1:1')!.taskId}`);
    const placement = task.reshoot.placement as { x: number; y: number; width: number; height: number; scale: number };
    const page = await openStudio(VIEWPORTS[1], session([task.taskId]));
    const b = await resultBox(page);
    const placed = page.locator('.compare-before img.compare-placed');
    await placed.waitFor();
    const r = (await placed.boundingBox())!;
    // the fixture's true product box, through the placed source image, on screen
    const k = r.width / dripper.width;
    const product = { x: r.x + dripper.box.x * k, y: r.y + dripper.box.y * k, width: dripper.box.width * k, height: dripper.box.height * k };
    // the placement box of the result, on screen
    const s = b.width / 1024;
    const target = { x: b.x + placement.x * s, y: b.y + placement.y * s, width: placement.width * s, height: placement.height * s };
    const centre = (q: typeof product) => [q.x + q.width / 2, q.y + q.height / 2] as const;
    const [px, py] = centre(product);
    const [tx, ty] = centre(target);
    expect(Math.abs(px - tx) / b.width).toBeLessThan(0.03);
    expect(Math.abs(py - ty) / b.height).toBeLessThan(0.03);
    expect(product.height / target.height).toBeGreaterThan(0.9);
    expect(product.height / target.height).toBeLessThan(1.1);
    const range = page.getByRole('slider', { name: 'Before and after divider' });
    await range.focus();
    for (let i = 0; i < 10; i++) await range.press('ArrowRight');
    await page.locator('.compare').screenshot({ path: path.join(SHOTS, 'layout-compare-60.png') });
    await range.press('End');
    await page.locator('.compare').screenshot({ path: path.join(SHOTS, 'layout-compare-before.png') });
    await page.context().close();
  });

  it('asks before adding the same picture twice, also after a reload', async () => {
    const page = await openStudio(VIEWPORTS[1], null);
    const input = page.locator('input[type=file]');
    await input.setInputFiles(dripperPath);
    await page.getByText('1. dripper.png').waitFor();
    await page.waitForFunction(() => !document.body.textContent?.includes('Uploading…'));
    // the same bytes under another name
    const copy = path.join(tmp, 'copy of dripper.png');
    fs.copyFileSync(dripperPath, copy);
    await input.setInputFiles(copy);
    const ask = page.getByRole('alertdialog');
    await expect.poll(() => ask.textContent(), POLL).toMatch(/copy of dripper\.png is the same picture as dripper\.png/);
    await page.screenshot({ path: path.join(SHOTS, 'layout-duplicate.png') });
    await ask.getByRole('button', { name: 'Skip it' }).click();
    expect(await page.locator('.refs > li').count()).toBe(1);
    // kept across a reload: the restored reference still knows its content
    await page.reload();
    await page.getByText('1. dripper.png').waitFor();
    await page.locator('input[type=file]').setInputFiles(copy);
    await ask.waitFor();
    await ask.getByRole('button', { name: 'Add it again' }).click();
    await page.getByText('2. copy of dripper.png').waitFor();
    expect(await page.locator('.refs > li').count()).toBe(2);
    await page.context().close();
  });

  it('shows a failed upload as failed, in words, and never as a link', async () => {
    const page = await openStudio(VIEWPORTS[1], null);
    const broken = path.join(tmp, 'broken.png');
    fs.writeFileSync(broken, Buffer.concat([fs.readFileSync(dripperPath).subarray(0, 64)]));
    await page.locator('input[type=file]').setInputFiles(broken);
    const item = page.locator('.refs > li').first();
    await expect.poll(() => item.getAttribute('class'), POLL).toMatch(/ref-error/);
    const text = (await item.textContent())!;
    expect(text).not.toMatch(/link/i);
    expect(text).not.toMatch(/input_urls|\bfile:/i);
    expect(await item.getByRole('img', { name: 'Reference 1: not uploaded' }).count()).toBe(1);
    await page.locator('.controls').screenshot({ path: path.join(SHOTS, 'layout-upload-failed.png') });
    await page.context().close();
  });

  it('warns before rendering when a small photo must be enlarged more than 2×', async () => {
    const small = path.join(tmp, 'small.png');
    fs.writeFileSync(small, (await renderPackshot({ ...FIXTURES.dripper, width: 200, height: 200 })).png);
    const page = await openStudio(VIEWPORTS[1], null);
    await page.locator('input[type=file]').setInputFiles(dripperPath);
    await page.waitForFunction(() => !document.body.textContent?.includes('Uploading…'));
    await page.getByRole('button', { name: 'White marble, luxury' }).click();
    // 640 px at 1K: no warning
    await page.waitForTimeout(300);
    expect(await page.getByText(/will be enlarged about/).count()).toBe(0);
    await page.getByRole('button', { name: 'Remove reference 1' }).click();
    await page.locator('input[type=file]').setInputFiles(small);
    await expect.poll(() => page.locator('.controls .notice').textContent(), POLL).toMatch(/enlarged about \d\.\d×/);
    await page.locator('.controls .notice').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SHOTS, 'layout-low-resolution.png') });
    // the render reports the real figure, and the result says so too
    await page.getByRole('button', { name: 'Generate' }).click();
    await resultBox(page);
    await expect.poll(() => page.locator('.stage .notice').textContent(), POLL).toMatch(/enlarged \d\.\d× from its photo/);
    await page.context().close();
  });

  it('says under the result what the render did with words it could not follow: no steam from a bottle', async () => {
    const bottle = path.join(tmp, 'bottle.png');
    fs.writeFileSync(bottle, (await renderPackshot({ ...FIXTURES.bottle, width: 480, height: 480 })).png);
    const page = await openStudio(VIEWPORTS[1], null);
    await page.locator('input[type=file]').setInputFiles(bottle);
    await page.waitForFunction(() => !document.body.textContent?.includes('Uploading…'));
    await page.getByRole('textbox', { name: 'Prompt' }).fill('a green bottle on dark slate with rising steam');
    await page.getByRole('button', { name: 'Generate' }).click();
    await resultBox(page);
    const notes = page.getByRole('list', { name: 'Notes on this render' });
    await expect.poll(() => notes.textContent(), POLL).toMatch(/steam: dropped/);
    await notes.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SHOTS, 'layout-plan-notes.png') });
    await page.context().close();
  });

  it('shows what an edit changed, and varies light, camera, surface and crop in 4 variants', async () => {
    const square = byRatio.get('1:1')!.taskId;
    const page = await openStudio(VIEWPORTS[2], session([square]));
    await resultBox(page);
    await page.getByLabel('Edit this result').fill('make the light warmer');
    await page.getByRole('button', { name: 'Apply edit' }).click();
    const changes = page.getByLabel('What this edit changed');
    await expect.poll(() => changes.textContent(), { timeout: 60_000 }).toMatch(/Light colour \d+ K → \d+ K/);
    expect(await page.locator('.turn-on .turn-changes').textContent()).toMatch(/Light colour \d+ K → \d+ K/);
    await page.screenshot({ path: path.join(SHOTS, 'layout-edit-changes.png') });

    // variants of the first turn: one request per take, each with its own input.scene
    await page.locator('.turns > li').first().getByRole('button').click();
    await resultBox(page);
    const sent: Array<{ input: { scene?: Record<string, any>; seed: number } }> = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/v1/tasks') && r.method() === 'POST') sent.push(r.postDataJSON());
    });
    await page.getByRole('button', { name: '4 variants' }).click();
    await page.waitForFunction(
      () => document.querySelectorAll('.batch-grid img').length === 4 && [...document.querySelectorAll<HTMLImageElement>('.batch-grid img')].every((i) => i.complete && i.naturalWidth > 0),
      undefined,
      { timeout: 120_000 },
    );
    expect(sent).toHaveLength(4);
    expect(new Set(sent.map((b) => JSON.stringify(b.input.scene))).size).toBe(4);
    expect(sent.every((b) => b.input.seed === 7)).toBe(true);
    expect(sent.some((b) => b.input.scene?.framing?.camera === 'low')).toBe(true);
    expect(sent.some((b) => b.input.scene?.light?.elevation !== undefined)).toBe(true);
    const labels = await page.locator('.batch-label').allTextContents();
    expect(labels.join(' | ')).toMatch(/Light from the .*higher.*camera.*camera.*surface/);
    // the four pictures differ from one another, not only in a wisp of steam
    const pixels = await Promise.all(
      (await page.locator('.batch-grid img').evaluateAll((imgs) => (imgs as HTMLImageElement[]).map((i) => i.src))).map(async (src) =>
        sharp(Buffer.from(await (await fetch(src)).arrayBuffer())).resize(64, 64, { fit: 'fill' }).removeAlpha().raw().toBuffer(),
      ),
    );
    for (let i = 0; i < 4; i++) {
      for (let j = i + 1; j < 4; j++) {
        let d = 0;
        for (let k = 0; k < pixels[i]!.length; k++) d += Math.abs(pixels[i]![k]! - pixels[j]![k]!);
        expect(d / pixels[i]!.length, `variants ${i + 1} and ${j + 1}`).toBeGreaterThan(4);
      }
    }
    await page.locator('.batch-grid').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SHOTS, 'layout-variants.png') });
    await page.context().close();
  });

  it('moves and resizes the product on the canvas, and the render puts it where the preview showed', async () => {
    const square = byRatio.get('1:1')!.taskId;
    const page = await openStudio(VIEWPORTS[1], session([square]));
    await resultBox(page);
    await page.getByRole('button', { name: 'Move or resize' }).click();
    await page.getByRole('group', { name: /^Product: center, size \d+ %/ }).waitFor();
    const box = page.locator('.reframe-box');
    // the canvas comes into view by itself (the button sits below it)
    await expect.poll(async () => (await page.locator('.reframe-frame').boundingBox())!.y, POLL).toBeGreaterThanOrEqual(0);
    // drag it to the right with the mouse: it snaps to the right third
    const start = (await box.boundingBox())!;
    const figure = (await page.locator('.reframe-frame').boundingBox())!;
    await page.mouse.move(start.x + start.width / 2, start.y + start.height / 2);
    await page.mouse.down();
    await page.mouse.move(figure.x + figure.width * 0.72, start.y + start.height / 2, { steps: 8 });
    await page.mouse.up();
    await expect.poll(() => box.getAttribute('aria-label'), POLL).toMatch(/^Product: right third/);
    // and one step back with the keyboard, then larger
    await box.focus();
    await box.press('ArrowLeft');
    for (let i = 0; i < 3; i++) await box.press('ArrowUp');
    const label = (await box.getAttribute('aria-label'))!;
    expect(label).toMatch(/^Product: right, size \d+ %/);
    const size = Number(/size (\d+) %/.exec(label)![1]) / 100;
    const preview = (await box.boundingBox())!;
    const frame = (await page.locator('.reframe-frame').boundingBox())!;
    await page.screenshot({ path: path.join(SHOTS, 'layout-reframe.png') });

    const created = page.waitForRequest((r) => r.url().endsWith('/v1/tasks') && r.method() === 'POST');
    await page.getByRole('button', { name: 'Render this framing' }).click();
    const sent = (await created).postDataJSON() as { input: { seed: number; prompt: string; scene: { framing: { position: string; size: number } } } };
    expect(sent.input.scene.framing).toEqual({ position: 'right', size });
    expect(sent.input.seed).toBe(7);
    expect(sent.input.prompt).toBe(byRatio.get('1:1')!.prompt);
    await expect.poll(() => page.locator('.turns > li').count(), POLL).toBe(2);
    expect(await page.locator('.turn-on').textContent()).toMatch(/#2 · Moved from #1/);
    // the new turn is shown from the top of the stage
    await resultBox(page);
    await expect.poll(async () => (await resultBox(page)).y, POLL).toBeGreaterThanOrEqual(0);
    const b = await resultBox(page);
    const turnId = ((await page.evaluate(() => JSON.parse(localStorage.getItem('reshoot.session')!).selected)) as string);
    const placed = (await finished(turnId)).reshoot.placement as { x: number; width: number; y: number; height: number };
    // the preview's centre and height, as fractions of the frame, against the render's own placement
    expect(Math.abs((preview.x + preview.width / 2 - frame.x) / frame.width - (placed.x + placed.width / 2) / 1024)).toBeLessThan(0.02);
    expect((preview.height / frame.height) / (placed.height / 1024)).toBeGreaterThan(0.9);
    expect((preview.height / frame.height) / (placed.height / 1024)).toBeLessThan(1.1);
    expectWholeAndLarge(b, 'moved');
    await page.screenshot({ path: path.join(SHOTS, 'layout-reframed.png') });
    await page.context().close();
  });

  it('history: whole thumbnails made small in the browser, prompts, search, status filter and removal', async () => {
    const ratios = ['9:21', '21:9', '1:1'];
    const page = await openStudio(VIEWPORTS[1], session(ratios.map((r) => byRatio.get(r)!.taskId)));
    await resultBox(page);
    await page.getByRole('button', { name: 'History', exact: true }).click();
    const cards = page.locator('.history-grid > li');
    await expect.poll(() => page.locator('.history-grid img').count(), POLL).toBe(8);
    const thumbs = await page.locator('.history-grid img').evaluateAll((imgs) =>
      (imgs as HTMLImageElement[]).map((i) => {
        const box = i.parentElement!.getBoundingClientRect();
        const r = i.getBoundingClientRect();
        return { src: i.src, w: i.naturalWidth, h: i.naturalHeight, fit: getComputedStyle(i).objectFit, inside: r.top >= box.top - 0.5 && r.bottom <= box.bottom + 0.5 && r.left >= box.left - 0.5 && r.right <= box.right + 0.5 };
      }),
    );
    for (const t of thumbs) {
      expect(t.src).toMatch(/^blob:/);
      expect(Math.max(t.w, t.h)).toBeLessThanOrEqual(320);
      // the whole picture inside its frame: nothing of a product's base is cut off
      expect(t.fit).toBe('contain');
      expect(t.inside).toBe(true);
    }
    await page.screenshot({ path: path.join(SHOTS, 'layout-history.png') });
    const search = page.getByRole('searchbox', { name: 'Search the history' });
    // the prompts this browser sent are on their cards
    await search.fill(byRatio.get('1:1')!.taskId);
    await expect.poll(() => cards.count(), POLL).toBe(1);
    expect(await page.locator('.card-prompt').textContent()).toBe(byRatio.get('1:1')!.prompt);
    await search.fill('marble');
    await expect.poll(() => page.locator('.history-matches').textContent(), POLL).toMatch(/\d+ matches among the newest/);
    const matches = await cards.count();
    expect(matches).toBeGreaterThan(0);
    for (const c of await cards.all()) expect((await c.textContent())!.toLowerCase()).toMatch(/marble/);
    await search.fill('');
    await page.getByRole('combobox', { name: 'Status' }).selectOption('fail');
    await expect.poll(() => page.locator('.history-matches').textContent(), POLL).toMatch(/^0 matches/);
    await page.getByRole('combobox', { name: 'Status' }).selectOption('');
    await expect.poll(() => cards.count(), POLL).toBe(8);
    const first = (await page.locator('.card-id').first().textContent())!;
    await page.getByRole('button', { name: `Remove task ${first} from this list` }).click();
    await expect.poll(() => page.locator('.card-id').first().textContent(), POLL).not.toBe(first);
    // kept in this browser; the task itself is still on the server
    await page.reload();
    await page.getByRole('button', { name: 'History', exact: true }).click();
    await page.getByRole('button', { name: 'Show 1 removed' }).waitFor();
    expect(await page.locator('.card-id').allTextContents()).not.toContain(first);
    expect((await api(`/v1/tasks/${first}`)).taskId).toBe(first);
    await page.getByRole('button', { name: 'Show 1 removed' }).click();
    await expect.poll(() => page.locator('.card-id').first().textContent(), POLL).toBe(first);
    await page.context().close();
  });
});
