import { describe, expect, it, vi } from 'vitest';
import { checkCallbackToken, createUpstreamWakeBus, upstreamCallbackUrl, watchUpstreamCallback } from './callback.js';

const SECRET = 'a-signing-secret-of-ours';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('hiapi callback URL and token', () => {
  it('one URL per task, the same every time; its token checks for that task only', () => {
    const url = upstreamCallbackUrl('https://img.example.com/', SECRET, 'tk-a');
    expect(url).toMatch(/^https:\/\/img\.example\.com\/upstream\/hiapi\/callback\/tk-a\?t=[\w-]{43}$/);
    expect(upstreamCallbackUrl('https://img.example.com', SECRET, 'tk-a')).toBe(url);
    const t = new URL(url).searchParams.get('t')!;
    expect(checkCallbackToken(SECRET, 'tk-a', t)).toBe(true);
    expect(checkCallbackToken(SECRET, 'tk-b', t)).toBe(false);
    expect(checkCallbackToken('another-secret-entirely', 'tk-a', t)).toBe(false);
    expect(checkCallbackToken(SECRET, 'tk-a', undefined)).toBe(false);
    expect(checkCallbackToken(SECRET, 'tk-a', t.slice(1))).toBe(false);
  });
});

describe('the worker\'s watch for a task\'s callback', () => {
  it('a callback recorded before the run began (a run after a restart) wakes it at once, once', async () => {
    let wakes = 0, reads = 0;
    const stop = watchUpstreamCallback('tk-a', () => wakes++, { recorded: async () => (reads++, 1_700_000_000_000), everyMs: 10 });
    await vi.waitFor(() => expect(wakes).toBe(1));
    await sleep(40);
    stop();
    expect([wakes, reads]).toEqual([1, 1]);
  });

  it('hears the callback on the bus in this process, or finds it in the store later; wakes once either way; stop ends both', async () => {
    const bus = createUpstreamWakeBus();
    let wakes = 0, recorded: number | null = null, reads = 0;
    const stop = watchUpstreamCallback('tk-a', () => wakes++, { bus, recorded: async () => (reads++, recorded), everyMs: 10 });
    await sleep(50);
    expect(wakes).toBe(0);
    expect(reads).toBeGreaterThanOrEqual(2);
    bus.emit('tk-other');
    expect(wakes).toBe(0);
    bus.emit('tk-a');
    bus.emit('tk-a');
    recorded = 1;
    await vi.waitFor(() => expect(wakes).toBe(1));
    await sleep(40);
    expect(wakes).toBe(1);
    stop();

    // through the store alone (the API in another process)
    let wakes2 = 0;
    let at: number | null = null;
    const stop2 = watchUpstreamCallback('tk-b', () => wakes2++, { recorded: async () => at, everyMs: 10 });
    await sleep(30);
    at = 2;
    await vi.waitFor(() => expect(wakes2).toBe(1));
    await sleep(40);
    expect(wakes2).toBe(1);
    stop2();

    // stopped before anything came: never woken, no more reads
    let wakes3 = 0, reads3 = 0;
    const stop3 = watchUpstreamCallback('tk-c', () => wakes3++, { bus, recorded: async () => (reads3++, null), everyMs: 10 });
    await sleep(30);
    stop3();
    const readsAtStop = reads3;
    bus.emit('tk-c');
    await sleep(40);
    expect([wakes3, reads3]).toEqual([0, readsAtStop]);
  });
});
