import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, configuredEngines, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('has defaults for everything and freezes the result', () => {
    const c = loadConfig({});
    expect(c.http).toMatchObject({ host: '127.0.0.1', port: 8080, publicUrl: 'http://127.0.0.1:8080', publicUrlSet: false });
    expect(c.rateLimit).toEqual({ createPerMinute: 60, readPerMinute: 300, concurrent: 10 });
    expect(c.callbacks.retryScheduleSeconds).toEqual([60, 300, 1200]);
    expect(c.tasks.outputTtlSeconds).toBe(604800);
    expect(c.engine.modelCacheDir).toBe(path.resolve('data', 'cache', 'models'));
    expect(c.engine.modelSize).toBe(768);
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
    expect(loadConfig({ RESHOOT_MODEL_SIZE: '1024' }).engine.modelSize).toBe(1024);
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

  it('takes the scene library from RESHOOT_SCENES_DIR, an existing folder, and none without it', () => {
    expect(loadConfig({}).scenes.dir).toBeUndefined();
    expect(loadConfig({ RESHOOT_SCENES_DIR: 'src' }).scenes.dir).toBe(path.resolve('src'));
    for (const bad of ['no-such-folder', 'package.json']) {
      expect(() => loadConfig({ RESHOOT_SCENES_DIR: bad })).toThrow(`RESHOOT_SCENES_DIR=${JSON.stringify(bad)}: must be an existing folder`);
    }
  });

  it('reads the engines: the studio by default, an upstream once both its URL and key are set, the ComfyUI workflow from its file', async () => {
    const fs = await import('node:fs/promises');
    const os = await import('node:os');
    const none = loadConfig({}).engines;
    expect(none).toMatchObject({ default: 'studio', fallback: 'off' });
    expect(configuredEngines(none)).toEqual(['studio']);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'reshoot-cfg-'));
    const wf = path.join(dir, 'wf.json');
    await fs.writeFile(wf, JSON.stringify({ 1: { class_type: 'LoadImage', inputs: { image: '{{image}}' } } }));
    const all = loadConfig({
      RESHOOT_DEFAULT_ENGINE: 'openai', RESHOOT_FALLBACK_ENGINE: 'studio',
      RESHOOT_HIAPI_UPSTREAM_URL: 'https://api.hiapi.ai/', RESHOOT_HIAPI_UPSTREAM_KEY: 'sk-up',
      RESHOOT_OPENAI_BASE_URL: 'https://api.openai.com/v1', RESHOOT_OPENAI_API_KEY: 'sk-oa',
      RESHOOT_COMFYUI_URL: 'http://gpu:8188', RESHOOT_COMFYUI_WORKFLOW: wf,
    }).engines;
    expect(all).toMatchObject({
      default: 'openai', fallback: 'studio',
      hiapi: { url: 'https://api.hiapi.ai', apiKey: 'sk-up' },
      openai: { baseUrl: 'https://api.openai.com/v1', apiKey: 'sk-oa', model: 'gpt-image-1' },
      comfyui: { url: 'http://gpu:8188', workflowPath: wf },
    });
    expect(configuredEngines(all)).toEqual(['studio', 'hiapi', 'openai', 'comfyui']);
    expect(() => loadConfig({ RESHOOT_DEFAULT_ENGINE: 'hiapi' })).toThrow('RESHOOT_DEFAULT_ENGINE="hiapi": that engine is not configured (configured: studio)');
    expect(() => loadConfig({ RESHOOT_HIAPI_UPSTREAM_URL: 'https://api.hiapi.ai' })).toThrow('RESHOOT_HIAPI_UPSTREAM_URL and RESHOOT_HIAPI_UPSTREAM_KEY: set both or neither');
    expect(() => loadConfig({ RESHOOT_COMFYUI_URL: 'http://gpu:8188', RESHOOT_COMFYUI_WORKFLOW: path.join(dir, 'missing.json') })).toThrow('must be an existing API-format workflow JSON file');
    await fs.writeFile(wf, '{"1": {"inputs": {}}}');
    expect(() => loadConfig({ RESHOOT_COMFYUI_URL: 'http://gpu:8188', RESHOOT_COMFYUI_WORKFLOW: wf })).toThrow('no "{{image}}" placeholder');
    expect(() => loadConfig({ RESHOOT_FALLBACK_ENGINE: 'openai' })).toThrow('RESHOOT_FALLBACK_ENGINE');
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('reads the upstreams\' prices and the margin, refusing a price for an engine that is not configured', () => {
    const hiapi = { RESHOOT_HIAPI_UPSTREAM_URL: 'https://api.hiapi.ai', RESHOOT_HIAPI_UPSTREAM_KEY: 'sk-up' };
    expect(loadConfig({}).engines.prices).toEqual({ margin: 0 });
    expect(loadConfig({ ...hiapi, RESHOOT_HIAPI_UPSTREAM_PRICE: '0.05', RESHOOT_UPSTREAM_MARGIN: '0.2' }).engines.prices).toEqual({ hiapi: 0.05, margin: 0.2 });
    expect(() => loadConfig({ RESHOOT_OPENAI_UPSTREAM_PRICE: '0.04' })).toThrow('RESHOOT_OPENAI_UPSTREAM_PRICE: the openai engine is not configured');
    expect(() => loadConfig({ ...hiapi, RESHOOT_HIAPI_UPSTREAM_PRICE: '-1' })).toThrow('RESHOOT_HIAPI_UPSTREAM_PRICE');
    expect(() => loadConfig({ RESHOOT_UPSTREAM_MARGIN: '20%' })).toThrow('RESHOOT_UPSTREAM_MARGIN');
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
