import { parseFormOrJsonBody } from '../shared/body.js';
import { basicHeader } from '../shared/credentials.js';
import type { Vendor } from '../types.js';
import { checkTwilioParams } from './params.js';
import {
  estimateTwilioCost,
  resolveTwilioPricing,
  twilioResponseCost,
  type TwilioPricing,
} from './pricing.js';

export type { TwilioPricing } from './pricing.js';
export { countSmsSegments, smsSegments, type SegmentCount, type SmsEncoding } from './segments.js';

/**
 * The only Twilio resources spendgate forwards: Messages (and their media). Everything else stays out, and
 * above all the Account resource, whose reads return the master auth token.
 */
const MESSAGES_API = /^\/2010-04-01\/Accounts\/[^/]+\/Messages(?:\.json$|\/)/;

function notMessages(request: { readonly method: string; readonly path: string }) {
  return {
    kind: 'refused' as const,
    message: `${request.method} ${request.path} is outside Twilio's Messages API, the only part spendgate forwards`,
  };
}

/** `/2010-04-01/Accounts/{sid}` followed by `/…` or `.json`: the segment the real AccountSid goes into. */
const ACCOUNT_PATH = /^(\/2010-04-01\/Accounts\/)[^/]+?(\.json|\/.*)?$/;

/**
 * Twilio Programmable Messaging: HTTP Basic credentials, form bodies with repeated keys for arrays, the
 * AccountSid in every path, and no idempotency key. The vault key rides as the Basic username (`vk_…:anything`,
 * the form `spendgate/twilio` produces) or as the password (`AC…:vk_…`); the proxy swaps in the real
 * `AccountSid:AuthToken` and the real AccountSid in the path.
 */
export function createTwilioVendor(options: TwilioPricing = {}): Vendor {
  const prices = resolveTwilioPricing(options);
  return {
    name: 'twilio',
    defaultBaseUrl: 'https://api.twilio.com',
    secretNames: ['accountSid', 'authToken'],
    parseBody: (input) => parseFormOrJsonBody(input, 'repeat'),
    arrayFormat: 'repeat',
    forwardHeaders: new Set(['accept', 'accept-charset', 'user-agent']),
    accountHeaders: new Set(),
    checkParams: checkTwilioParams,
    // The Messages API documents no idempotency key: a retried create sends (and bills) a second message.
    idempotencyKey: () => null,
    estimateCost: (request) =>
      MESSAGES_API.test(request.path) ? estimateTwilioCost(request, prices) : notMessages(request),
    actualCost: (request, response, estimate) => twilioResponseCost(request, response.json) ?? estimate,
    createdObjectId: () => null,
    upstream(request, secrets) {
      const accountSid = secrets.accountSid ?? '';
      return {
        path: request.path.replace(ACCOUNT_PATH, (_match, head: string, tail: string | undefined) => {
          return `${head}${accountSid}${tail ?? ''}`;
        }),
        headers: { authorization: basicHeader(accountSid, secrets.authToken ?? '') },
      };
    },
    vendorRequestId(headers) {
      const id = headers['twilio-request-id'];
      return typeof id === 'string' && id !== '' ? id : null;
    },
  };
}
