import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { build } from 'vite';

/** Debian's Chromium (never a downloaded browser); RESHOOT_CHROMIUM points elsewhere. */
export const CHROMIUM = process.env.RESHOOT_CHROMIUM ?? '/usr/bin/chromium';

/** Headless, and quiet: no first-run, sync, update or background traffic. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Why the browser tests cannot run here, or null when they can (said once, not skipped silently). */
export const chromiumUnavailable: string | null = fs.existsSync(CHROMIUM) ? null : `no Chromium at ${CHROMIUM} (.ci/run installs Debian's chromium; RESHOOT_CHROMIUM names another)`;
if (chromiumUnavailable) console.warn(`[browser tests skipped] ${chromiumUnavailable}`);

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Builds the studio into `outDir` (as `npm run build:web` does), for a test server's RESHOOT_WEB_DIR. */
export async function buildStudio(outDir: string): Promise<void> {
  await build({ configFile: path.join(ROOT, 'web/vite.config.ts'), logLevel: 'warn', build: { outDir, emptyOutDir: true } });
}

/** Debian's Chromium, headless, driven by playwright-core. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/**
 * A page in a fresh browser context (`prepare` runs on the context first, e.g. an init script that
 * seeds the key); an uncaught error in the page fails the test.
 */
export async function openPage(browser: Browser, options: BrowserContextOptions, prepare?: (context: BrowserContext) => Promise<unknown>): Promise<Page> {
  const context = await browser.newContext(options);
  await prepare?.(context);
  const page = await context.newPage();
  page.on('pageerror', (err) => {
    throw err;
  });
  return page;
}
