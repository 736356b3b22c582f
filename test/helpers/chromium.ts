import fs from 'node:fs';

/** Debian's Chromium (never a downloaded browser); RESHOOT_CHROMIUM points elsewhere. */
export const CHROMIUM = process.env.RESHOOT_CHROMIUM ?? '/usr/bin/chromium';

/** Headless, and quiet: no first-run, sync, update or background traffic. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Why the browser tests cannot run here, or null when they can (said once, not skipped silently). */
export const chromiumUnavailable: string | null = fs.existsSync(CHROMIUM) ? null : `no Chromium at ${CHROMIUM} (.ci/run installs Debian's chromium; RESHOOT_CHROMIUM names another)`;
if (chromiumUnavailable) console.warn(`[browser tests skipped] ${chromiumUnavailable}`);
