import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { startReshoot, type Reshoot } from '../../src/main.js';

export interface TestServer {
  url: string;
  apiKey: string;
  dataDir: string;
  reshoot: Reshoot;
  close(): Promise<void>;
}

/**
 * The real server (API + worker + engine pool) on 127.0.0.1, port 0, with a fresh data dir.
 * `overrides` are RESHOOT_* variables. Rate limits are off unless a test sets them.
 */
export async function startTestServer(overrides: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = overrides.RESHOOT_DATA_DIR ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'reshoot-test-')));
  const apiKey = overrides.RESHOOT_API_KEYS?.split(',')[0] ?? `sk-test-${Math.random().toString(36).slice(2, 12)}`;
  const config = loadConfig({
    RESHOOT_HOST: '127.0.0.1',
    RESHOOT_PORT: '0',
    RESHOOT_DATA_DIR: dataDir,
    RESHOOT_LOG_LEVEL: process.env.RESHOOT_TEST_LOG ?? 'silent',
    RESHOOT_API_KEYS: apiKey,
    RESHOOT_FIRST_KEY: 'false',
    RESHOOT_RATE_LIMIT: 'off',
    RESHOOT_ENGINE_THREADS: '1',
    RESHOOT_WORKER_CONCURRENCY: '1',
    // the test run's model and its cache (vitest.config.ts); REAL_MODEL in `overrides` asks for the shipped weights
    ...(process.env.RESHOOT_MODEL_CACHE_DIR ? { RESHOOT_MODEL_CACHE_DIR: process.env.RESHOOT_MODEL_CACHE_DIR } : {}),
    ...(process.env.RESHOOT_MODEL_PATH ? { RESHOOT_MODEL_PATH: process.env.RESHOOT_MODEL_PATH } : {}),
    ...overrides,
  });
  const reshoot = await startReshoot(config);
  let closed = false;
  return {
    url: reshoot.url ?? '',
    apiKey,
    dataDir,
    reshoot,
    async close() {
      if (closed) return;
      closed = true;
      await reshoot.close();
      if (!overrides.RESHOOT_DATA_DIR) await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
