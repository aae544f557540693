import { open, readFile, type FileHandle } from 'node:fs/promises';
import { entryId, type LedgerEntry } from '../ledger-entry.js';

type Line =
  { readonly op: 'add'; readonly entry: LedgerEntry } | { readonly op: 'done'; readonly id: string };

/** Reads a journal file: the entries added and not marked done, in order. A torn last line is ignored. */
export async function readPending(path: string): Promise<LedgerEntry[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return [];
    throw err;
  }
  const pending = new Map<string, LedgerEntry>();
  for (const raw of text.split('\n')) {
    if (raw === '') continue;
    let line: Line;
    try {
      line = JSON.parse(raw) as Line;
    } catch {
      continue; // A crash mid-write leaves at most one partial line, and its entry was never acknowledged.
    }
    if (line.op === 'add') pending.set(entryId(line.entry), line.entry);
    else pending.delete(line.id);
  }
  return [...pending.values()];
}

/**
 * An append-only, fsynced file of ledger entries. Appends that arrive together share one write and one
 * `fdatasync` (group commit), so durability costs one disk flush per batch, not per call. "Done" markers
 * ride along unsynced: losing one only means an idempotent entry is applied again.
 */
export class JournalFile {
  readonly #handle: FileHandle;
  readonly #pending = new Map<string, LedgerEntry>();
  #queue: string[] = [];
  #waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];
  #running: Promise<void> | null = null;
  #bytes = 0;

  private constructor(handle: FileHandle) {
    this.#handle = handle;
  }

  /** Opens (creating) the file for appending, with `carried` entries already pending in it. */
  static async open(path: string, carried: readonly LedgerEntry[] = []): Promise<JournalFile> {
    const handle = await open(path, 'a', 0o600);
    const file = new JournalFile(handle);
    for (const entry of carried) file.#pending.set(entryId(entry), entry);
    return file;
  }

  /** Resolves once the entry is on disk. */
  append(entry: LedgerEntry): Promise<void> {
    this.#pending.set(entryId(entry), entry);
    return new Promise((resolve, reject) => {
      this.#queue.push(`${JSON.stringify({ op: 'add', entry } satisfies Line)}\n`);
      this.#waiters.push({ resolve, reject });
      this.#kick();
    });
  }

  done(id: string): void {
    if (!this.#pending.delete(id)) return;
    this.#queue.push(`${JSON.stringify({ op: 'done', id } satisfies Line)}\n`);
    this.#kick();
  }

  pending(): LedgerEntry[] {
    return [...this.#pending.values()];
  }

  async close(): Promise<void> {
    await this.#running;
    await this.#handle.close();
  }

  #kick(): void {
    this.#running ??= this.#flushAll().finally(() => {
      this.#running = null;
      if (this.#queue.length > 0) this.#kick();
    });
  }

  async #flushAll(): Promise<void> {
    // Yield once so that appends from the same tick join this batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.#queue.length > 0) {
      const lines = this.#queue.join('');
      const waiters = this.#waiters;
      this.#queue = [];
      this.#waiters = [];
      try {
        if (this.#pending.size === 0 && this.#bytes > 1_048_576) {
          // Everything written so far is applied: start the file over rather than let it grow forever.
          await this.#handle.truncate(0);
          this.#bytes = 0;
        }
        await this.#handle.write(lines);
        this.#bytes += Buffer.byteLength(lines);
        if (waiters.length > 0) await this.#handle.datasync();
        for (const waiter of waiters) waiter.resolve();
      } catch (err) {
        for (const waiter of waiters) waiter.reject(err);
      }
    }
  }
}
