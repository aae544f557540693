import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFakeResend, createFakeTwilio, serveFake } from '../../src/testing/index.js';
import { loadConfig } from '../../src/config/load-config.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';

const SID = 'AC0123456789abcdef0123456789abcdef';
const AUTH = 'real_twilio_auth_token_000';
const RESEND_KEY = 're_real_resend_key_000';
const MESSAGES = `/2010-04-01/Accounts/${SID}/Messages.json`;
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const JSON_TYPE = { 'content-type': 'application/json' };

/** Strips `/prefix` and relays to the fake: an upstream that lives under a path, like a gateway would. */
async function prefixRelay(prefix: string, target: string): Promise<{ url: string; server: Server }> {
  const to = new URL(target);
  const server = createServer((req, res) => {
    if (!req.url?.startsWith(`${prefix}/`)) {
      res.writeHead(599).end();
      return;
    }
    const upstream = httpRequest(
      {
        host: to.hostname,
        port: to.port,
        method: req.method,
        path: req.url.slice(prefix.length),
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${prefix}`, server };
}

describe('the proxy forwards only what it priced (Twilio, Resend)', () => {
  const twilioFake = createFakeTwilio({ accountSid: SID, authToken: AUTH });
  const resendFake = createFakeResend({ apiKey: RESEND_KEY });
  let t: TestProxy;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const tw = await serveFake(twilioFake);
    const rs = await serveFake(resendFake);
    const relay = await prefixRelay('/gateway/resend', rs.url);
    t = await startTestProxy({
      overrides: {
        TWILIO_ACCOUNT_SID: SID,
        TWILIO_AUTH_TOKEN: AUTH,
        SPENDGATE_TWILIO_BASE_URL: tw.url,
        SPENDGATE_TWILIO_SMS_PRICES: '+1=0.0083',
        RESEND_API_KEY: RESEND_KEY,
        SPENDGATE_RESEND_BASE_URL: relay.url,
        SPENDGATE_LOG_LEVEL: 'warn',
      },
    });
    close = async () => {
      await t.close();
      await new Promise((resolve) => relay.server.close(resolve));
      await tw.close();
      await rs.close();
    };
  });
  afterAll(async () => close());
  beforeEach(() => {
    twilioFake.reset();
    resendFake.reset();
  });

  const twilioKey = () => t.issue({ vendor: 'twilio', usd_cap: 1, allowed_endpoints: ['/2010-04-01/**'] });
  const resendKey = () =>
    t.issue({ vendor: 'resend', usd_cap: 1, allowed_endpoints: ['/emails', '/emails/**'] });
  const sms = (token: string, body: string, path = MESSAGES) =>
    t.call('POST', path, { token, body, headers: FORM });

  it('refuses ?To= and ?MediaUrl= on a message create', async () => {
    const { id, token } = await twilioKey();
    const to = await sms(
      token,
      'To=%2B15551234567&From=%2B15017122661&Body=hi',
      `${MESSAGES}?To=%2B447700900123`,
    );
    expect(to.status).toBe(400);
    expect(to.json).toMatchObject({ code: 'param_not_allowed', error: { param: 'To' } });
    const media = await sms(
      token,
      'To=%2B15551234567&From=%2B15017122661&Body=hi',
      `${MESSAGES}?MediaUrl=https://x/y.png`,
    );
    expect(media.json).toMatchObject({ code: 'param_not_allowed', error: { param: 'MediaUrl' } });
    expect(twilioFake.requests).toHaveLength(0);
    expect((await t.admin('GET', `/v1/keys/${id}`)).json).toMatchObject({
      spent_usd: 0,
      calls: 0,
      denied_calls: 2,
    });
  });

  it('refuses unknown message parameters, repeated destinations, and a body that is not canonical', async () => {
    const { token } = await twilioKey();
    const unknown = await sms(token, 'To=%2B15551234567&From=%2B15017122661&Body=hi&Tariff=free');
    expect(unknown.json).toMatchObject({ code: 'param_not_allowed', error: { param: 'Tariff' } });
    const shorten = await sms(
      token,
      'To=%2B15551234567&From=%2B15017122661&Body=see%20a.co&ShortenUrls=true',
    );
    expect(shorten.json).toMatchObject({ code: 'param_not_allowed', error: { param: 'ShortenUrls' } });
    const twice = await sms(token, 'To=%2B15551234567&To=%2B447700900123&From=%2B15017122661&Body=hi');
    expect(twice.json).toMatchObject({ code: 'param_invalid', error: { param: 'To' } });
    const bracket = await sms(token, 'To=%2B15551234567&From=%2B15017122661&Body=hi&To]=%2B44');
    expect(bracket.json).toMatchObject({ code: 'param_invalid' });
    const update = await sms(token, 'Body=resend%20it', `/2010-04-01/Accounts/${SID}/Messages/SM1.json`);
    expect(update.json).toMatchObject({ code: 'param_invalid', error: { param: 'Body' } });
    expect(twilioFake.requests).toHaveLength(0);
  });

  it('forwards the canonical form of a Twilio message with only the SDK headers', async () => {
    const { token } = await twilioKey();
    const res = await t.call('POST', MESSAGES, {
      token,
      body: 'To=%2B15551234567&From=%2B15017122661&Body=hi+there&MediaUrl=https%3A%2F%2Fa%2F1.png&MediaUrl=https%3A%2F%2Fa%2F2.png',
      headers: {
        ...FORM,
        'user-agent': 'twilio-node/6.2.0',
        'x-twilio-webhook-enabled': 'true',
        cookie: 'c=1',
      },
    });
    expect(res.status).toBe(201);
    const seen = twilioFake.requests[0];
    expect(seen?.body.toString()).toBe(
      'To=%2B15551234567&From=%2B15017122661&Body=hi%20there&MediaUrl=https%3A%2F%2Fa%2F1.png&MediaUrl=https%3A%2F%2Fa%2F2.png',
    );
    expect(seen?.headers['user-agent']).toBe('twilio-node/6.2.0');
    expect(seen?.headers['x-twilio-webhook-enabled']).toBeUndefined();
    expect(seen?.headers.cookie).toBeUndefined();
  });

  it('sends Resend the parsed JSON serialised again, through a base URL with a path prefix', async () => {
    const { id, token } = await resendKey();
    // A duplicate key: JSON.parse keeps the last, and so does what is forwarded; no other parser gets a vote.
    const raw =
      '{"from":"a@example.com","to":"x@example.com","to":["y@example.com","z@example.com"],"subject":"s","text":"t"}';
    const res = await t.call('POST', '/resend/emails', { token, body: raw, headers: JSON_TYPE });
    expect(res.status).toBe(200);
    const seen = resendFake.requests[0];
    expect(seen?.path).toBe('/emails');
    expect(JSON.parse(seen?.body.toString() ?? '')).toEqual({
      from: 'a@example.com',
      to: ['y@example.com', 'z@example.com'],
      subject: 's',
      text: 't',
    });
    expect(seen?.body.toString()).not.toContain('x@example.com');
    expect((await t.admin('GET', `/v1/keys/${id}`)).json).toMatchObject({
      spent_usd: 0.0018,
      reserved_usd: 0,
    });
  });

  it('refuses an unknown Resend field, a non-JSON body and a batch item of the wrong shape', async () => {
    const { token } = await resendKey();
    const unknown = await t.call('POST', '/resend/emails', {
      token,
      body: JSON.stringify({
        from: 'a@example.com',
        to: 'x@example.com',
        subject: 's',
        text: 't',
        fanout: 1000,
      }),
      headers: JSON_TYPE,
    });
    expect(unknown.json).toMatchObject({ code: 'param_not_allowed', error: { param: 'fanout' } });
    const form = await t.call('POST', '/resend/emails', { token, body: 'to=x', headers: FORM });
    expect(form.status).toBe(415);
    const batch = await t.call('POST', '/resend/emails/batch', {
      token,
      body: JSON.stringify([{ from: 'a@example.com', to: { list: 'everyone' }, subject: 's' }]),
      headers: JSON_TYPE,
    });
    expect(batch.json).toMatchObject({ code: 'param_invalid', error: { param: '[0].to' } });
    expect(resendFake.requests).toHaveLength(0);
  });

  it('refuses a base URL with a query string or credentials at start-up, naming the setting', async () => {
    for (const bad of ['http://127.0.0.1:1/x?y=1', 'http://user:pw@127.0.0.1:1', 'ftp://127.0.0.1/']) {
      await expect(
        loadConfig({
          overrides: { SPENDGATE_ADMIN_TOKEN: 'admin-token-test-0123456789', SPENDGATE_RESEND_BASE_URL: bad },
        }),
      ).rejects.toThrow(/SPENDGATE_RESEND_BASE_URL/);
    }
  });

  it('refuses what could cost more than priced: long bodies, empty media, header recipients, the Account resource', async () => {
    const tw = await twilioKey();
    const long = await sms(tw.token, `To=%2B15551234567&From=%2B15017122661&Body=${'x'.repeat(1601)}`);
    expect(long.json).toMatchObject({ code: 'param_invalid', error: { param: 'Body' } });
    const emptyMedia = await sms(tw.token, 'To=%2B15551234567&From=%2B15017122661&Body=hi&MediaUrl=');
    expect(emptyMedia.json).toMatchObject({ code: 'param_invalid', error: { param: 'MediaUrl' } });
    const account = await t.call('GET', `/2010-04-01/Accounts/${SID}.json`, { token: tw.token });
    expect(account.json).toMatchObject({ code: 'cost_unknown' });
    expect(twilioFake.requests).toHaveLength(0);
    const rs = await resendKey();
    const bcc = await t.call('POST', '/resend/emails', {
      token: rs.token,
      body: JSON.stringify({
        from: 'a@example.com',
        to: 'x@example.com',
        subject: 's',
        text: 't',
        headers: { BCC: 'p@q.co' },
      }),
      headers: JSON_TYPE,
    });
    expect(bcc.json).toMatchObject({ code: 'param_invalid' });
    expect(resendFake.requests).toHaveLength(0);
  });

  it('prices a comma-separated recipient string by its addresses', async () => {
    const { id, token } = await resendKey();
    resendFake.failNext({ status: 422 });
    const res = await t.call('POST', '/resend/emails', {
      token,
      body: JSON.stringify({
        from: 'a@example.com',
        to: 'x@example.com, Bob <b@example.com>',
        subject: 's',
        text: 't',
      }),
      headers: JSON_TYPE,
    });
    expect(res.status).toBe(422);
    const audit = await t.admin('GET', `/v1/audit?key_id=${id}`);
    expect(audit.json.data[0]).toMatchObject({ cost_usd_reserved: 0.0018, settlement: 'released' });
  });
});
