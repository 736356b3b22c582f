/** The longest `Idempotency-Key` accepted, in UTF-8 bytes (docs/contract.md §8, D11). */
export const MAX_IDEMPOTENCY_KEY_BYTES = 255;

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
const utf8 = new TextEncoder();

/** The rule as it reads after the field's name in a refusal. */
export const IDEMPOTENCY_KEY_RULE = `must be 1 to ${MAX_IDEMPOTENCY_KEY_BYTES} bytes without control characters`;

/**
 * Whether a key is one the server accepts: 1-255 bytes of UTF-8 without control characters. The
 * server answers anything else with 400 INVALID_REQUEST; the SDK refuses it before sending.
 */
export function isValidIdempotencyKey(key: string): boolean {
  if (key === '' || key.length > MAX_IDEMPOTENCY_KEY_BYTES || CONTROL_CHARS.test(key)) return false;
  return utf8.encode(key).length <= MAX_IDEMPOTENCY_KEY_BYTES;
}
