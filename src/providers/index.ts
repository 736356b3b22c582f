import type { Config } from '../config.js';
import type { PaintFn } from '../engine/index.js';
import { PermanentTaskError } from '../errors.js';
import { comfyUiUpstream } from './comfyui/index.js';
import { hiapiUpstream, type PaintRequest, type Upstream } from './hiapi/index.js';
import { openAiUpstream } from './openai/index.js';

/**
 * The generative upstreams a worker can paint with, built from plain settings (they cross into the
 * engine's worker threads as data: config.engines without the workflow's path), and the engine's
 * `paint` over them: the route's upstream, its answer handed back to the pipeline for the lock.
 */

export interface UpstreamSettings {
  fallback: 'off' | 'studio';
  /** callbackPollMs: the safety poll while hiapi's callback is awaited (the worker hands each job its callback URL) */
  hiapi?: { url: string; apiKey: string; models?: Record<string, string>; callbackPollMs?: number };
  openai?: { baseUrl: string; apiKey: string; model: string };
  comfyui?: { url: string; workflow: Record<string, unknown> };
  pollMs: number;
  retryBaseMs: number;
  /** the whole paint, create to download; the task's own deadline bounds it too */
  timeoutMs?: number;
}

/** The upstream settings of a configuration, as plain data (the workflow's path and hiapi's webhook secret, which only the API checks, left out). */
export function upstreamSettings(config: Config): UpstreamSettings {
  const { default: _default, prices: _prices, comfyui, hiapi, ...engines } = config.engines;
  const { webhookSecret: _secret, ...hiapiSettings } = hiapi ?? {};
  return {
    ...engines, ...(hiapi ? { hiapi: hiapiSettings as NonNullable<UpstreamSettings['hiapi']> } : {}),
    ...(comfyui ? { comfyui: { url: comfyui.url, workflow: comfyui.workflow } } : {}), timeoutMs: config.tasks.timeoutSeconds * 1000,
  };
}

export function buildUpstreams(s: UpstreamSettings): Map<string, Upstream> {
  const out = new Map<string, Upstream>();
  if (s.hiapi) out.set('hiapi', hiapiUpstream({ ...s.hiapi, pollMs: s.pollMs, retryBaseMs: s.retryBaseMs, timeoutMs: s.timeoutMs }));
  if (s.openai) out.set('openai', openAiUpstream({ ...s.openai, retryBaseMs: s.retryBaseMs }));
  if (s.comfyui) out.set('comfyui', comfyUiUpstream({ ...s.comfyui, pollMs: s.pollMs, retryBaseMs: s.retryBaseMs, timeoutMs: s.timeoutMs }));
  return out;
}

/** What the engine asks a paint for, and what the worker's thread adds: the job's way to link the layout, hiapi's callback URL and its wakes. */
export type PaintJob = Parameters<PaintFn>[0] & Pick<PaintRequest, 'imageUrl' | 'callbackUrl' | 'wakes'>;

/** The engine's paint function over the configured upstreams. */
export function paintWith(s: UpstreamSettings): (req: PaintJob) => ReturnType<PaintFn> {
  const upstreams = buildUpstreams(s);
  return async (req) => {
    const upstream = upstreams.get(req.engine);
    if (!upstream) throw new PermanentTaskError(`the ${req.engine} engine is not configured on this worker (configured: ${['studio', ...upstreams.keys()].join(', ')})`);
    const painted = await upstream.paint({
      model: req.model, prompt: req.prompt, layout: req.layout, mask: req.mask,
      aspectRatio: req.aspectRatio, resolution: req.resolution, jobKey: req.jobKey, signal: req.signal,
      upstreamTaskId: req.upstreamTaskId, onCreated: req.onCreated, imageUrl: req.imageUrl, callbackUrl: req.callbackUrl, wakes: req.wakes,
    });
    return {
      image: painted.image, taskId: painted.upstreamTaskId, createAttempts: painted.createAttempts, replayed: painted.replayed,
      ...(painted.model ? { model: painted.model } : {}), ...(painted.callback ? { callback: painted.callback } : {}),
    };
  };
}
