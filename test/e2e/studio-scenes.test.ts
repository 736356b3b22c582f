import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, renderPackshot } from '../fixtures/index.js';
import { renderScenePhoto } from '../fixtures/scenes.js';
import { buildStudio, chromiumUnavailable, launchChromium, openPage } from '../helpers/chromium.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// "Your scenes" in the studio (#15.8): a server with a scene library shows its photos and tags, a
// click puts a scene's tag in the prompt, and the render lands in that photo. Debian's Chromium
// driven by playwright-core; screenshots go to .tmp/e2e/scenes-*.png.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SHOTS = path.join(ROOT, '.tmp', 'e2e');
const POLL = { timeout: 20_000 };

let tmp: string;
let server: TestServer;
let browser: Browser;
let page: Page;
let mugPath: string;

describe.skipIf(chromiumUnavailable !== null)('the scene library in the studio', { timeout: 180_000 }, () => {
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reshoot-e2e-scenes-'));
    fs.mkdirSync(SHOTS, { recursive: true });
    const webDir = path.join(tmp, 'web');
    await buildStudio(webDir);
    const scenesDir = path.join(tmp, 'scenes');
    fs.mkdirSync(scenesDir);
    fs.writeFileSync(path.join(scenesDir, 'oak-table.png'), (await renderScenePhoto('room', 640, 480)).png);
    fs.writeFileSync(path.join(scenesDir, 'oak-table.json'), JSON.stringify({ tags: ['oak table'], title: 'The oak table', placement: { y: 0.7, x: 0.4 } }));
    fs.writeFileSync(path.join(scenesDir, 'meadow.png'), (await renderScenePhoto('landscape', 640, 480)).png);
    fs.writeFileSync(path.join(scenesDir, 'meadow.json'), JSON.stringify({ tags: ['meadow', 'green field'], title: 'Meadow' }));
    mugPath = path.join(tmp, 'mug.png');
    fs.writeFileSync(mugPath, (await renderPackshot({ ...FIXTURES.mug, width: 480, height: 480 })).png);
    server = await startTestServer({ RESHOOT_WEB_DIR: webDir, RESHOOT_SCENES_DIR: scenesDir, RESHOOT_JOB_MAX_ATTEMPTS: '1' });
    browser = await launchChromium();
    page = await openPage(browser, { viewport: { width: 1440, height: 900 } });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('lists the server\'s scenes with their thumbnails and tags', async () => {
    await page.goto(server.url);
    await page.getByLabel('API key').fill(server.apiKey);
    await page.getByRole('button', { name: 'Continue' }).click();
    const list = page.getByRole('list', { name: 'Your scenes' });
    await list.waitFor(POLL);
    const cards = list.getByRole('button');
    expect(await cards.count()).toBe(2);
    expect(await cards.nth(0).textContent()).toMatch(/Meadow.*meadow · green field/);
    expect(await cards.nth(1).textContent()).toMatch(/The oak table.*oak table/);
    // the thumbnails are the server's signed links, loaded for real
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('.scene-card img')].every((i) => i.complete && i.naturalWidth === 320), null, POLL);
  });

  it('puts a scene\'s tag in the prompt on a click, and renders into that photo', async () => {
    await page.locator('input[type=file]').setInputFiles(mugPath);
    await page.getByText('1. mug.png').waitFor();
    await page.waitForFunction(() => !document.body.textContent?.includes('Uploading…'));
    const prompt = page.getByRole('textbox', { name: 'Prompt' });
    await prompt.fill('soft morning light');
    const oak = page.getByRole('button', { name: /The oak table/ });
    await oak.click();
    expect(await prompt.inputValue()).toBe('soft morning light, on the oak table');
    expect(await oak.getAttribute('aria-pressed')).toBe('true');
    await expect.poll(() => page.locator('section[aria-labelledby=scene-library-title]').textContent(), POLL).toMatch(/Renders into The oak table/);
    // the planner's chips read the tag as the scene, as the server will
    expect(await page.getByRole('list', { name: 'Understood' }).textContent()).toMatch(/your scene\s*oak table/i);
    expect(await page.getByLabel('The scene that will be rendered').textContent()).toMatch(/SetThe oak table \(your photo/);
    // another scene swaps the tag
    await page.getByRole('button', { name: /Meadow/ }).click();
    expect(await prompt.inputValue()).toBe('soft morning light, on the meadow');
    await oak.click();
    await page.locator('section[aria-labelledby=scene-library-title]').screenshot({ path: path.join(SHOTS, 'scenes-panel.png') });

    const created = page.waitForResponse((r) => r.url().endsWith('/v1/tasks') && r.request().method() === 'POST');
    await page.getByRole('button', { name: 'Generate' }).click();
    const res = await created;
    expect((res.request().postDataJSON() as { input: { prompt: string } }).input.prompt).toBe('soft morning light, on the oak table');
    const { taskId } = ((await res.json()) as { data: { taskId: string } }).data;

    const img = page.locator('img.compare-after');
    await img.waitFor({ timeout: 150_000 });
    await page.waitForFunction(() => {
      const el = document.querySelector<HTMLImageElement>('img.compare-after');
      return !!el && el.complete && el.naturalWidth > 0;
    }, null, { timeout: 150_000 });
    const task = (await (await fetch(`${server.url}/v1/tasks/${taskId}`, { headers: { authorization: `Bearer ${server.apiKey}` } })).json()) as { data: any };
    expect(task.data.status).toBe('success');
    expect(task.data.reshoot.plan.scene_photo.library).toMatchObject({ id: 'oak-table', tag: 'oak table' });
    await page.locator('.compare').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SHOTS, 'scenes-result.png') });
    fs.writeFileSync(path.join(SHOTS, 'scenes-output.png'), Buffer.from(await (await fetch(task.data.output[0].url)).arrayBuffer()));
  });
});
