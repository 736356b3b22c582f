import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CallbackVerificationError } from './errors.js';
import { signCallback, verifyCallback } from './callbacks.js';

const secret = 'whsec-0123456789abcdef';
const body = JSON.stringify({
  taskId: 'tk-hiapi-01HZTQ8BX2N3GM3YFK4Z9D7VQR', model: 'gpt-image-2-image-to-image', status: 'success',
  created: 1777282033, completed: 1777282099, output: [{ url: 'https://cdn.example.com/0.png', type: 'image', expireAt: 1777886899 }],
});
const now = 1777282100;
// The receiver's algorithm from the contract (§9), written out independently of signCallback.
const sig = (ts: string, raw = body) => createHmac('sha256', secret).update(`${ts}.${raw}`).digest('hex');

const reason = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof CallbackVerificationError) return err.reason;
    throw err;
  }
  return 'accepted';
};

describe('verifyCallback', () => {
  it('accepts a fresh, correctly signed callback and returns the task', () => {
    const ts = String(now - 10);
    expect(signCallback(body, ts, secret)).toBe(sig(ts));
    const task = verifyCallback(Buffer.from(body), { 'x-hiapi-timestamp': ts, 'x-hiapi-signature': sig(ts) }, secret, { now });
    expect(task).toMatchObject({ taskId: 'tk-hiapi-01HZTQ8BX2N3GM3YFK4Z9D7VQR', status: 'success' });
    // fetch-style Headers and mixed-case names work too
    const h = new Headers({ 'X-HiAPI-Timestamp': ts, 'X-HiAPI-Signature': sig(ts) });
    expect(verifyCallback(body, h, secret, { now }).taskId).toBe(task.taskId);
  });

  it('rejects stale and future timestamps beyond the tolerance', () => {
    for (const ts of [String(now - 301), String(now + 301)]) {
      expect(reason(() => verifyCallback(body, { 'x-hiapi-timestamp': ts, 'x-hiapi-signature': sig(ts) }, secret, { now }))).toBe('STALE_TIMESTAMP');
    }
    const ts = String(now - 500);
    expect(reason(() => verifyCallback(body, { 'x-hiapi-timestamp': ts, 'x-hiapi-signature': sig(ts) }, secret, { now, toleranceSec: 600 }))).toBe('accepted');
  });

  it('rejects a changed body, a wrong secret, a malformed signature and missing headers', () => {
    const ts = String(now);
    const h = { 'x-hiapi-timestamp': ts, 'x-hiapi-signature': sig(ts) };
    expect(reason(() => verifyCallback(body.replace('success', 'fail'), h, secret, { now }))).toBe('BAD_SIGNATURE');
    expect(reason(() => verifyCallback(body, h, 'another-secret-0123456', { now }))).toBe('BAD_SIGNATURE');
    expect(reason(() => verifyCallback(body, { ...h, 'x-hiapi-signature': 'abc' }, secret, { now }))).toBe('BAD_SIGNATURE');
    expect(reason(() => verifyCallback(body, { 'x-hiapi-timestamp': ts }, secret, { now }))).toBe('MISSING_HEADERS');
    expect(reason(() => verifyCallback(body, {}, secret, { now }))).toBe('MISSING_HEADERS');
  });

  it('rejects a signed body that is not a task', () => {
    const ts = String(now);
    expect(reason(() => verifyCallback('[1,2]', { 'x-hiapi-timestamp': ts, 'x-hiapi-signature': sig(ts, '[1,2]') }, secret, { now }))).toBe('BAD_BODY');
  });
});
