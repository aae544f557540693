import type { VendorRequest } from '../../src/vendors/types.js';

export const TWILIO_MESSAGES = '/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json';

/** A parsed message create, as the proxy hands it to the Twilio vendor's pricing. */
export function messageCreate(params: Record<string, unknown>): VendorRequest {
  return {
    method: 'POST',
    path: TWILIO_MESSAGES,
    query: '',
    headers: {},
    params,
    body: Buffer.alloc(0),
    contentType: null,
  };
}
