import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../store/sqlite/database.js';
import { createSqliteStore } from '../store/sqlite/store.js';
import { createKeyService } from './keys.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'reshoot-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('key lookups', () => {
  it('a key revoked by another process is refused once its cached lookup is 5 s old; one revoked here at once', async () => {
    const file = path.join(dir, 'reshoot.db');
    // the server's connection, on a clock the test moves, and the `reshoot keys` command's own connection
    let t = 1_000_000;
    const serverDb = openDatabase(file), cliDb = openDatabase(file);
    const server = await createKeyService({ store: createSqliteStore(serverDb), envKeys: [], now: () => t });
    const cli = await createKeyService({ store: createSqliteStore(cliDb), envKeys: [] });
    try {
      const { record, key } = await cli.create('ci-bot');
      expect((await server.authenticate(key))?.id).toBe(record.id);
      expect(await cli.revoke(record.id)).toBe(true);
      t += 4999;
      expect((await server.authenticate(key))?.id).toBe(record.id);
      t += 1;
      expect(await server.authenticate(key)).toBeNull();

      const other = await server.create('ops');
      expect((await server.authenticate(other.key))?.id).toBe(other.record.id);
      expect(await server.revoke(other.record.id)).toBe(true);
      expect(await server.authenticate(other.key)).toBeNull();
    } finally {
      serverDb.close();
      cliDb.close();
    }
  });
});
