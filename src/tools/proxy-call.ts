import { sendHttp } from '../client/http.js';
import { SpendgateError } from '../errors/index.js';
import { encodeForm } from '../wire/form.js';
import type { JsonValue, ToolCallContext } from './types.js';

/** One vendor request, in the vendor's own terms; the proxy path prefix and the credential are added here. */
export interface VendorCall {
  readonly method: 'GET' | 'POST';
  /** The vendor's own path, e.g. `/v1/payment_intents`. */
  readonly path: string;
  /** Form-encoded (Stripe, Twilio) or JSON (Resend), as each vendor's SDK sends it. */
  readonly body?: { readonly form: Readonly<Record<string, unknown>> } | { readonly json: JsonValue };
  /** Stripe and Resend take `Bearer`; Twilio takes Basic with the vault key as the username. */
  readonly auth: 'bearer' | 'basic';
  readonly idempotencyKey?: string | undefined;
  /** A person's single-use grant (`apv_…`) for exactly this request, sent as `Spendgate-Approval`. */
  readonly approvalGrant?: string | undefined;
}

/** What came back: an HTTP answer (any status), or no answer at all. */
export type CallOutcome =
  | { readonly kind: 'response'; readonly status: number; readonly json: unknown }
  | { readonly kind: 'no_response'; readonly error: SpendgateError };

/**
 * Sends a vendor call through the proxy with the run's vault key. Never throws for an HTTP status or a lost
 * connection; only the caller's abort propagates, so a framework that cancels a run sees its own abort.
 */
export async function callThroughProxy(call: VendorCall, context: ToolCallContext): Promise<CallOutcome> {
  const { credential } = context;
  const headers: Record<string, string> = {
    authorization:
      call.auth === 'basic'
        ? `Basic ${Buffer.from(`${credential.token}:`).toString('base64')}`
        : `Bearer ${credential.token}`,
  };
  if (call.idempotencyKey) headers['idempotency-key'] = call.idempotencyKey;
  if (call.approvalGrant) headers['spendgate-approval'] = call.approvalGrant;
  let body: string | undefined;
  if (call.body && 'form' in call.body) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = encodeForm(call.body.form);
  } else if (call.body) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(call.body.json);
  }
  try {
    const response = await sendHttp({
      url: `${context.proxyUrl}/${credential.vendor}${call.path}`,
      method: call.method,
      headers,
      ...(body === undefined ? {} : { body }),
      signal: context.signal,
      timeoutMs: context.timeoutMs,
      dispatcher: context.dispatcher,
    });
    return { kind: 'response', status: response.status, json: response.json };
  } catch (err) {
    if (SpendgateError.isInstance(err)) return { kind: 'no_response', error: err };
    throw err;
  }
}
