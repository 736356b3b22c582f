import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDiskSpace } from './disk-space.js';

describe('createDiskSpace', () => {
  it('reads the free space under a folder and compares it with the floor', () => {
    const free = createDiskSpace(os.tmpdir(), 0).free();
    expect(free).toBeGreaterThan(0);
    expect(createDiskSpace(os.tmpdir(), 1).ok()).toBe(true);
    expect(createDiskSpace(os.tmpdir(), Number.MAX_SAFE_INTEGER).ok()).toBe(false);
  });

  it('reads statfs at most once per interval', () => {
    let t = 0;
    const disk = createDiskSpace(os.tmpdir(), 0, { maxAgeMs: 1000, now: () => t });
    const first = disk.free();
    t = 999;
    expect(disk.free()).toBe(first); // the cached reading, whatever the disk did meanwhile
    t = 1000;
    expect(disk.free()).toBeGreaterThan(0);
  });

  it('does not refuse writes when the folder cannot be read: the writes themselves will tell', () => {
    const disk = createDiskSpace(path.join(os.tmpdir(), 'no-such-folder-for-reshoot'), Number.MAX_SAFE_INTEGER);
    expect(disk.free()).toBeNull();
    expect(disk.ok()).toBe(true);
  });
});
