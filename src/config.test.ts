import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('has defaults for everything and freezes the result', () => {
    const c = loadConfig({});
    expect(c.http).toMatchObject({ host: '127.0.0.1', port: 8080, publicUrl: 'http://127.0.0.1:8080', publicUrlSet: false });
    expect(c.rateLimit).toEqual({ createPerMinute: 60, readPerMinute: 300, concurrent: 10 });
    expect(c.callbacks.retryScheduleSeconds).toEqual([60, 300, 1200]);
    expect(c.tasks.outputTtlSeconds).toBe(604800);
    expect(c.engine.modelCacheDir).toBe(path.resolve('data', 'cache', 'models'));
    expect(c.engine.modelSize).toBe(1024);
    expect(c.engine.proModelSize).toBe(1024);
    expect(Object.isFrozen(c) && Object.isFrozen(c.http)).toBe(true);
  });

  it('reads every setting from RESHOOT_* variables', () => {
    const c = loadConfig({
      RESHOOT_PORT: '9000',
      RESHOOT_PUBLIC_URL: 'https://img.example.com/',
      RESHOOT_RATE_LIMIT: 'create=5,concurrent=2',
      RESHOOT_CALLBACK_RETRY_SCHEDULE: '1,2',
      RESHOOT_API_KEYS: 'sk-a, sk-b',
      RESHOOT_FETCH_ALLOW_HOSTS: 'images.internal,10.0.0.0/8',
      RESHOOT_DATA_DIR: '/srv/reshoot',
    });
    expect(c.http.publicUrl).toBe('https://img.example.com');
    expect(c.rateLimit).toEqual({ createPerMinute: 5, readPerMinute: 300, concurrent: 2 });
    expect(c.callbacks.retryScheduleSeconds).toEqual([1, 2]);
    expect(c.auth.envKeys).toEqual(['sk-a', 'sk-b']);
    expect(c.fetch.allowHosts).toEqual(['images.internal', '10.0.0.0/8']);
    expect(loadConfig({ RESHOOT_RATE_LIMIT: 'off' }).rateLimit).toBeNull();
    expect(c.engine.modelCacheDir).toBe(path.resolve('/srv/reshoot/cache/models'));
    expect(loadConfig({ RESHOOT_MODEL_SIZE: '768' }).engine.modelSize).toBe(768);
    expect(loadConfig({ RESHOOT_PRO_MODEL_SIZE: '832' }).engine.proModelSize).toBe(832);
    expect(loadConfig({ RESHOOT_MODEL_CACHE_DIR: '/var/cache/reshoot' }).engine.modelCacheDir).toBe(path.resolve('/var/cache/reshoot'));
  });

  it('takes the segmentation model from RESHOOT_MODEL_PATH, an existing file, and the shipped weights without it', () => {
    expect(loadConfig({}).engine.modelPath).toBeUndefined();
    expect(loadConfig({ RESHOOT_MODEL_PATH: '' }).engine.modelPath).toBeUndefined();
    expect(loadConfig({ RESHOOT_MODEL_PATH: 'package.json' }).engine.modelPath).toBe(path.resolve('package.json'));
    for (const missing of ['no-such-model.onnx', 'src']) {
      expect(() => loadConfig({ RESHOOT_MODEL_PATH: missing })).toThrow(`RESHOOT_MODEL_PATH=${JSON.stringify(missing)}: must be an existing ONNX file`);
    }
  });

  it('reports every bad variable in one error', () => {
    let err: unknown;
    try {
      loadConfig({ RESHOOT_PORT: 'eighty', RESHOOT_MODEL_SIZE: '1000', RESHOOT_RATE_LIMIT: 'lots', RESHOOT_WEBHOOK_SECRET: 'short', RESHOOT_ROLE: 'boss', RESHOOT_CALLBACK_RETRY_SCHEDULE: '1,-2' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    for (const name of ['RESHOOT_PORT', 'RESHOOT_MODEL_SIZE', 'RESHOOT_RATE_LIMIT', 'RESHOOT_WEBHOOK_SECRET', 'RESHOOT_ROLE', 'RESHOOT_CALLBACK_RETRY_SCHEDULE']) {
      expect(problems).toContain(name);
    }
    expect(problems).toContain('"eighty"');
  });
});
