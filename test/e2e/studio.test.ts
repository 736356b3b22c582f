import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { FIXTURES, renderPackshot } from '../fixtures/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { buildStudio, chromiumUnavailable, launchChromium, openPage } from '../helpers/chromium.js';

// The studio in a real browser against the real server: Debian's Chromium driven by playwright-core
// (no browser download). The scenarios run in order on one page, like a person working through them.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SHOTS = path.join(ROOT, '.tmp', 'e2e');
const POLL = { timeout: 15_000 };

let tmp: string;
let server: TestServer;
let browser: Browser;
let page: Page;
let fixturePath: string;
let mugPath: string;
const taskIds: string[] = [];

async function shot(p: Page, name: string, fullPage = false): Promise<void> {
  await p.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage });
}

async function apiGet(pathname: string): Promise<any> {
  const res = await fetch(`${server.url}${pathname}`, { headers: { authorization: `Bearer ${server.apiKey}` } });
  return ((await res.json()) as { data: unknown }).data;
}

/** Hands the page an image file the way a person would: dropped on the drop zone or pasted. */
async function giveFile(p: Page, file: string, how: 'drop' | 'paste'): Promise<void> {
  await p.evaluate(
    ([b64, name, kind]) => {
      const bytes = Uint8Array.from(atob(b64!), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], name!, { type: 'image/png' }));
      if (kind === 'paste') {
        document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
        return;
      }
      const zone = document.querySelector('.dropzone')!;
      zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    },
    [fs.readFileSync(file).toString('base64'), path.basename(file), how],
  );
}

/** Waits until the result image has really loaded (not just been put in the page). */
async function resultLoaded(p: Page, src?: string): Promise<string> {
  const img = p.locator('img.compare-after');
  await img.waitFor({ timeout: 120_000 });
  await p.waitForFunction(
    (prev) => {
      const el = document.querySelector<HTMLImageElement>('img.compare-after');
      return !!el && el.complete && el.naturalWidth > 0 && el.src !== prev;
    },
    src ?? '',
    { timeout: 120_000 },
  );
  return (await img.getAttribute('src'))!;
}

// Renders share two cores with everything else in CI; the first one also loads the cutout model.
describe.skipIf(chromiumUnavailable !== null)('web studio in Chromium', { timeout: 150_000 }, () => {
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reshoot-e2e-'));
    fs.mkdirSync(SHOTS, { recursive: true });
    // Build the current sources rather than trusting a web/dist that may be stale.
    const webDir = path.join(tmp, 'web');
    await buildStudio(webDir);
    fixturePath = path.join(tmp, 'dripper.png');
    fs.writeFileSync(fixturePath, (await renderPackshot({ ...FIXTURES.dripper, width: 640, height: 640 })).png);
    mugPath = path.join(tmp, 'mug.png');
    fs.writeFileSync(mugPath, (await renderPackshot({ ...FIXTURES.mug, width: 480, height: 480 })).png);
    server = await startTestServer({ RESHOOT_WEB_DIR: webDir, RESHOOT_JOB_MAX_ATTEMPTS: '1' });
    // launch() gives the browser a fresh temporary profile of its own and removes it on close.
    browser = await launchChromium();
    page = await openPage(browser, { viewport: { width: 1440, height: 900 }, acceptDownloads: true });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('serves the studio and refuses an invalid key, then keeps a valid one', async () => {
    const res = await fetch(server.url);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    await page.goto(server.url);
    const keyField = page.getByLabel('API key');
    await keyField.fill('sk-not-a-real-key');
    await page.getByRole('button', { name: 'Continue' }).click();
    await expect.poll(() => page.getByRole('alert').textContent(), POLL).toMatch(/not accepted \(UNAUTHORIZED\)/);
    await shot(page, 'key-invalid');
    await keyField.fill(server.apiKey);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('button', { name: 'Generate' }).waitFor();
    // Kept in the browser: a reload goes straight to the studio.
    await page.reload();
    await page.getByRole('button', { name: 'Generate' }).waitFor();
    expect(await page.evaluate(() => localStorage.getItem('reshoot.apiKey'))).toBe(server.apiKey);
    await shot(page, 'studio-empty');
  });

  it('uploads a fixture, shows what the planner understood and disables invalid combinations', async () => {
    await page.locator('input[type=file]').setInputFiles(fixturePath);
    await page.getByText('1. dripper.png').waitFor();
    await page.waitForFunction(() => !document.body.textContent?.includes('Uploading…'));
    await page.getByRole('button', { name: 'Dark slate, steam' }).click();
    const understood = page.getByRole('list', { name: 'Understood' });
    await expect.poll(() => understood.textContent(), POLL).toMatch(/slate stone/);
    expect(await understood.textContent()).toMatch(/steam/);
    // Typing a word the planner does not know shows it as ignored, live.
    await page.getByRole('textbox', { name: 'Prompt' }).press('End');
    await page.getByRole('textbox', { name: 'Prompt' }).pressSequentially(' zorblax');
    await expect.poll(() => page.getByRole('list', { name: 'Ignored words' }).textContent(), POLL).toMatch(/zorblax/);
    await page.getByRole('button', { name: 'Dark slate, steam' }).click();
    // Same rule table as the server: 1:1 at 4K is not offered, so the 4K radio is disabled.
    expect(await page.getByRole('radio', { name: '1:1', exact: true }).isChecked()).toBe(true);
    expect(await page.getByRole('radio', { name: '4K', exact: true }).isDisabled()).toBe(true);
    expect(await page.getByRole('radio', { name: '16:9', exact: true }).isDisabled()).toBe(false);
    // auto is only allowed at 1K: choosing 2K disables it.
    await page.getByRole('radio', { name: '2K', exact: true }).check({ force: true });
    expect(await page.getByRole('radio', { name: 'auto', exact: true }).isDisabled()).toBe(true);
    await page.getByRole('radio', { name: '1K', exact: true }).check({ force: true });
    await shot(page, 'studio-ready');
  });

  it('transforms with the preset and shows the result with a before/after slider and fidelity', async () => {
    const created = page.waitForResponse((r) => r.url().endsWith('/v1/tasks') && r.request().method() === 'POST');
    await page.getByRole('button', { name: 'Generate' }).click();
    const body = (await (await created).json()) as { data: { taskId: string } };
    taskIds.push(body.data.taskId);
    const sent = (await created).request().postDataJSON() as { model: string; input: Record<string, unknown> };
    expect(sent.model).toBe('gpt-image-2-image-to-image');
    expect(sent.input.aspect_ratio).toBe('1:1');
    expect(sent.input.prompt).toMatch(/dark slate stone/);
    expect(Number.isInteger(sent.input.seed)).toBe(true);

    await resultLoaded(page);
    const task = await apiGet(`/v1/tasks/${taskIds[0]}`);
    expect(task.status).toBe('success');
    expect(await page.locator('img.compare-after').getAttribute('src')).toBe(task.output[0].url);
    expect(await page.locator('img.compare-after').evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight])).toEqual([1024, 1024]);

    // The divider is a range input: the keyboard moves it and the clip follows.
    const range = page.getByRole('slider', { name: 'Before and after divider' });
    await range.focus();
    await range.press('Home');
    expect(await page.locator('.compare-before').getAttribute('style')).toMatch(/inset\(0(px)? 100% 0(px)? 0(px)?\)/);
    for (let i = 0; i < 30; i++) await range.press('ArrowRight');
    expect(await range.inputValue()).toBe('30');
    expect(await page.locator('.compare-before').getAttribute('style')).toMatch(/inset\(0(px)? 70% 0(px)? 0(px)?\)/);
    await expect.poll(() => page.locator('.figures').textContent(), POLL).toMatch(/ΔE \d+\.\d\d/);
    await page.locator('.compare').scrollIntoViewIfNeeded();
    await shot(page, 'result');
  });

  it('edits the result once: the follow-up uses the previous output and becomes turn 2', async () => {
    const firstSrc = await page.locator('img.compare-after').getAttribute('src');
    await page.getByLabel('Edit this result').fill('make the light warmer');
    const created = page.waitForResponse((r) => r.url().endsWith('/v1/tasks') && r.request().method() === 'POST');
    await page.getByRole('button', { name: 'Apply edit' }).click();
    const res = await created;
    const sent = res.request().postDataJSON() as { input: { prompt: string; input_urls: string[]; seed: number } };
    expect(sent.input.prompt).toBe('make the light warmer');
    expect(sent.input.input_urls[0]).toBe(new URL(firstSrc!, server.url).toString());
    taskIds.push(((await res.json()) as { data: { taskId: string } }).data.taskId);

    await resultLoaded(page, new URL(firstSrc!, server.url).toString());
    const turns = page.locator('.turns > li');
    expect(await turns.count()).toBe(2);
    expect(await turns.nth(1).textContent()).toMatch(/#2 · Edit of #1.*make the light warmer/);
    // Branching: selecting turn 1 shows its result again.
    await turns.nth(0).getByRole('button').click();
    expect(await page.locator('img.compare-after').getAttribute('src')).toBe(firstSrc);
    await turns.nth(1).getByRole('button').click();
    await resultLoaded(page, firstSrc ?? '');
    // The timeline survives a reload: the selected turn comes back with its result and its before image.
    await page.reload();
    await resultLoaded(page);
    await page.evaluate(() => window.scrollTo(0, 0));
    expect(await page.locator('.turns > li').count()).toBe(2);
    expect(await page.locator('.turn-on').textContent()).toMatch(/#2 · Edit of #1/);
    expect(await page.locator('.compare-before img.compare-source').getAttribute('src')).toBe(new URL(firstSrc!, server.url).toString());
    await shot(page, 'edit');
  });

  it('downloads the result as PNG, JPEG and WebP, each decoding to the output size', async () => {
    const task = await apiGet(`/v1/tasks/${taskIds[1]}`);
    const meta0 = await sharp(Buffer.from(await (await fetch(new URL(task.output[0].url, server.url))).arrayBuffer())).metadata();
    for (const [label, format] of [
      ['PNG', 'png'],
      ['JPEG', 'jpeg'],
      ['WebP', 'webp'],
    ] as const) {
      const download = page.waitForEvent('download');
      await page.getByRole('group', { name: 'Download' }).getByRole('button', { name: label }).click();
      const d = await download;
      expect(d.suggestedFilename()).toBe(`reshoot-${taskIds[1]}.${format === 'jpeg' ? 'jpg' : format}`);
      const file = await d.path();
      const meta = await sharp(fs.readFileSync(file)).metadata();
      expect(meta.format).toBe(format);
      expect([meta.width, meta.height]).toEqual([meta0.width, meta0.height]);
      const stats = await sharp(fs.readFileSync(file)).stats();
      // A real picture, not a blank canvas: the channels vary.
      expect(stats.channels[0]!.stdev).toBeGreaterThan(5);
    }
  });

  it('renders an aspect set: the same scene in 1:1, 4:5, 16:9 and 9:16', async () => {
    const sent: Array<{ input: { aspect_ratio: string; scene_from?: string } }> = [];
    const onRequest = (r: import('playwright-core').Request) => {
      if (r.url().endsWith('/v1/tasks') && r.method() === 'POST') sent.push(r.postDataJSON());
    };
    page.on('request', onRequest);
    await page.getByRole('button', { name: /Aspect set/ }).click();
    const grid = page.locator('.batch-grid');
    await grid.waitFor();
    await page.waitForFunction(() => document.querySelectorAll('.batch-grid img').length === 4 && [...document.querySelectorAll<HTMLImageElement>('.batch-grid img')].every((i) => i.complete && i.naturalWidth > 0), undefined, { timeout: 120_000 });
    const sizes = await grid.locator('img').evaluateAll((imgs) => (imgs as HTMLImageElement[]).map((i) => `${i.naturalWidth}x${i.naturalHeight}`));
    expect(sizes).toEqual(['1024x1024', '816x1024', '1024x576', '576x1024']);
    page.off('request', onRequest);
    // Every placement reuses the selected turn's plan and seed.
    expect(sent.map((b) => b.input.aspect_ratio).sort()).toEqual(['16:9', '1:1', '4:5', '9:16']);
    expect(sent.every((b) => b.input.scene_from === taskIds[1])).toBe(true);
    await grid.scrollIntoViewIfNeeded();
    await shot(page, 'aspect-set');
  });

  it('shows a failed task with its reason, in the studio and in the history', async () => {
    await page.getByRole('button', { name: 'Remove reference 1' }).click();
    // Loopback is refused by the server's address guard, so the task is accepted and then fails.
    await page.getByLabel('Image URL').fill('http://127.0.0.1:9/missing.png');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByRole('button', { name: 'Generate' }).click();
    const failed = page.locator('.stage-failed');
    await failed.waitFor({ timeout: 120_000 });
    expect(await failed.textContent()).toMatch(/This render failed.*Image 1: refused/);
    expect(await failed.textContent()).not.toMatch(/input_urls/);
    await shot(page, 'failed');

    await page.getByRole('button', { name: 'History', exact: true }).click();
    await page.locator('.history-grid').waitFor();
    const cards = page.locator('.history-grid > li');
    expect(await cards.count()).toBe(taskIds.length + 4 + 1);
    expect(await cards.first().textContent()).toMatch(/Failed.*refused/);
    // thumbnails are made in the browser, a moment after the list arrives
    await expect.poll(() => page.locator('.card-success img').count(), POLL).toBeGreaterThanOrEqual(6);
    await shot(page, 'history');
    // Opening a past result brings it back into the studio.
    await cards.nth(1).getByRole('button', { name: /^Open task/ }).click();
    await resultLoaded(page);
  });

  it('sends Pro references dropped and pasted, with the role chosen for each', async () => {
    await page.getByRole('button', { name: 'Studio', exact: true }).click();
    await page.getByRole('button', { name: 'Remove reference 1' }).click();
    await page.getByRole('radio', { name: /^Pro/ }).check({ force: true });
    await giveFile(page, fixturePath, 'drop');
    await page.getByText('1. dripper.png').waitFor();
    await giveFile(page, mugPath, 'paste');
    await page.getByText('2. mug.png').waitFor();
    await page.getByLabel('Role of reference 2').selectOption('style');
    await page.getByRole('radio', { name: '4:3', exact: true }).check({ force: true });
    await page.waitForFunction(() => !document.body.textContent?.includes('Uploading…'));
    const created = page.waitForRequest((r) => r.url().endsWith('/v1/tasks') && r.method() === 'POST');
    await page.getByRole('button', { name: 'Generate' }).click();
    const sent = (await created).postDataJSON() as { model: string; input: { input_urls: string[]; roles?: string[]; aspect_ratio: string } };
    expect(sent.model).toBe('gpt-image-2-image-to-image-pro');
    expect(sent.input.input_urls).toHaveLength(2);
    // Reference 1 was left on Auto: it goes as the documented default, a product.
    expect(sent.input.roles).toEqual(['product', 'style']);
    expect(sent.input.aspect_ratio).toBe('4:3');
    const src = await resultLoaded(page);
    expect(await page.locator('img.compare-after').evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight])).toEqual([1024, 768]);
    expect(src).toMatch(/\/files\//);
    await page.locator('.compare').scrollIntoViewIfNeeded();
    await shot(page, 'pro');
  });

  it('fits a phone screen without sideways scrolling', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    await phone.addInitScript((key) => localStorage.setItem('reshoot.apiKey', key), server.apiKey);
    const p = await phone.newPage();
    await p.goto(server.url);
    await p.getByRole('button', { name: 'Generate' }).waitFor();
    await giveFile(p, fixturePath, 'paste');
    await p.getByText('1. dripper.png').waitFor();
    await p.getByRole('button', { name: 'Cafe counter, morning' }).click();
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await shot(p, 'phone-form', true);
    // A fine control, once touched, is sent in input.scene; untouched ones stay with the prompt.
    await p.getByText('Fine controls').click();
    const hardness = p.getByRole('slider', { name: /^Light hardness/ });
    const before = Number(await hardness.inputValue());
    await hardness.focus();
    await hardness.press('ArrowRight');
    await p.locator('.scene-controls').scrollIntoViewIfNeeded();
    await shot(p, 'phone-controls');
    const created = p.waitForRequest((r) => r.url().endsWith('/v1/tasks') && r.method() === 'POST');
    await p.getByRole('button', { name: 'Generate' }).click();
    const sent = (await created).postDataJSON() as { input: { scene?: { light?: { hardness?: number }; surface?: unknown } } };
    expect(sent.input.scene?.light?.hardness).toBeCloseTo(Math.min(1, before + 0.05), 5);
    expect(sent.input.scene?.surface).toBeUndefined();
    await resultLoaded(p);
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await shot(p, 'phone-result');
    await phone.close();
  });

  it('pages through the history, newest first', async () => {
    const all = (await apiGet('/v1/tasks?page=1&size=50')) as { total: number; tasks: Array<{ taskId: string }> };
    expect(all.total).toBe(9);
    await page.getByRole('button', { name: 'History', exact: true }).click();
    await expect.poll(() => page.locator('.pager').textContent(), POLL).toMatch(/Page 1 of 2/);
    expect(await page.locator('.history-grid > li').count()).toBe(8);
    expect(await page.locator('.card-id').first().textContent()).toBe(all.tasks[0]!.taskId);
    await page.getByRole('button', { name: 'Older →' }).click();
    await expect.poll(() => page.locator('.pager').textContent(), POLL).toMatch(/Page 2 of 2/);
    await expect.poll(() => page.locator('.history-grid > li').count(), POLL).toBe(1);
    // The oldest task is the first render of this run.
    expect(await page.locator('.card-id').first().textContent()).toBe(taskIds[0]);
    await page.getByRole('button', { name: '← Newer' }).click();
    await expect.poll(() => page.locator('.history-grid > li').count(), POLL).toBe(8);
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, 'history-page-1');
  });
});
