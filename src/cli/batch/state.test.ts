import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STATE_FILE, appendState, lockDir, readState } from './state.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'reshoot-state-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('batch state journal', () => {
  it('keeps the last record per item and ignores a torn last line', () => {
    appendState(dir, { t: 'failed', key: 'a', error: 'boom', at: 1 });
    appendState(dir, { t: 'submitted', key: 'a', taskId: 'tk-1', attempt: 2, at: 2 });
    appendState(dir, { t: 'done', key: 'a', out: 'a.png', ms: 10, at: 3 });
    appendState(dir, { t: 'submitted', key: 'b', taskId: 'tk-2', attempt: 1, at: 4 });
    appendState(dir, { t: 'upload', image: '/x.png', url: 'http://h/u', at: 5 });
    appendFileSync(path.join(dir, STATE_FILE), '{"t":"done","key":"b","ou');
    const s = readState(dir);
    expect([...s.done.keys()]).toEqual(['a']);
    expect(s.failedCount.get('a')).toBe(1);
    expect(s.submitted.get('b')?.taskId).toBe('tk-2');
    expect(s.submitted.has('a')).toBe(false);
    expect(s.uploads.get('/x.png')).toBe('http://h/u');
  });

  it('allows one batch per directory and takes over a dead one\'s lock', () => {
    const unlock = lockDir(dir);
    writeFileSync(path.join(dir, '.reshoot-batch.lock'), String(process.ppid));
    expect(() => lockDir(dir)).toThrow(/another batch/);
    // pid 2^22+1 is above Linux's pid_max default, so no process has it
    writeFileSync(path.join(dir, '.reshoot-batch.lock'), '4194305');
    const again = lockDir(dir);
    again();
    unlock();
  });
});
