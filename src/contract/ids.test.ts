import { decodeTime } from 'ulid';
import { describe, expect, it } from 'vitest';
import { TASK_ID_RE, newTaskId } from './ids.js';

describe('task ids', () => {
  it('are tk-hiapi- + a 26-character uppercase ULID that decodes to the creation time', () => {
    const t = Date.UTC(2026, 10, 24, 5, 0, 0);
    const id = newTaskId(t);
    expect(id).toHaveLength(35);
    expect(id).toMatch(TASK_ID_RE);
    expect(decodeTime(id.slice('tk-hiapi-'.length))).toBe(t);
  });

  it('are unique and sort by creation, even within one millisecond', () => {
    const ids = Array.from({ length: 5000 }, () => newTaskId(1_800_000_000_000));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });
});
