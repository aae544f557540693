import type { FailNextOptions, FakeRequest, FakeRequestMatch } from './types.js';

interface Pending<T> {
  remaining: number;
  readonly value: T;
}

/** The queue behind `failNext` and `delayNext`: each entry applies to the next N requests it matches. */
export class HookQueue<T extends FakeRequestMatch | number> {
  private entries: Pending<T>[] = [];

  add(value: T, times = 1): void {
    if (!Number.isInteger(times) || times < 1) throw new RangeError('times must be a positive integer');
    this.entries.push({ remaining: times, value });
  }

  /** The first pending entry matching the request, counted as used. */
  take(req: FakeRequest): T | null {
    const index = this.entries.findIndex(
      (entry) => typeof entry.value === 'number' || matches(entry.value, req),
    );
    const entry = this.entries[index];
    if (!entry) return null;
    entry.remaining -= 1;
    if (entry.remaining === 0) this.entries.splice(index, 1);
    return entry.value;
  }

  clear(): void {
    this.entries = [];
  }
}

function matches(match: FakeRequestMatch, req: FakeRequest): boolean {
  if (match.method !== undefined && match.method.toUpperCase() !== req.method) return false;
  if (match.path === undefined) return true;
  return typeof match.path === 'string' ? match.path === req.path : match.path.test(req.path);
}

export type FailureHook = FailNextOptions;
