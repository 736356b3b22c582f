import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { unzipSync } from 'fflate';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outputSize, type AspectRatio } from '../../src/contract/models.js';
import { priceFor, type PriceRow } from '../../src/contract/pricing.js';
import { FIXTURES, renderPackshot } from '../fixtures/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { buildStudio, chromiumUnavailable, launchChromium, openPage } from '../helpers/chromium.js';

// A batch in the studio as a person runs one: a folder picked and a file dropped, two prompts × two
// ratios, the quote checked against the server's price rows, every row done, and the zip's entries
// decoded. Debian's Chromium driven by playwright-core; screenshots go to .tmp/e2e/batch-*.png.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SHOTS = path.join(ROOT, '.tmp', 'e2e');
const POLL = { timeout: 20_000 };
const MODEL = 'gpt-image-2-image-to-image';
/** a price table in which the ratio changes the price, so a quote that ignores the matrix is caught */
const PRICES: PriceRow[] = [{ model_name: MODEL, base_usd_value: 0.03, policies: [{ rule: { aspect_ratio: { match: '4:5' } }, usd_value: 0.05 }] }];
const PROMPTS = ['on a marble kitchen counter, morning light', 'Beach at sunset'];
const RATIOS: AspectRatio[] = ['1:1', '4:5'];

let tmp: string;
let server: TestServer;
let browser: Browser;
let page: Page;
let folder: string;
let mugPath: string;

async function shot(name: string) {
  await page.screenshot({ path: path.join(SHOTS, `batch-${name}.png`) });
}

/** Drops files on the batch's drop zone as a browser does (a DataTransfer of Files). */
async function dropFiles(files: Array<{ name: string; bytes: Buffer; type: string }>) {
  await page.evaluate((list) => {
    const dt = new DataTransfer();
    for (const f of list) dt.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name, { type: f.type }));
    const zone = document.querySelector('.batch-drop')!;
    zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, files.map((f) => ({ name: f.name, type: f.type, b64: f.bytes.toString('base64') })));
}

const usd = async (selector: string) => Number(await page.locator(selector).getAttribute('data-usd'));

describe.skipIf(chromiumUnavailable !== null)('batches in the web studio', { timeout: 300_000 }, () => {
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reshoot-e2e-batch-'));
    fs.mkdirSync(SHOTS, { recursive: true });
    const webDir = path.join(tmp, 'web');
    await buildStudio(webDir);
    // a folder as a photographer hands it over: a packshot and a file that is not an image
    folder = path.join(tmp, 'shoot');
    fs.mkdirSync(folder);
    fs.writeFileSync(path.join(folder, 'dripper.png'), (await renderPackshot({ ...FIXTURES.dripper, width: 320, height: 320 })).png);
    fs.writeFileSync(path.join(folder, 'notes.txt'), 'shot list\n');
    mugPath = path.join(tmp, 'mug.png');
    fs.writeFileSync(mugPath, (await renderPackshot({ ...FIXTURES.mug, width: 288, height: 288 })).png);
    server = await startTestServer({ RESHOOT_WEB_DIR: webDir, RESHOOT_JOB_MAX_ATTEMPTS: '1', RESHOOT_PRICING: JSON.stringify(PRICES) });
    browser = await launchChromium();
    page = await openPage(browser, { viewport: { width: 1280, height: 720 }, acceptDownloads: true }, (context) => context.addInitScript((key) => localStorage.setItem('reshoot.apiKey', key), server.apiKey));
    await page.goto(server.url);
    await page.getByRole('button', { name: 'Batch' }).click();
    await page.getByRole('heading', { name: 'Batch' }).waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('takes a folder and a dropped file, and quotes the matrix by the server price rows', async () => {
    await page.locator('input.batch-folder').setInputFiles(folder);
    await dropFiles([{ name: 'mug.png', bytes: fs.readFileSync(mugPath), type: 'image/png' }]);
    const list = page.getByRole('list', { name: 'Images in the batch' });
    await expect.poll(() => list.locator('li').allTextContents(), POLL).toEqual([
      expect.stringContaining('shoot/dripper.png'),
      expect.stringContaining('mug.png'),
    ]);

    await page.getByRole('textbox', { name: 'Prompts' }).fill(`${PROMPTS[0]}\n\n${PROMPTS[1]}\n`);
    await page.locator('label.batch-ratio', { hasText: '4:5' }).click();

    // a ratio the resolution does not allow is named, and nothing can start
    await page.locator('.batch-view label.seg', { hasText: '4K' }).click();
    await expect.poll(() => page.locator('.batch-problems').textContent(), POLL).toContain('1:1 at 4K: resolution 4K is not allowed with aspect ratio 1:1');
    expect(await page.getByRole('button', { name: 'Start batch' }).isDisabled()).toBe(true);
    await page.locator('.batch-view label.seg', { hasText: '1K' }).click();

    // the quote is the server's own rule applied to every item of the matrix
    const rows = (await (await fetch(`${server.url}/api/pricing`)).json()).data as PriceRow[];
    let expected = 0;
    for (let f = 0; f < 2; f++) for (const prompt of PROMPTS) for (const ratio of RATIOS) expected += priceFor(rows, MODEL, { prompt, input_urls: ['x'], aspect_ratio: ratio, resolution: '1K' })!;
    expect(expected).toBeCloseTo(0.32, 9);
    await expect.poll(() => usd('.batch-total'), POLL).toBeCloseTo(expected, 9);
    expect(await page.locator('.batch-matrix').textContent()).toMatch(/2 images × 2 prompts × 2 ratios = 8 renders · \$0\.32/);
    await shot('quote');
  });

  it('renders every row with at most three in flight and shows what was spent', async () => {
    const uploads: string[] = [];
    let most = 0;
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/v1/uploads')) uploads.push(r.url());
    });
    await page.getByRole('button', { name: 'Start batch' }).click();
    const progress = page.locator('.batch-progress-text');
    const started = Date.now();
    let shotRunning = false;
    for (;;) {
      const counts = await page.evaluate(() => {
        const rows = [...document.querySelectorAll('.batch-row')];
        const busy = rows.filter((r) => /is-(queued|handling|archiving|uploading)/.test(r.className)).length;
        return { busy, done: rows.filter((r) => r.classList.contains('is-success')).length, failed: rows.filter((r) => r.classList.contains('is-fail')).length };
      });
      most = Math.max(most, counts.busy);
      expect(counts.failed).toBe(0);
      if (counts.done === 8) break;
      if (!shotRunning && counts.busy > 0) {
        shotRunning = true;
        await shot('running');
      }
      expect(Date.now() - started).toBeLessThan(240_000);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await progress.textContent()).toBe('8 of 8 done');
    // the worker takes one at a time here, so the studio keeps its full three waiting in flight
    expect(most).toBeGreaterThanOrEqual(2);
    expect(most).toBeLessThanOrEqual(3);
    // each file went up once, not once per render
    expect(uploads).toHaveLength(2);
    await expect.poll(() => usd('.batch-spent strong'), POLL).toBeCloseTo(0.32, 9);
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('.batch-thumb img')].every((i) => i.complete && i.naturalWidth > 0));
    await shot('done');
  });

  it('downloads a zip of every result named <file stem>/<prompt slug>-<ratio>, each the right size', async () => {
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download zip (8)' }).click();
    const d = await download;
    expect(d.suggestedFilename()).toMatch(/^reshoot-batch-\d{12}\.zip$/);
    const entries = unzipSync(new Uint8Array(fs.readFileSync((await d.path())!)));
    const names = Object.keys(entries).sort();
    expect(names).toEqual(
      [
        'dripper/beach-at-sunset-1x1.png',
        'dripper/beach-at-sunset-4x5.png',
        'dripper/on-a-marble-kitchen-counter-morning-light-1x1.png',
        'dripper/on-a-marble-kitchen-counter-morning-light-4x5.png',
        'mug/beach-at-sunset-1x1.png',
        'mug/beach-at-sunset-4x5.png',
        'mug/on-a-marble-kitchen-counter-morning-light-1x1.png',
        'mug/on-a-marble-kitchen-counter-morning-light-4x5.png',
      ].sort(),
    );
    for (const name of names) {
      const ratio = name.endsWith('4x5.png') ? '4:5' : '1:1';
      const meta = await sharp(Buffer.from(entries[name]!)).metadata();
      expect({ name, format: meta.format, width: meta.width, height: meta.height }).toEqual({ name, format: 'png', ...outputSize(ratio, '1K') });
    }
    // the two files' renders differ (each row rendered its own file)
    expect(Buffer.compare(Buffer.from(entries['mug/beach-at-sunset-1x1.png']!), Buffer.from(entries['dripper/beach-at-sunset-1x1.png']!))).not.toBe(0);
  });

  it('shows a failed item with its reason, and retries it', async () => {
    await page.getByRole('button', { name: 'Clear' }).click();
    await dropFiles([{ name: 'broken.png', bytes: Buffer.from('not an image at all'), type: 'image/png' }]);
    await page.getByRole('textbox', { name: 'Prompts' }).fill('on slate');
    await page.locator('label.batch-ratio', { hasText: '1:1' }).click(); // leaves 4:5
    await expect.poll(() => page.locator('.batch-matrix').textContent(), POLL).toMatch(/1 image × 1 prompt × 1 ratio = 1 render · \$0\.05/);
    await page.getByRole('button', { name: 'Start a new batch' }).click();
    const row = page.locator('.batch-row');
    await expect.poll(() => row.getAttribute('class'), POLL).toContain('is-fail');
    expect(await row.locator('.batch-row-error').textContent()).toMatch(/^broken\.png: .*decod/i);
    expect(await page.locator('.batch-progress-text').textContent()).toBe('0 of 1 done · 1 failed');
    expect(await usd('.batch-spent strong')).toBe(0);
    await shot('failed');
    let uploadsSeen = 0;
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/v1/uploads')) uploadsSeen++;
    });
    await page.getByRole('button', { name: 'Retry 1 failed' }).click();
    await expect.poll(() => uploadsSeen, POLL).toBe(1);
    await expect.poll(() => row.getAttribute('class'), POLL).toContain('is-fail');
    expect(await row.locator('.batch-row-error').textContent()).toMatch(/^broken\.png: /);
  });
  it('stops, and a retry picks up the tasks already on the server instead of paying for them twice', async () => {
    const before = ((await (await fetch(`${server.url}/v1/tasks?page=1&size=1`, { headers: { authorization: `Bearer ${server.apiKey}` } })).json()).data as { total: number }).total;
    let creates = 0;
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/v1/tasks')) creates++;
    });
    await page.getByRole('button', { name: 'Clear' }).click();
    await dropFiles([{ name: 'mug.png', bytes: fs.readFileSync(mugPath), type: 'image/png' }]);
    for (const r of ['1:1', '3:2', '2:3', '4:3']) await page.locator('label.batch-ratio', { hasText: new RegExp(`^${r}$`) }).click();
    await expect.poll(() => page.locator('.batch-matrix').textContent(), POLL).toMatch(/1 image × 1 prompt × 5 ratios = 5 renders/);
    await page.getByRole('button', { name: 'Start a new batch' }).click();
    await page.locator('.batch-row.is-queued, .batch-row.is-handling').first().waitFor(POLL);
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.getByRole('button', { name: /^Resume \d stopped$/ }).waitFor(POLL);
    const stopped = await page.locator('.batch-row', { hasText: 'Stopped waiting' }).count();
    const notStarted = await page.locator('.batch-row', { hasText: 'Not started: the batch was stopped.' }).count();
    const done = await page.locator('.batch-row.is-success').count();
    expect(stopped + notStarted + done).toBe(5);
    expect(await page.locator('.batch-progress-text').textContent()).toBe(`${done} of 5 done · ${5 - done} stopped`);
    expect(notStarted).toBeGreaterThan(0);
    expect(creates).toBe(5 - notStarted);
    await shot('stopped');
    await page.getByRole('button', { name: /^Resume \d stopped$/ }).click();
    await expect.poll(() => page.locator('.batch-progress-text').textContent(), { timeout: 120_000 }).toBe('5 of 5 done');
    // only the items never sent were created on retry: five tasks in all, each paid once
    expect(creates).toBe(5);
    const after = ((await (await fetch(`${server.url}/v1/tasks?page=1&size=1`, { headers: { authorization: `Bearer ${server.apiKey}` } })).json()).data as { total: number }).total;
    expect(after - before).toBe(5);
    await expect.poll(() => usd('.batch-spent strong'), POLL).toBeCloseTo(0.03 * 4 + 0.05, 9);
  });
});
