import { createHash, randomUUID } from 'node:crypto';
import type { ProxyConfig } from '../../config/schema.js';
import { mkdir, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LedgerEntry } from '../ledger-entry.js';
import { JournalFile, readPending } from './journal-file.js';

/**
 * The directory for this ledger's journals: one subdirectory per ledger (database URL and schema), so that an
 * instance only ever adopts journals written against its own ledger.
 */
export function journalDir(config: ProxyConfig): string {
  const ledger = createHash('sha256')
    .update(`${config.SPENDGATE_DB}\n${config.SPENDGATE_DB_SCHEMA}`)
    .digest('hex')
    .slice(0, 16);
  return join(config.SPENDGATE_JOURNAL_DIR, ledger);
}

/** How often an instance touches its journal to show it is alive (well inside any orphan threshold). */
const HEARTBEAT_MS = 500;

export interface OwnedJournal {
  readonly file: JournalFile;
  /** Entries found in this directory's orphaned journals (crashed instances, this one's predecessor). */
  readonly adopted: readonly LedgerEntry[];
  /** Adopts journals orphaned since start-up (an instance that died meanwhile); returns their entries. */
  adopt(): Promise<LedgerEntry[]>;
  /** Stops the heartbeat; the file stays, so that a crash-free stop with pending entries is adopted later. */
  release(): Promise<void>;
}

/**
 * One directory holds the journals of every instance on this machine: each instance writes its own file
 * (so several can share the directory), keeps it alive with a heartbeat, and on start-up adopts the files
 * of instances that stopped heartbeating. Adoption renames the file first, which only one adopter can do.
 */
export async function openJournalDir(dir: string, orphanAfterMs: number): Promise<OwnedJournal> {
  // Owner only: the entries hold audit rows (labels, paths, idempotency keys, amounts), no one else's business.
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `journal-${process.pid}-${randomUUID().slice(0, 8)}.log`);
  await writeFile(path, '', { flag: 'a', mode: 0o600 });
  const file = await JournalFile.open(path);
  const adopt = async () => {
    const orphans = await claimOrphans(dir, orphanAfterMs);
    // Carry the orphans' pending entries into this journal, durably, before their files go.
    const entries = orphans.flatMap((orphan) => orphan.entries);
    await Promise.all(entries.map((entry) => file.append(entry)));
    await Promise.all(orphans.map((orphan) => rm(orphan.path, { force: true })));
    return entries;
  };
  const adopted = await adopt();
  const timer = setInterval(() => {
    const now = new Date();
    utimes(path, now, now).catch(() => undefined);
  }, HEARTBEAT_MS);
  timer.unref();
  return {
    file,
    adopted,
    adopt,
    async release() {
      clearInterval(timer);
      const left = file.pending().length;
      await file.close();
      if (left === 0) await rm(path, { force: true });
    },
  };
}

async function claimOrphans(
  dir: string,
  orphanAfterMs: number,
): Promise<Array<{ path: string; entries: LedgerEntry[] }>> {
  const claimed: Array<{ path: string; entries: LedgerEntry[] }> = [];
  for (const name of await readdir(dir)) {
    if (!name.startsWith('journal-') || !name.endsWith('.log')) continue;
    const path = join(dir, name);
    const info = await stat(path).catch(() => null);
    if (!info || Date.now() - info.mtimeMs < orphanAfterMs) continue;
    const mine = `${path}.adopted-${process.pid}`;
    try {
      await rename(path, mine);
    } catch {
      continue; // Another instance adopted it first.
    }
    claimed.push({ path: mine, entries: await readPending(mine) });
  }
  return claimed;
}
