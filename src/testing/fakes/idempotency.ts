import type { FakeResponse } from './types.js';

export type IdempotencyLookup =
  | { readonly kind: 'new' }
  | { readonly kind: 'replay'; readonly response: FakeResponse }
  | { readonly kind: 'mismatch' };

/** Saved responses by idempotency key, each with the fingerprint of the request that produced it. */
export class IdempotencyRecords {
  private readonly saved = new Map<string, { fingerprint: string; response: FakeResponse }>();

  lookup(key: string, fingerprint: string): IdempotencyLookup {
    const record = this.saved.get(key);
    if (!record) return { kind: 'new' };
    return record.fingerprint === fingerprint
      ? { kind: 'replay', response: record.response }
      : { kind: 'mismatch' };
  }

  save(key: string, fingerprint: string, response: FakeResponse): void {
    this.saved.set(key, { fingerprint, response });
  }

  clear(): void {
    this.saved.clear();
  }
}
