import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import twilio from 'twilio';
import { Resend } from 'resend';
import { Pool } from 'undici';
import { createFakeResend, createFakeTwilio, serveFake } from '../../src/testing/index.js';
import { PLACEHOLDER_ACCOUNT_SID, SpendgateTwilioHttpClient } from '../../src/vendors/twilio/http-client.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';

const SID = 'AC0123456789abcdef0123456789abcdef';
const AUTH = 'real_twilio_auth_token_000';
const RESEND_KEY = 're_real_resend_key_000';
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('Twilio and Resend through the proxy with their official SDKs', () => {
  const fakeTwilio = createFakeTwilio({ accountSid: SID, authToken: AUTH });
  const fakeResend = createFakeResend({ apiKey: RESEND_KEY });
  let t: TestProxy;
  let closeUpstreams: () => Promise<void>;
  beforeAll(async () => {
    const tw = await serveFake(fakeTwilio);
    const rs = await serveFake(fakeResend);
    closeUpstreams = async () => {
      await tw.close();
      await rs.close();
    };
    t = await startTestProxy({
      overrides: {
        TWILIO_ACCOUNT_SID: SID,
        TWILIO_AUTH_TOKEN: AUTH,
        SPENDGATE_TWILIO_BASE_URL: tw.url,
        RESEND_API_KEY: RESEND_KEY,
        SPENDGATE_RESEND_BASE_URL: rs.url,
        SPENDGATE_LOG_LEVEL: 'warn',
      },
    });
  });
  afterAll(async () => {
    await t.close();
    await closeUpstreams();
  });

  const sms = (vaultKey: string) =>
    twilio(vaultKey, 'unused', {
      accountSid: PLACEHOLDER_ACCOUNT_SID,
      httpClient: new SpendgateTwilioHttpClient({ proxyUrl: t.url }),
    });
  const messagesSeen = () =>
    fakeTwilio.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/Messages.json'));

  it('sends SMS within the cap, refuses the one past it, and the upstream sees only the real credentials', async () => {
    fakeTwilio.reset();
    // Two one-segment messages at $0.0083 fit in $0.02; the third does not.
    const { id, token } = await t.issue({
      vendor: 'twilio',
      usd_cap: 0.02,
      allowed_endpoints: ['POST /2010-04-01/Accounts/*/Messages.json'],
    });
    const client = sms(token);
    const first = await client.messages.create({
      to: '+15558675310',
      from: '+15017122661',
      body: 'Your order shipped',
    });
    expect(first.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(first.numSegments).toBe('1');
    await client.messages.create({ to: '+15558675310', from: '+15017122661', body: 'Second' });
    const err = await client.messages
      .create({ to: '+15558675310', from: '+15017122661', body: 'Third' })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 429, code: 'cap_exhausted' });
    const seen = messagesSeen();
    expect(seen).toHaveLength(2);
    for (const request of seen) {
      expect(request.headers.authorization).toBe(basic(SID, AUTH));
      expect(request.path).toBe(`/2010-04-01/Accounts/${SID}/Messages.json`);
      expect(JSON.stringify(request.headers)).not.toContain(token);
    }
    expect((await t.admin('GET', `/v1/keys/${id}`)).json).toMatchObject({
      spent_usd: 0.0166,
      calls: 2,
      denied_calls: 1,
    });
  });

  it('prices a UCS-2 message by its segments', async () => {
    fakeTwilio.reset();
    const { id, token } = await t.issue({
      vendor: 'twilio',
      usd_cap: 1,
      allowed_endpoints: ['POST /2010-04-01/Accounts/*/Messages.json'],
    });
    // 71 UCS-2 code units: two segments of 67.
    await sms(token).messages.create({
      to: '+15558675310',
      from: '+15017122661',
      body: `✓${'a'.repeat(70)}`,
    });
    expect((await t.admin('GET', `/v1/keys/${id}`)).json.spent_usd).toBe(0.0166);
  });

  it('admits exactly N of 500 concurrent SMS, and the upstream receives exactly N', async () => {
    fakeTwilio.reset();
    const n = 37;
    const { id, token } = await t.issue({
      vendor: 'twilio',
      usd_cap: (n * 8300) / 1_000_000,
      allowed_endpoints: ['POST /2010-04-01/Accounts/*/Messages.json'],
    });
    const pool = new Pool(t.url, { connections: 64 });
    const body = 'To=%2B15558675310&From=%2B15017122661&Body=hello';
    const statuses = await Promise.all(
      Array.from({ length: 500 }, async () => {
        const res = await pool.request({
          method: 'POST',
          path: `/twilio/2010-04-01/Accounts/${PLACEHOLDER_ACCOUNT_SID}/Messages.json`,
          headers: { authorization: basic(token, 'x'), 'content-type': 'application/x-www-form-urlencoded' },
          body,
        });
        const json = (await res.body.json()) as { code?: unknown };
        return res.statusCode === 201 ? 'sent' : String(json.code);
      }),
    );
    await pool.close();
    expect(statuses.filter((s) => s === 'sent')).toHaveLength(n);
    expect(statuses.filter((s) => s === 'cap_exhausted')).toHaveLength(500 - n);
    expect(messagesSeen()).toHaveLength(n);
    expect((await t.admin('GET', `/v1/keys/${id}`)).json).toMatchObject({
      spent_usd: n * 0.0083,
      reserved_usd: 0,
    });
  });

  it('sends email within the cap per recipient, refuses past it, and passes idempotency through', async () => {
    fakeResend.reset();
    // $0.0009 per recipient: $0.005 admits five recipients.
    const { id, token } = await t.issue({
      vendor: 'resend',
      usd_cap: 0.005,
      allowed_endpoints: ['POST /emails', 'POST /emails/batch'],
    });
    const resend = new Resend(token, { baseUrl: `${t.url}/resend` });
    const from = 'Acme <onboarding@resend.dev>';
    const sent = await resend.emails.send(
      { from, to: ['a@example.com', 'b@example.com'], cc: 'c@example.com', subject: 'hi', text: 'x' },
      { idempotencyKey: 'welcome-1' },
    );
    expect(sent.error).toBeNull();
    expect(sent.data?.id).toMatch(/^[0-9a-f-]{36}$/);
    const replay = await resend.emails.send(
      { from, to: ['a@example.com', 'b@example.com'], cc: 'c@example.com', subject: 'hi', text: 'x' },
      { idempotencyKey: 'welcome-1' },
    );
    expect(replay.data?.id).toBe(sent.data?.id);
    const batch = await resend.batch.send([
      { from, to: 'd@example.com', subject: '1', text: 'x' },
      { from, to: 'e@example.com', subject: '2', text: 'x' },
    ]);
    expect(batch.error).toBeNull();
    const over = await resend.emails.send({ from, to: 'f@example.com', subject: 'over', text: 'x' });
    expect(over.data).toBeNull();
    expect(over.error).toMatchObject({ statusCode: 429, name: 'cap_exhausted' });
    const posts = fakeResend.requests.filter((r) => r.method === 'POST');
    expect(posts.map((r) => r.path)).toEqual(['/emails', '/emails', '/emails/batch']);
    expect(posts.every((r) => r.headers.authorization === `Bearer ${RESEND_KEY}`)).toBe(true);
    expect((await t.admin('GET', `/v1/keys/${id}`)).json).toMatchObject({ spent_usd: 0.0045, calls: 2 });
  });

  it('keeps a key for one vendor away from the others', async () => {
    const { token } = await t.issue({ vendor: 'twilio', usd_cap: 1, allowed_endpoints: ['/**'] });
    const resend = new Resend(token, { baseUrl: `${t.url}/resend` });
    const res = await resend.emails.send({ from: 'a@b.c', to: 'x@example.com', subject: 's', text: 't' });
    expect(res.error).toMatchObject({ statusCode: 403, name: 'vendor_mismatch' });
    const res2 = await t.call('POST', '/v1/payment_intents', { token, body: 'amount=1&currency=usd' });
    expect(res2.status).toBe(400);
    expect(res2.json.code).toBe('cost_unknown');
  });
});

describe('Twilio country prices from configuration', () => {
  it('prices by the longest E.164 prefix of To and falls back to the default', async () => {
    const fake = createFakeTwilio({ accountSid: SID, authToken: AUTH });
    const up = await serveFake(fake);
    const t = await startTestProxy({
      overrides: {
        TWILIO_ACCOUNT_SID: SID,
        TWILIO_AUTH_TOKEN: AUTH,
        SPENDGATE_TWILIO_BASE_URL: up.url,
        SPENDGATE_TWILIO_SMS_PRICES: '+44=0.0524,+447=0.06',
        SPENDGATE_LOG_LEVEL: 'warn',
      },
    });
    try {
      const { id, token } = await t.issue({
        vendor: 'twilio',
        usd_cap: 1,
        allowed_endpoints: ['POST /2010-04-01/Accounts/*/Messages.json'],
      });
      const send = (to: string) =>
        t.call('POST', `/twilio/2010-04-01/Accounts/${PLACEHOLDER_ACCOUNT_SID}/Messages.json`, {
          headers: { authorization: basic(token, 'x'), 'content-type': 'application/x-www-form-urlencoded' },
          body: `To=${encodeURIComponent(to)}&From=%2B15017122661&Body=hi`,
        });
      expect((await send('+442071838750')).status).toBe(201);
      expect((await t.admin('GET', `/v1/keys/${id}`)).json.spent_usd).toBe(0.0524);
      expect((await send('+447700900123')).status).toBe(201);
      expect((await send('+15558675310')).status).toBe(201);
      expect((await t.admin('GET', `/v1/keys/${id}`)).json.spent_usd).toBe(0.1207);
    } finally {
      await t.close();
      await up.close();
    }
  });
});
