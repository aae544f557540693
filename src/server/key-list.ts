import type { KeyQuery, KeyRecord, Page, Store } from '../store/types.js';

/** As the admin API lists keys: the store's statuses, plus `expired` (active, but past its expiry). */
export type KeyListStatus = 'active' | 'revoked' | 'expired';

/** Most store pages one list request reads while filtering by expiry. */
const MAX_STORE_PAGES = 10;

/**
 * Lists keys by the status a read reports. The store knows `active` and `revoked`; `expired` is an active
 * key past its expiry, so `active` and `expired` read active keys and split them by the clock. Pagination
 * stays exact: the store's cursor is the position of the last key it returned, every store page is read
 * whole, and each asks only for as many keys as the answer still needs, so the cursor returned is exactly
 * where the filter stopped. A page may hold fewer than `limit` keys (at most MAX_STORE_PAGES store pages are
 * read per request) while `nextCursor` is not null.
 */
export async function listKeysByStatus(
  store: Store,
  query: Omit<KeyQuery, 'status'> & { readonly status?: KeyListStatus | undefined },
  now: number,
): Promise<Page<KeyRecord>> {
  const { status } = query;
  if (status !== 'active' && status !== 'expired') return store.listKeys({ ...query, status });
  const wanted = (key: KeyRecord) => key.expiresAt <= now === (status === 'expired');
  const data: KeyRecord[] = [];
  let cursor = query.cursor;
  for (let read = 0; read < MAX_STORE_PAGES && data.length < query.limit; read += 1) {
    const page = await store.listKeys({
      ...query,
      status: 'active',
      limit: query.limit - data.length,
      cursor,
    });
    data.push(...page.data.filter(wanted));
    if (page.nextCursor === null) return { data, nextCursor: null };
    cursor = page.nextCursor;
  }
  return { data, nextCursor: cursor ?? null };
}
