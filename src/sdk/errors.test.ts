import { describe, expect, expectTypeOf, it } from 'vitest';
import { ERRORS, TASK_ERROR_CODES, type ErrorCode, type TaskErrorCode } from '../errors.js';
import { KNOWN_ERROR_CODES, codeForStatus, type KnownErrorCode } from './errors.js';

// The server's table (src/errors.ts) is what the SDK's code list must follow, code for code.
describe("the SDK's error codes", () => {
  it("are the server's error table, its task-level codes and the SDK's three transport codes", () => {
    expect([...KNOWN_ERROR_CODES].sort()).toEqual(
      [...new Set([...Object.keys(ERRORS), ...TASK_ERROR_CODES, 'NETWORK', 'TIMEOUT', 'INVALID_RESPONSE'])].sort(),
    );
    expectTypeOf<ErrorCode>().toExtend<KnownErrorCode>();
    expectTypeOf<TaskErrorCode>().toExtend<KnownErrorCode>();
  });

  it("name every status of the server's table when an answer carries no error_code", () => {
    for (const [code, status] of Object.entries(ERRORS)) {
      const derived = codeForStatus(status);
      expect(ERRORS[derived as ErrorCode], `${status} → ${derived}`).toBe(status);
      expect(codeForStatus(status, code)).toBe(code);
    }
    expect(codeForStatus(400)).toBe('INVALID_REQUEST');
    expect(codeForStatus(503)).toBe('SERVICE_UNAVAILABLE');
    expect(codeForStatus(502)).toBe('HTTP_502');
    expect(codeForStatus(401, '')).toBe('UNAUTHORIZED');
  });
});
