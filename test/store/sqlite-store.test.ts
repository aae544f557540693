import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { describeStoreConformance } from './conformance.js';

describeStoreConformance('sqlite (file, two connections)', {
  make: async (now) => {
    const dir = mkdtempSync(join(tmpdir(), 'spendgate-sqlite-'));
    const filename = join(dir, 'ledger.db');
    const store = new SqliteStore({ filename, now });
    const peer = new SqliteStore({ filename, now });
    await store.init();
    await peer.init();
    return {
      store,
      peer,
      cleanup: async () => {
        await store.close();
        await peer.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
});
