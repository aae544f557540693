import twilio from 'twilio';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFakeTwilio, serveFake, type ServedFake } from '../../src/testing/index.js';
import {
  PLACEHOLDER_ACCOUNT_SID,
  SpendgateTwilioHttpClient,
  twilioClientOptions,
} from '../../src/vendors/twilio/http-client.js';

const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';
const AUTH_TOKEN = 'auth-token-secret';
const fake = createFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
let served: ServedFake;

/** The official SDK, pointed at the fake (which serves Twilio's own paths at its root). */
function sdk(options: { username?: string; password?: string; accountSid?: string } = {}): twilio.Twilio {
  return twilio(options.username ?? ACCOUNT_SID, options.password ?? AUTH_TOKEN, {
    accountSid: options.accountSid ?? ACCOUNT_SID,
    httpClient: new SpendgateTwilioHttpClient({ proxyUrl: served.url, vendorPrefix: '' }),
  });
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

beforeAll(async () => {
  served = await serveFake(fake);
});
afterAll(async () => {
  await served.close();
});
beforeEach(() => fake.reset());

describe('fake Twilio through the official SDK', () => {
  it('creates a message: 201 with the full resource, num_segments a string, price null', async () => {
    const message = await sdk().messages.create({
      to: '+15558675310',
      from: '+15017122661',
      body: 'Hello ✓',
    });
    expect(message.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(message).toMatchObject({
      accountSid: ACCOUNT_SID,
      to: '+15558675310',
      from: '+15017122661',
      body: 'Hello ✓',
      status: 'queued',
      numSegments: '1',
      numMedia: '0',
      price: null,
      priceUnit: 'USD',
      direction: 'outbound-api',
      apiVersion: '2010-04-01',
      errorCode: null,
    });
    expect(message.dateCreated).toBeInstanceOf(Date);
    expect(Number.isNaN(message.dateCreated.getTime())).toBe(false);
    const [request] = fake.requests;
    expect(request?.path).toBe(`/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`);
    expect(request?.headers.authorization).toBe(basic(ACCOUNT_SID, AUTH_TOKEN));
    expect(request?.body.toString()).toBe('To=%2B15558675310&From=%2B15017122661&Body=Hello%20%E2%9C%93');
  });

  it('answers the create with status 201 and a twilio-request-id on the wire', async () => {
    const res = await fetch(`${served.url}/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`, {
      method: 'POST',
      headers: {
        authorization: basic(ACCOUNT_SID, AUTH_TOKEN),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'To=%2B15558675310&From=%2B15017122661&Body=hi',
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('twilio-request-id')).toMatch(/^RQ[0-9a-f]{32}$/);
    const json = (await res.json()) as Record<string, unknown>;
    expect(json).toMatchObject({ num_segments: '1', price: null, price_unit: 'USD', status: 'queued' });
    expect(json.date_created).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
  });

  it('counts segments with the vendor module’s algorithm', async () => {
    const client = sdk();
    const from = '+15017122661';
    const send = (body: string) => client.messages.create({ to: '+15558675310', from, body });
    expect((await send('a'.repeat(160))).numSegments).toBe('1');
    expect((await send('a'.repeat(161))).numSegments).toBe('2');
    expect((await send('é'.repeat(70))).numSegments).toBe('1');
    expect((await send('ж'.repeat(71))).numSegments).toBe('2');
  });

  it('shows the message sent and priced (negative decimal string) when fetched later', async () => {
    const client = sdk();
    const created = await client.messages.create({
      to: '+15558675310',
      from: '+15017122661',
      body: 'x'.repeat(200),
    });
    const fetched = await client.messages(created.sid).fetch();
    expect(fetched).toMatchObject({ status: 'sent', price: '-0.01660', priceUnit: 'USD', numSegments: '2' });
    expect(fetched.dateSent).toBeInstanceOf(Date);
  });

  it('prices with a configured per-segment price, exactly', async () => {
    const priced = createFakeTwilio({
      accountSid: ACCOUNT_SID,
      authToken: AUTH_TOKEN,
      pricePerSegmentMicros: 7_912,
    });
    const create = await priced.handle({
      method: 'POST',
      path: `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`,
      query: '',
      headers: { authorization: basic(ACCOUNT_SID, AUTH_TOKEN) },
      body: Buffer.from('To=%2B15558675310&From=%2B15017122661&Body=hi'),
    });
    const { sid } = JSON.parse(create.body) as { sid: string };
    const fetched = await priced.handle({
      method: 'GET',
      path: `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages/${sid}.json`,
      query: '',
      headers: { authorization: basic(ACCOUNT_SID, AUTH_TOKEN) },
      body: Buffer.alloc(0),
    });
    expect(JSON.parse(fetched.body)).toMatchObject({ price: '-0.007912' });
  });

  it('sends MMS with repeated MediaUrl keys', async () => {
    const message = await sdk().messages.create({
      to: '+15558675310',
      from: '+15017122661',
      mediaUrl: ['https://example.com/a.png', 'https://example.com/b.png'],
    });
    expect(message.sid).toMatch(/^MM/);
    expect(message.numMedia).toBe('2');
    expect(fake.requests[0]?.body.toString()).toContain(
      'MediaUrl=https%3A%2F%2Fexample.com%2Fa.png&MediaUrl=https%3A%2F%2Fexample.com%2Fb.png',
    );
    expect((await sdk().messages(message.sid).fetch()).price).toBe('-0.02200');
  });

  it('accepts a Messaging Service sender with status accepted and no segments yet', async () => {
    const message = await sdk().messages.create({
      to: '+15558675310',
      messagingServiceSid: 'MG0123456789abcdef0123456789abcdef',
      body: 'hi',
    });
    expect(message).toMatchObject({ status: 'accepted', numSegments: '0', from: null });
  });

  it('throws RestException 21211 for an invalid To', async () => {
    const err = await caught(sdk().messages.create({ to: '+15005550001', from: '+15017122661', body: 'hi' }));
    expect(err).toBeInstanceOf(twilio.RestException);
    expect(err).toMatchObject({
      status: 400,
      code: 21211,
      moreInfo: 'https://www.twilio.com/docs/errors/21211',
      message: "The 'To' number +15005550001 is not a valid phone number.",
    });
    const malformed = await caught(
      sdk().messages.create({ to: 'not-a-number', from: '+15017122661', body: 'hi' }),
    );
    expect(malformed).toMatchObject({ status: 400, code: 21211 });
  });

  it.each([
    ['+15005550002', 21612],
    ['+15005550003', 21408],
    ['+15005550004', 21610],
    ['+15005550009', 21614],
  ])('fails the magic test number %s with %i', async (to, code) => {
    const err = await caught(sdk().messages.create({ to, from: '+15017122661', body: 'hi' }));
    expect(err).toMatchObject({ status: 400, code });
  });

  it('requires To, a sender and a body or media', async () => {
    const post = async (body: string) => {
      const res = await fetch(`${served.url}/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`, {
        method: 'POST',
        headers: { authorization: basic(ACCOUNT_SID, AUTH_TOKEN) },
        body,
      });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    };
    expect(await post('From=%2B15017122661&Body=hi')).toEqual({
      status: 400,
      json: {
        code: 21604,
        message: "A 'To' phone number is required.",
        more_info: 'https://www.twilio.com/docs/errors/21604',
        status: 400,
      },
    });
    expect((await post('To=%2B15558675310&Body=hi')).json.code).toBe(21603);
    expect((await post('To=%2B15558675310&From=%2B15017122661')).json.code).toBe(21602);
    expect((await post(`To=%2B15558675310&From=%2B15017122661&Body=${'a'.repeat(1601)}`)).json.code).toBe(
      21617,
    );
  });

  it('rejects wrong credentials with RestException 20003', async () => {
    const err = await caught(
      sdk({ password: 'wrong' }).messages.create({ to: '+15558675310', from: '+1501', body: 'x' }),
    );
    expect(err).toBeInstanceOf(twilio.RestException);
    expect(err).toMatchObject({ status: 401, code: 20003, message: 'Authenticate' });
  });

  it('answers 404 20404 for another AccountSid in the path or an unknown message', async () => {
    const other = sdk({ accountSid: 'AC99999999999999999999999999999999' });
    const err = await caught(other.messages.create({ to: '+15558675310', from: '+15017122661', body: 'x' }));
    expect(err).toMatchObject({ status: 404, code: 20404 });
    const missing = await caught(sdk().messages('SM00000000000000000000000000000000').fetch());
    expect(missing).toMatchObject({ status: 404, code: 20404 });
  });

  it('lists messages newest first, filtered by To, across pages', async () => {
    const client = sdk();
    for (const body of ['one', 'two', 'three']) {
      await client.messages.create({ to: '+15558675310', from: '+15017122661', body });
    }
    await client.messages.create({ to: '+15550000000', from: '+15017122661', body: 'other' });
    const listed = await client.messages.list({ to: '+15558675310', pageSize: 2 });
    expect(listed.map((m) => m.body)).toEqual(['three', 'two', 'one']);
    expect(listed.every((m) => m.status === 'sent')).toBe(true);
  });

  it('deletes a message with 204', async () => {
    const client = sdk();
    const message = await client.messages.create({ to: '+15558675310', from: '+15017122661', body: 'bye' });
    expect(await client.messages(message.sid).remove()).toBe(true);
    expect(await caught(client.messages(message.sid).fetch())).toMatchObject({ status: 404 });
  });

  it('turns an injected 500 into a RestException and keeps no idempotency', async () => {
    fake.failNext({ status: 500, afterExecute: true });
    const client = sdk();
    const err = await caught(client.messages.create({ to: '+15558675310', from: '+15017122661', body: 'x' }));
    expect(err).toMatchObject({ status: 500, code: 20500 });
    await client.messages.create({ to: '+15558675310', from: '+15017122661', body: 'x' });
    expect(await client.messages.list()).toHaveLength(2);
  });

  it('marks responses in sandbox mode', async () => {
    const sandbox = createFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, sandbox: true });
    const res = await sandbox.handle({
      method: 'GET',
      path: '/',
      query: '',
      headers: {},
      body: Buffer.alloc(0),
    });
    expect(res.status).toBe(401);
    expect(res.headers['spendgate-sandbox']).toBe('true');
  });
});

describe('spendgate/twilio http client', () => {
  it('sends the vault key as username and a placeholder AccountSid, under /twilio', async () => {
    const client = twilio('vk_test_abc', 'unused', twilioClientOptions({ proxyUrl: `${served.url}/` }));
    const err = await caught(client.messages.create({ to: '+15558675310', from: '+15017122661', body: 'x' }));
    // The fake is not a proxy: it sees the prefixed path and the vault credentials and refuses them.
    expect(err).toMatchObject({ status: 401, code: 20003 });
    const [request] = fake.requests;
    expect(request?.path).toBe(`/twilio/2010-04-01/Accounts/${PLACEHOLDER_ACCOUNT_SID}/Messages.json`);
    expect(request?.headers.authorization).toBe(basic('vk_test_abc', 'unused'));
  });

  it('rewrites api.twilio.com URLs to the proxy, keeping path and query', () => {
    const client = new SpendgateTwilioHttpClient({ proxyUrl: 'http://127.0.0.1:8787' });
    expect(client.rewrite('https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?PageSize=5')).toBe(
      'http://127.0.0.1:8787/twilio/2010-04-01/Accounts/AC1/Messages.json?PageSize=5',
    );
    const prefixed = new SpendgateTwilioHttpClient({
      proxyUrl: 'https://gate.example/base/',
      vendorPrefix: '/t',
    });
    expect(prefixed.rewrite('https://api.twilio.com/2010-04-01/x.json')).toBe(
      'https://gate.example/base/t/2010-04-01/x.json',
    );
  });

  it('refuses other Twilio hosts rather than send the vault key to Twilio', async () => {
    const client = twilio('vk_test_abc', 'unused', twilioClientOptions({ proxyUrl: served.url }));
    await expect(client.messaging.v1.services.list()).rejects.toThrow(
      /spendgate proxies only api\.twilio\.com/,
    );
    expect(fake.requests).toHaveLength(0);
  });

  it('rejects a proxyUrl that is not http(s)', () => {
    expect(() => new SpendgateTwilioHttpClient({ proxyUrl: 'ftp://x' })).toThrow(TypeError);
  });
});
