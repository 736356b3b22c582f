import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../store/sqlite/database.js';
import { createKeyService } from './keys.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'reshoot-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('key lookups', () => {
  it('a key revoked by another process is refused once its cached lookup is 5 s old; one revoked here at once', () => {
    const file = path.join(dir, 'reshoot.db');
    // the server's connection, on a clock the test moves, and the `reshoot keys` command's own connection
    let t = 1_000_000;
    const serverDb = openDatabase(file), cliDb = openDatabase(file);
    const server = createKeyService({ db: serverDb, envKeys: [], now: () => t });
    const cli = createKeyService({ db: cliDb, envKeys: [] });
    try {
      const { record, key } = cli.create('ci-bot');
      expect(server.authenticate(key)?.id).toBe(record.id);
      expect(cli.revoke(record.id)).toBe(true);
      t += 4999;
      expect(server.authenticate(key)?.id).toBe(record.id);
      t += 1;
      expect(server.authenticate(key)).toBeNull();

      const other = server.create('ops');
      expect(server.authenticate(other.key)?.id).toBe(other.record.id);
      expect(server.revoke(other.record.id)).toBe(true);
      expect(server.authenticate(other.key)).toBeNull();
    } finally {
      serverDb.close();
      cliDb.close();
    }
  });
});
