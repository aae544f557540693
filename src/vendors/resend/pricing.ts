import type { Micros } from '../../money.js';
import type { CostEstimate, VendorRequest } from '../types.js';

/** What a Resend email costs, in USD micro-dollars. */
export interface ResendPricing {
  /**
   * Price of one email to one recipient. Default 900 ($0.0009): Resend's pay-as-you-go overage of $0.90 per
   * 1,000 emails, https://resend.com/changelog/pay-as-you-go-pricing. Resend counts every to/cc/bcc recipient as
   * a separate email against quotas, so the price applies per recipient.
   */
  readonly pricePerEmail?: Micros;
}

export const DEFAULT_PER_EMAIL_MICROS: Micros = 900;

const FREE: CostEstimate = { kind: 'priced', amount: 0 };
/** Cancelling a scheduled email: it can only prevent a send. */
const CANCEL = /^\/emails\/[^/]+\/cancel$/;

export function resolveResendPrice(options: ResendPricing = {}): Micros {
  const price = options.pricePerEmail ?? DEFAULT_PER_EMAIL_MICROS;
  if (!Number.isSafeInteger(price) || price < 0) {
    throw new TypeError('pricePerEmail must be a non-negative integer number of micro-dollars');
  }
  return price;
}

/**
 * Prices a Resend call: `POST /emails` costs the per-email price × recipients, `POST /emails/batch` the sum over
 * its emails. Reads and deletes are free. Any other POST (broadcast sends, …) is refused: it may send mail.
 */
export function estimateResendCost(request: VendorRequest, perEmail: Micros): CostEstimate {
  const { method, path } = request;
  if (method === 'GET' || method === 'HEAD' || method === 'DELETE') return FREE;
  if (method === 'POST' && CANCEL.test(path)) return FREE;
  if (method === 'POST' && path === '/emails') {
    const count = countRecipients(request.params);
    return count === null ? malformed('The email') : { kind: 'priced', amount: count * perEmail };
  }
  if (method === 'POST' && path === '/emails/batch') {
    if (!Array.isArray(request.params)) return malformed('A batch');
    let total = 0;
    for (const [index, email] of request.params.entries()) {
      const count = countRecipients(email);
      if (count === null) return malformed(`Email ${index} of the batch`);
      total += count;
    }
    return { kind: 'priced', amount: total * perEmail };
  }
  return { kind: 'refused', message: `${method} ${path} is not priced` };
}

/**
 * Recipients of one email: to + cc + bcc, each a string or an array of strings. At least 1, so an email that
 * Resend will reject for having no `to` still reserves something. `null` when a field has another shape.
 */
export function countRecipients(email: unknown): number | null {
  if (typeof email !== 'object' || email === null || Array.isArray(email)) return null;
  const fields = email as Readonly<Record<string, unknown>>;
  let total = 0;
  for (const name of ['to', 'cc', 'bcc'] as const) {
    const value = fields[name];
    if (value === undefined || value === null) continue;
    if (typeof value === 'string') total += addresses(value);
    else if (Array.isArray(value) && value.every((item) => typeof item === 'string'))
      total += value.reduce((sum, item) => sum + addresses(item), 0);
    else return null;
  }
  return Math.max(total, 1);
}

/**
 * How many addresses one recipient string may hold: a comma-separated list (`"a@x.co, Bob <b@x.co>"`) could be
 * split by the vendor, so every `@` counts as one, and a string with none still counts once.
 */
function addresses(value: string): number {
  return Math.max(1, value.split('@').length - 1);
}

function malformed(subject: string): CostEstimate {
  return {
    kind: 'refused',
    message: `${subject} needs recipients (to, cc, bcc) as strings or arrays of strings to be priced`,
  };
}
