import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, renderPackshot } from '../fixtures/index.js';
import { startPaintingHiapi } from '../fakes/layout-painter.js';
import { buildStudio, chromiumUnavailable, launchChromium, openPage } from '../helpers/chromium.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import type { FakeHiapi } from '../sdk/fake-hiapi.js';

// The studio's engine picker and the product lock's report in a real browser (Debian's Chromium via
// playwright-core) against the real server, whose hiapi route paints through a fake hiapi upstream on
// loopback: it repaints the layout and drifts the product like an image model; a prompt with CHANGED
// reshapes the product, which the strict lock refuses. Screenshots go to .tmp/e2e/generative-*.png.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SHOTS = path.join(ROOT, '.tmp', 'e2e');
const POLL = { timeout: 15_000 };
const RENDER = { timeout: 120_000 };

let tmp: string;
let webDir: string;
let hiapi: FakeHiapi;
let server: TestServer;
let browser: Browser;
let page: Page;
let mugPath: string;

interface SentBody {
  model: string;
  route?: string;
  input: { prompt: string; lock?: string; input_urls: string[] };
}

/** Clicks a button that creates a task and returns the body the page sent. */
async function sendsTask(p: Page, click: () => Promise<void>): Promise<SentBody> {
  const created = p.waitForResponse((r) => r.url().endsWith('/v1/tasks') && r.request().method() === 'POST');
  await click();
  const res = await created;
  expect(res.status()).toBe(200);
  return res.request().postDataJSON() as SentBody;
}

async function resultLoaded(p: Page, previous = ''): Promise<void> {
  await p.waitForFunction(
    (prev) => {
      const el = document.querySelector<HTMLImageElement>('img.compare-after');
      return !!el && el.complete && el.naturalWidth > 0 && el.src !== prev;
    },
    previous,
    RENDER,
  );
}

async function signIn(p: Page, s: TestServer): Promise<void> {
  await p.goto(s.url);
  await p.getByLabel('API key').fill(s.apiKey);
  await p.getByRole('button', { name: 'Continue' }).click();
  await p.getByRole('button', { name: 'Generate' }).waitFor();
}

describe.skipIf(chromiumUnavailable !== null)('the engine picker and the product lock in the studio', { timeout: 240_000 }, () => {
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reshoot-e2e-gen-'));
    fs.mkdirSync(SHOTS, { recursive: true });
    webDir = path.join(tmp, 'web');
    await buildStudio(webDir);
    mugPath = path.join(tmp, 'mug.png');
    fs.writeFileSync(mugPath, (await renderPackshot({ ...FIXTURES.mug, width: 480, height: 480 })).png);
    hiapi = await startPaintingHiapi();
    server = await startTestServer({
      RESHOOT_WEB_DIR: webDir,
      RESHOOT_JOB_MAX_ATTEMPTS: '1',
      RESHOOT_HIAPI_UPSTREAM_URL: hiapi.url,
      RESHOOT_HIAPI_UPSTREAM_KEY: hiapi.apiKey,
      RESHOOT_UPSTREAM_POLL_MS: '20',
      RESHOOT_UPSTREAM_RETRY_BASE_MS: '20',
      // an upstream that fails is replaced by the studio, and the result says so
      RESHOOT_FALLBACK_ENGINE: 'studio',
      // what hiapi charges per image: the Output panel shows it once hiapi is picked (the model@hiapi row)
      RESHOOT_HIAPI_UPSTREAM_PRICE: '0.05',
    });
    browser = await launchChromium();
    page = await openPage(browser, { viewport: { width: 1440, height: 900 } });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await hiapi?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('offers no engine choice on a server with the studio only', async () => {
    const plain = await startTestServer({ RESHOOT_WEB_DIR: webDir });
    try {
      const p = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      const models = p.waitForResponse((r) => r.url().endsWith('/v1/models'));
      await signIn(p, plain);
      // the models answer has come in and says: the studio only
      expect((await (await models).json()).data[0].routes).toEqual(['default', 'studio']);
      await p.getByRole('heading', { name: 'Output' }).waitFor();
      expect(await p.getByRole('heading', { name: 'Engine' }).count()).toBe(0);
      expect(await p.getByLabel('Product lock').count()).toBe(0);
      await p.close();
    } finally {
      await plain.close();
    }
  });

  it('picks the hiapi route (the studio is the default), renders, and shows the lock figures in words', async () => {
    await signIn(page, server);
    const engine = page.getByRole('group', { name: 'Render with' });
    await engine.waitFor();
    // the server's default is selected at first; the lock applies only to a generative engine
    expect(await page.getByRole('radio', { name: 'Studio default' }).isChecked()).toBe(true);
    expect(await page.getByLabel('Product lock').count()).toBe(0);
    // the price beside each model is the picked route's: the studio's Standard is free, hiapi's is its price row
    const standardPrice = page.locator('label.seg', { has: page.locator('input[name=model][value="gpt-image-2-image-to-image"]') }).locator('.seg-sub');
    await expect.poll(() => standardPrice.textContent(), POLL).toBe('free');
    await page.locator('.engine-panel label.seg', { hasText: 'hiapi' }).click();
    await expect.poll(() => page.getByRole('radio', { name: 'hiapi' }).isChecked(), POLL).toBe(true);
    await expect.poll(() => standardPrice.textContent(), POLL).toBe('$0.05 / image');
    const lock = page.getByLabel('Product lock');
    expect(await lock.inputValue()).toBe('strict');

    await page.locator('input[type=file]').first().setInputFiles(mugPath);
    await page.getByText('1. mug.png').waitFor();
    await page.waitForFunction(() => !document.body.textContent?.includes('Uploading…'));
    await page.getByRole('textbox', { name: 'Prompt' }).fill('on a sunlit kitchen counter');
    expect(await page.locator('#generate-hint').textContent()).toMatch(/· hiapi$/);
    const sent = await sendsTask(page, () => page.getByRole('button', { name: 'Generate' }).click());
    expect(sent).toMatchObject({ model: 'gpt-image-2-image-to-image', route: 'hiapi', input: { lock: 'strict' } });
    await resultLoaded(page);

    const report = page.getByRole('region', { name: 'Product lock' });
    await expect.poll(() => report.textContent(), POLL).toMatch(/Painted by hiapi\. Product lock \(strict\): the photographed product was pasted back where the model put it\./);
    const figures = Object.fromEntries(
      await page.locator('.lock-figure').evaluateAll((els) => els.map((e) => [e.querySelector('dt')!.textContent, e.querySelector('dd')!.textContent])),
    ) as Record<string, string>;
    expect(figures['Product found']).toBe('yes');
    // the fake model scaled the product 1.08× and turned it 2.5° (test/fakes/drift.ts DRIFTS[1])
    expect(figures['Where the model put it']).toMatch(/^moved [−+]?\d+, [−+]?\d+ px · scale 1\.0[6-9]× · rotated [23]\.\d°$/);
    const iou = Number(/IoU (\d\.\d\d)/.exec(figures['Silhouette match']!)![1]);
    expect(iou).toBeGreaterThanOrEqual(0.85);
    const [before, after] = figures['Product colour ΔE']!.split(' → ').map(Number) as [number, number];
    expect(after).toBeLessThan(1);
    expect(before).toBeGreaterThan(after);
    // the same figures the task reports
    const task = (await (await fetch(`${server.url}/v1/tasks/${(await page.evaluate(() => JSON.parse(localStorage.getItem('reshoot.session')!).selected)) as string}`, { headers: { authorization: `Bearer ${server.apiKey}` } })).json()).data;
    expect(task.reshoot.lock.silhouetteIoU.toFixed(2)).toBe(iou.toFixed(2));
    // the figures at the bottom of the window, the result above them
    await page.locator('.lock-report').evaluate((el) => el.scrollIntoView({ block: 'end' }));
    await page.screenshot({ path: path.join(SHOTS, 'generative-result.png') });
    fs.writeFileSync(path.join(SHOTS, 'generative-output.png'), Buffer.from(await (await fetch(task.output[0].url)).arrayBuffer()));
  });

  it('keeps the route and the lock across turns: an edit renders through hiapi again', async () => {
    const previous = (await page.locator('img.compare-after').getAttribute('src'))!;
    await page.getByLabel('Edit this result').fill('make the light warmer');
    const sent = await sendsTask(page, () => page.getByRole('button', { name: 'Apply edit' }).click());
    expect(sent).toMatchObject({ route: 'hiapi', input: { prompt: 'make the light warmer', lock: 'strict' } });
    await resultLoaded(page, new URL(previous, server.url).toString());
    await expect.poll(() => page.locator('.lock-report').textContent(), POLL).toMatch(/Painted by hiapi/);
    // a reload keeps the engine picked
    await page.reload();
    await page.getByRole('group', { name: 'Render with' }).waitFor();
    await expect.poll(() => page.getByRole('radio', { name: 'hiapi' }).isChecked(), POLL).toBe(true);
  });

  it('shows a strict refusal as a clear failure with its reason', async () => {
    await page.getByRole('textbox', { name: 'Prompt' }).fill('on slate, CHANGED');
    const sent = await sendsTask(page, () => page.getByRole('button', { name: 'Generate' }).click());
    expect(sent).toMatchObject({ route: 'hiapi', input: { lock: 'strict' } });
    const failed = page.locator('.stage-failed');
    await failed.waitFor(RENDER);
    expect(await failed.getByRole('heading').textContent()).toBe('The product lock refused this render');
    expect(await failed.textContent()).toMatch(/The model changed the product's outline: after alignment it matches the photographed one at IoU 0\.\d\d, under the 0\.85 the strict lock needs\./);
    expect(await failed.textContent()).toContain('pick the Blend lock');
    await page.screenshot({ path: path.join(SHOTS, 'generative-refused.png') });
  });

  it('says so when the studio stood in for an upstream that failed', async () => {
    hiapi.fault('POST /v1/tasks', { kind: 'status', status: 500, message: 'upstream exploded' }, 3);
    await page.getByRole('textbox', { name: 'Prompt' }).fill('on a cafe counter');
    const sent = await sendsTask(page, () => page.getByRole('button', { name: 'Generate' }).click());
    expect(sent.route).toBe('hiapi');
    await resultLoaded(page);
    const note = page.getByRole('region', { name: 'Product lock' }).getByRole('status');
    await expect.poll(() => note.textContent(), POLL).toMatch(/^Rendered with the studio: upstream hiapi did not create the task: 3 attempts, last HTTP 500/);
    // the studio rendered it: no lock figures
    expect(await page.locator('.lock-figure').count()).toBe(0);
  });

  it('the batch tab renders through the route picked', async () => {
    await page.getByRole('button', { name: 'Batch' }).click();
    await page.getByRole('heading', { name: 'Batch' }).waitFor();
    const batch = page.locator('.batch-view');
    await batch.getByRole('group', { name: 'Render with' }).waitFor();
    expect(await batch.getByRole('radio', { name: 'hiapi' }).isChecked()).toBe(true);
    await batch.getByLabel('Product lock').selectOption('blend');
    await page.getByLabel('Choose images for the batch').setInputFiles(mugPath);
    await page.getByRole('textbox', { name: 'Prompts' }).fill('on a marble counter');
    const sent = await sendsTask(page, () => page.getByRole('button', { name: 'Start batch' }).click());
    expect(sent).toMatchObject({ route: 'hiapi', input: { prompt: 'on a marble counter', lock: 'blend' } });
    await expect.poll(() => page.locator('.batch-progress-text').textContent(), RENDER).toBe('1 of 1 done');
    // the first render, its edit, the refused one and this one (the failed creates made none)
    expect(hiapi.created()).toBe(4);

    // strict again: a reshaped product fails its row with the lock's reason in words
    await batch.getByLabel('Product lock').selectOption('strict');
    await page.getByRole('textbox', { name: 'Prompts' }).fill('on slate, CHANGED');
    const strict = await sendsTask(page, () => page.getByRole('button', { name: 'Start a new batch' }).click());
    expect(strict).toMatchObject({ route: 'hiapi', input: { lock: 'strict' } });
    await expect.poll(() => page.locator('.batch-progress-text').textContent(), RENDER).toBe('0 of 1 done · 1 failed');
    expect(await page.locator('.batch-row-error').textContent()).toMatch(/The model changed the product's outline: after alignment it matches the photographed one at IoU 0\.\d\d, under the 0\.85 the strict lock needs/);
    await page.screenshot({ path: path.join(SHOTS, 'generative-batch.png') });
  });
});
