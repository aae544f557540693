import type { Logger } from 'pino';
import type { Store } from '../store/types.js';
import { errorSummary } from './error-summary.js';
import type { OwnedJournal } from './journal/journal-dir.js';
import { applyEntry, entryId, isDue, type LedgerEntry } from './ledger-entry.js';

/**
 * How a call's outcome reaches the ledger.
 *
 * With a journal (PostgreSQL, where the ledger is across a network that can stall): the entry is fsynced to
 * the local journal, the caller gets its answer, and the entry is applied in the background, retried until
 * the ledger takes it, across restarts too. Without one (SQLite, whose file is its own journal; memory):
 * the entry is applied before the caller is answered.
 */
export interface Recorder {
  /** Resolves once the entry is durable (journaled or committed). Never rejects: failures are logged. */
  record(entry: LedgerEntry): Promise<void>;
  /** Records after the current reply has gone out: refusals never wait on the ledger. */
  later(entry: LedgerEntry): void;
  /** Waits for background work, at most `deadlineMs`; resolves `true` when none is left. */
  drain(deadlineMs: number): Promise<boolean>;
  /** Entries journaled but not yet in the ledger. */
  backlog(): number;
  close(): Promise<void>;
}

export interface RecorderOptions {
  readonly store: Store;
  readonly logger: Logger;
  readonly journal?: OwnedJournal | undefined;
  /** How often unapplied journal entries are retried (default 1 s). */
  readonly retryMs?: number;
  /** Most journal entries applied to the ledger at once (default 4). */
  readonly maxApplying?: number;
}

/**
 * When a direct write (SQLite, memory) fails, say on a lock another process held past the busy timeout, it is
 * retried in the background at these delays (about two and a half minutes in all): every entry is
 * idempotent, and a settlement or release must not be lost to one busy moment.
 */
const DIRECT_RETRY_MS = [100, 250, 500, 1000, 2000, 5000, 5000, 10_000, 10_000, 30_000, 30_000, 60_000];

export function createRecorder(options: RecorderOptions): Recorder {
  const { store, logger, journal } = options;
  const inFlight = new Set<Promise<unknown>>();
  const applying = new Set<string>();
  const queued = new Set<string>();
  const track = (task: Promise<unknown>) => {
    inFlight.add(task);
    void task.finally(() => inFlight.delete(task));
  };

  /** Applies a journaled entry once at a time; on success it is done, on failure it waits for the retry. */
  // Background applies are few at a time: each holds a key's row lock until it commits, and a crowd of them
  // on one hot key only makes PostgreSQL's lock waits longer for the reservations behind them.
  const maxApplying = options.maxApplying ?? 4;
  const waiting: LedgerEntry[] = [];
  const pump = () => {
    while (journal && applying.size < maxApplying && waiting.length > 0) {
      const entry = waiting.shift() as LedgerEntry;
      const id = entryId(entry);
      track(
        applyEntry(store, entry)
          .then(() => journal.file.done(id))
          .catch((err: unknown) =>
            logger.warn({ err: errorSummary(err), request_id: id }, 'ledger write deferred'),
          )
          .finally(() => {
            applying.delete(id);
            queued.delete(id);
            pump();
          }),
      );
      applying.add(id);
    }
  };
  /** Queues a journaled entry for the ledger, once; on failure it waits for the next retry tick. */
  const applyJournaled = (entry: LedgerEntry) => {
    const id = entryId(entry);
    // Not yet due: the next retry tick looks again (the entry stays pending in the journal).
    if (!journal || queued.has(id) || !isDue(entry, Date.now())) return;
    queued.add(id);
    waiting.push(entry);
    pump();
  };

  const direct = async (entry: LedgerEntry): Promise<void> => {
    try {
      await applyEntry(store, entry);
    } catch (err) {
      logger.warn(
        { err: errorSummary(err), request_id: entryId(entry), kind: entry.kind },
        'ledger write failed; retrying in the background',
      );
      track(retryDirect(entry));
    }
  };

  /** Retries a failed direct write at DIRECT_RETRY_MS; the caller has its answer already. */
  const retryDirect = async (entry: LedgerEntry): Promise<void> => {
    for (const delay of DIRECT_RETRY_MS) {
      await new Promise((resolve) => setTimeout(resolve, delay).unref());
      try {
        await applyEntry(store, entry);
        logger.info({ request_id: entryId(entry), kind: entry.kind }, 'ledger write applied on retry');
        return;
      } catch {
        // Next delay.
      }
    }
    logger.error(
      { request_id: entryId(entry), kind: entry.kind },
      'ledger write failed after every retry; reservation kept as it was',
    );
  };

  const record = async (entry: LedgerEntry): Promise<void> => {
    if (!journal) return direct(entry);
    try {
      await journal.file.append(entry);
    } catch (err) {
      logger.error({ err: errorSummary(err) }, 'journal append failed; writing to the ledger directly');
      return direct(entry);
    }
    applyJournaled(entry);
  };

  let adopting = false;
  const retry = journal
    ? setInterval(() => {
        for (const entry of journal.file.pending()) applyJournaled(entry);
        if (adopting) return;
        adopting = true;
        // An instance that died since start-up leaves a journal behind: take it over.
        journal
          .adopt()
          .then((entries) => entries.forEach(applyJournaled))
          .catch((err: unknown) => logger.warn({ err: errorSummary(err) }, 'journal adoption failed'))
          .finally(() => {
            adopting = false;
          });
      }, options.retryMs ?? 1000)
    : undefined;
  retry?.unref();
  // What a crashed predecessor left behind goes in first.
  for (const entry of journal?.adopted ?? []) applyJournaled(entry);

  return {
    record,
    later(entry) {
      // setImmediate: after the reply's own (asynchronous) send, so a synchronous SQLite write cannot delay it.
      track(new Promise<void>((resolve) => setImmediate(() => void record(entry).finally(resolve))));
    },
    async drain(deadlineMs) {
      const deadline = performance.now() + deadlineMs;
      while (inFlight.size > 0 || waiting.length > 0) {
        const left = deadline - performance.now();
        if (left <= 0) return false;
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, left);
        });
        await Promise.race([Promise.allSettled([...inFlight]), timeout]);
        clearTimeout(timer);
      }
      return true;
    },
    backlog: () => journal?.file.pending().length ?? 0,
    async close() {
      clearInterval(retry);
      await journal?.release();
    },
  };
}
