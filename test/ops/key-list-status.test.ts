import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';

describe('GET /v1/keys?status=', () => {
  let t: TestProxy;
  let clock = Date.parse('2030-01-01T00:00:00Z');
  const expired: string[] = [];
  const active: string[] = [];
  const revoked: string[] = [];

  beforeAll(async () => {
    t = await startTestProxy({ now: () => clock, overrides: { SPENDGATE_LOG_LEVEL: 'silent' } });
    const issue = (label: string, ttl: string) =>
      t.issue({ vendor: 'stripe', usd_cap: 1, allowed_endpoints: ['/v1/**'], label, expires_in: ttl });
    // Oldest first: two expiring keys, then twelve that stay active, then one more expiring and a revoked one,
    // so a page of expired keys has to look past a long run of active ones.
    for (const i of [0, 1]) expired.push((await issue(`old-${i}`, '60s')).id);
    for (let i = 0; i < 12; i += 1) active.push((await issue(`live-${i}`, '1h')).id);
    expired.push((await issue('new-0', '60s')).id);
    const gone = await issue('gone', '1h');
    await t.admin('DELETE', `/v1/keys/${gone.id}`);
    revoked.push(gone.id);
    clock += 120_000;
  });
  afterAll(async () => t.close());

  /** Every key of a status, following `next_cursor` (at most 50 pages). */
  async function all(status: string, limit: number) {
    const ids: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 50; page += 1) {
      const res = await t.admin(
        'GET',
        `/v1/keys?status=${status}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.status).toBe(200);
      for (const key of res.json.data as { id: string; status: string }[]) {
        expect(key.status).toBe(status);
        ids.push(key.id);
      }
      sizes.push(res.json.data.length as number);
      cursor = res.json.next_cursor as string | null;
      if (cursor === null) return { ids, sizes };
    }
    throw new Error('more than 50 pages');
  }

  it('lists exactly the expired keys, newest first, across pages', async () => {
    for (const limit of [1, 2, 500]) {
      const { ids } = await all('expired', limit);
      expect(ids).toEqual([...expired].reverse());
    }
  });

  it('leaves expired keys out of status=active, which a read would show as expired', async () => {
    const { ids } = await all('active', 5);
    expect(ids).toEqual([...active].reverse());
    expect((await all('revoked', 10)).ids).toEqual(revoked);
  });

  it('may answer a short page with a cursor while it looks past active keys, and misses nothing', async () => {
    // limit=1: the newest expired key comes first; the next two sit behind twelve active ones.
    const { ids, sizes } = await all('expired', 1);
    expect(ids).toHaveLength(3);
    expect(sizes).toContain(0);
    expect(sizes.every((n) => n <= 1)).toBe(true);
  });

  it('refuses an unknown status naming the parameter', async () => {
    const res = await t.admin('GET', '/v1/keys?status=lapsed');
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ code: 'bad_request', error: { param: 'status' } });
  });
});
