import { basicCredentials } from '../../vendors/shared/credentials.js';
import { decodeForm } from '../../wire/form.js';
import { createFake, type Executed } from './create-fake.js';
import { randomHex } from './ids.js';
import { jsonResponse } from './json.js';
import { injectedTwilioError, twilioError, TwilioFailure } from './twilio-errors.js';
import { createMessage, deliver, type StoredMessage } from './twilio-messages.js';
import type { FakeRequest, FakeResponse, FakeVendor } from './types.js';

export interface FakeTwilioOptions {
  /** The account the fake serves: Basic auth and every path must use it. */
  readonly accountSid: string;
  readonly authToken: string;
  /** What a sent SMS segment costs, shown as `price` on a fetched message. Default 8300 ($0.0083, US). */
  readonly pricePerSegmentMicros?: number;
  /** What a sent MMS costs. Default 22000 ($0.022, US). */
  readonly pricePerMmsMicros?: number;
  /** Mark every response `Spendgate-Sandbox: true` (the proxy's `--sandbox` mode). */
  readonly sandbox?: boolean;
}

const ACCOUNT_PATH = /^\/2010-04-01\/Accounts\/([^/]+?)(\.json|\/.*)$/;
const MESSAGE_PATH = /^\/Messages\/([^/]+)\.json$/;

/**
 * A Twilio Programmable Messaging stand-in (`/2010-04-01/Accounts/{AccountSid}/Messages…`): HTTP Basic
 * `AccountSid:AuthToken`, Twilio's `{code,message,more_info,status}` errors, a 201 with the full message
 * resource on create (`price: null`, `num_segments` a string), and on fetch the message `sent` with `price` as a
 * negative decimal string. No idempotency, as on the real API. The magic test numbers `+1500555000{1,2,3,4,9}`
 * fail with 21211, 21612, 21408, 21610 and 21614.
 */
export function createFakeTwilio(options: FakeTwilioOptions): FakeVendor {
  const prices = {
    perSegmentMicros: options.pricePerSegmentMicros ?? 8300,
    perMmsMicros: options.pricePerMmsMicros ?? 22000,
  };
  const messages = new Map<string, StoredMessage>();

  const process = (req: FakeRequest, executed: Executed): FakeResponse => {
    const credentials = basicCredentials({ authorization: req.headers.authorization });
    if (credentials?.user !== options.accountSid || credentials.password !== options.authToken) {
      return {
        ...twilioError(401, 20003, 'Authenticate'),
        headers: { 'www-authenticate': 'Basic realm="Twilio API"' },
      };
    }
    const match = ACCOUNT_PATH.exec(req.path);
    if (!match || match[1] !== options.accountSid) return notFound(req.path);
    const rest = match[2] ?? '';
    try {
      if (rest === '/Messages.json' && req.method === 'POST') {
        const message = createMessage(options.accountSid, decodeForm(req.body.toString('utf8')), prices);
        messages.set(message.resource.sid, message);
        return executed(jsonResponse(201, message.resource));
      }
      if (rest === '/Messages.json' && req.method === 'GET') return list(req, rest);
      const sid = MESSAGE_PATH.exec(rest)?.[1];
      const message = sid === undefined ? undefined : messages.get(sid);
      if (message && req.method === 'GET') return jsonResponse(200, deliver(message));
      if (message && req.method === 'DELETE') {
        messages.delete(message.resource.sid);
        return { status: 204, headers: {}, body: '' };
      }
      return notFound(req.path);
    } catch (err) {
      if (err instanceof TwilioFailure) return err.response;
      throw err;
    }
  };

  /** Newest first, `PageSize` (default 50) and `Page`, filtered by `To` and `From`. */
  const list = (req: FakeRequest, rest: string): FakeResponse => {
    const query = decodeForm(req.query);
    const to = typeof query.To === 'string' ? query.To : undefined;
    const from = typeof query.From === 'string' ? query.From : undefined;
    const pageSize = Math.min(Math.max(Number(query.PageSize ?? 50) || 50, 1), 1000);
    const page = Math.max(Number(query.Page ?? 0) || 0, 0);
    const all = [...messages.values()]
      .reverse()
      .map(deliver)
      .filter((m) => (to === undefined || m.to === to) && (from === undefined || m.from === from));
    const data = all.slice(page * pageSize, (page + 1) * pageSize);
    const base = `/2010-04-01/Accounts/${options.accountSid}${rest}`;
    // Page links keep the filters, as Twilio's do: the SDK follows them verbatim.
    const filters = [
      ...(to === undefined ? [] : [`To=${encodeURIComponent(to)}`]),
      ...(from === undefined ? [] : [`From=${encodeURIComponent(from)}`]),
    ];
    const pageUri = (n: number): string =>
      `${base}?${[...filters, `PageSize=${pageSize}`, `Page=${n}`].join('&')}`;
    return jsonResponse(200, {
      messages: data,
      end: page * pageSize + Math.max(data.length - 1, 0),
      first_page_uri: pageUri(0),
      next_page_uri: all.length > (page + 1) * pageSize ? pageUri(page + 1) : null,
      page,
      page_size: pageSize,
      previous_page_uri: page > 0 ? pageUri(page - 1) : null,
      start: page * pageSize,
      uri: pageUri(page),
    });
  };

  return createFake({
    name: 'twilio',
    sandbox: options.sandbox ?? false,
    errorBody: injectedTwilioError,
    headers: () => ({ 'twilio-request-id': `RQ${randomHex(32)}` }),
    process,
    resetState: () => messages.clear(),
  });
}

function notFound(path: string): FakeResponse {
  return twilioError(404, 20404, `The requested resource ${path} was not found`);
}
