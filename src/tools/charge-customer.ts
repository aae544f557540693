import { z } from 'zod';
import { isRecord } from '../client/response-error.js';
import { defineSpendTool } from './define-tool.js';
import { retryOfField, STOP_RULE } from './shared-fields.js';
import type { SpendTool } from './types.js';

export interface ChargeCustomerOptions {
  /**
   * Currencies the model may charge in (lower-case ISO codes). The proxy prices non-USD amounts only when it
   * has an exchange rate for them.
   * @default ['usd']
   */
  readonly currencies?: readonly [string, ...string[]];
  /**
   * Create the PaymentIntent confirmed and off-session, so the customer's saved card is charged at once.
   * With `false` it is created unconfirmed and moves no money until something confirms it.
   * @default true
   */
  readonly confirm?: boolean;
  /** Metadata added to every PaymentIntent, e.g. `{ agent: 'billing' }`. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** @default 'charge_customer' */
  readonly name?: string;
  /** Replaces the description the model reads. */
  readonly description?: string;
}

/**
 * A tool that charges a Stripe customer: `POST /v1/payment_intents` with `customer`, `amount` (minor
 * units), `currency` and `description`, under an `Idempotency-Key` derived from the tool call id.
 */
export function chargeCustomerTool(options: ChargeCustomerOptions = {}): SpendTool {
  const currencies = options.currencies ?? ['usd'];
  const confirm = options.confirm ?? true;
  const name = options.name ?? 'charge_customer';
  const inputSchema = z.object({
    customer: z.string().min(1).describe('The Stripe customer id to charge, e.g. "cus_123".'),
    amount: z
      .number()
      .int()
      .positive()
      .describe("The amount in the currency's smallest unit: cents for USD, so 2000 means $20.00."),
    currency: z.enum(currencies).describe('The currency, lower-case ISO code.'),
    description: z
      .string()
      .min(1)
      .max(500)
      .describe("What the charge is for; shown on the customer's receipt."),
    payment_method: z
      .string()
      .optional()
      .describe(
        'A saved payment method of this customer to charge ("pm_…"); leave out to use their default.',
      ),
    retry_of: retryOfField,
  });
  return defineSpendTool({
    name,
    description:
      options.description ??
      `Charge a customer's saved payment method once, for a stated reason. Amounts are in the smallest currency unit (cents). Each call charges again, so call it once per charge. ${STOP_RULE}`,
    inputSchema,
    vendor: 'stripe',
    endpoints: ['POST /v1/payment_intents'],
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
    idempotent: true,
    retryOf: (input) => input.retry_of,
    // Exact for USD (cents); another currency is priced by the proxy's exchange rates, so ask to be safe.
    statedUsd: (input) => (input.currency === 'usd' ? input.amount / 100 : 'unknown'),
    request: (input) => ({
      method: 'POST',
      path: '/v1/payment_intents',
      auth: 'bearer',
      body: {
        form: {
          customer: input.customer,
          amount: input.amount,
          currency: input.currency,
          description: input.description,
          payment_method: input.payment_method,
          ...(confirm ? { confirm: true, off_session: true } : {}),
          ...(options.metadata ? { metadata: options.metadata } : {}),
        },
      },
    }),
    summarize(body, input) {
      const intent = isRecord(body) ? body : {};
      return {
        payment_intent: typeof intent.id === 'string' ? intent.id : null,
        status: typeof intent.status === 'string' ? intent.status : null,
        amount: typeof intent.amount === 'number' ? intent.amount : input.amount,
        currency: typeof intent.currency === 'string' ? intent.currency : input.currency,
        customer: input.customer,
      };
    },
  });
}
