import { describe, expect, it } from 'vitest';
import { MAX_IDEMPOTENCY_KEY_BYTES, isValidIdempotencyKey } from './idempotency.js';

describe('isValidIdempotencyKey', () => {
  it('takes 1 to 255 bytes of UTF-8, counted in bytes, not characters', () => {
    expect(isValidIdempotencyKey('k')).toBe(true);
    expect(isValidIdempotencyKey('k'.repeat(MAX_IDEMPOTENCY_KEY_BYTES))).toBe(true);
    expect(isValidIdempotencyKey('')).toBe(false);
    expect(isValidIdempotencyKey('k'.repeat(MAX_IDEMPOTENCY_KEY_BYTES + 1))).toBe(false);
    expect(isValidIdempotencyKey('é'.repeat(127))).toBe(true);
    expect(isValidIdempotencyKey('é'.repeat(128))).toBe(false);
  });

  it('refuses control characters, DEL included', () => {
    for (const c of ['\u0000', '\t', '\n', '\u001f', '\u007f']) expect(isValidIdempotencyKey(`a${c}b`), JSON.stringify(c)).toBe(false);
    expect(isValidIdempotencyKey('sku-1234 marble/v2')).toBe(true);
  });
});
