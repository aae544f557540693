import { createHash, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { spendgateError, type SpendgateError } from '../errors/index.js';
import { formatUsd } from '../money.js';
import type { ApprovalCheck, KeyRecord } from '../store/types.js';
import type { ProxyContext } from './context.js';
import { ledger } from './ledger.js';
import { hashToken } from './tokens.js';
import { approvalView } from './views.js';

export const APPROVAL_HEADER = 'spendgate-approval';
const GRANT_PREFIX = 'apv_';
/** The grant's exact shape: `apv_` and 32 random bytes in base64url. Anything else is not a grant. */
const GRANT = /^apv_[A-Za-z0-9_-]{43}$/;
/** Pending approvals one key may have at once, so a flood of requests cannot bury the one that matters. */
export const MAX_PENDING_APPROVALS = 20;

export function newApprovalId(): string {
  return `apr_${randomBytes(12).toString('hex')}`;
}

/** 256 bits: shown once to whoever approved, stored only as its SHA-256. */
export function newGrant(): string {
  return `${GRANT_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/**
 * What the ledger must check for this call: nothing when the call is at or under the key's threshold,
 * otherwise the grant the caller sent (or none). A header that is not shaped like a grant is refused
 * whatever the amount: it is something other than this proxy's grant, and guessing at it helps no one.
 */
export function approvalCheckFor(input: {
  readonly key: KeyRecord;
  readonly amount: number;
  readonly headers: IncomingHttpHeaders;
  readonly fingerprint: string;
}): ApprovalCheck | undefined {
  const raw = input.headers[APPROVAL_HEADER];
  const grant = Array.isArray(raw) ? raw.join(',') : raw;
  if (grant !== undefined && !GRANT.test(grant)) {
    throw spendgateError('approval_invalid', 'Spendgate-Approval is not a grant issued by this proxy', {
      key_id: input.key.id,
    });
  }
  const threshold = input.key.approvalAboveUsd;
  if (threshold === null || input.amount <= threshold) return undefined;
  return { fingerprint: input.fingerprint, grantHash: grant === undefined ? null : hashToken(grant) };
}

/**
 * What a grant is bound to: the request's fingerprint and the account it acts on (`Stripe-Account`,
 * `Stripe-Context`), which decides whose money moves and is not part of the body.
 */
export function approvalFingerprint(fingerprint: string, account: string | null): string {
  if (account === null) return fingerprint;
  return createHash('sha256').update(`${fingerprint}\n${account}`).digest('hex');
}

/** The account headers a call carries, as `name=value` pairs in a fixed order; `null` for none. */
export function accountOf(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  accountHeaders: ReadonlySet<string>,
): string | null {
  const parts = [...accountHeaders]
    .sort()
    .flatMap((name) => (headers[name] === undefined ? [] : [`${name}=${String(headers[name])}`]));
  return parts.length === 0 ? null : parts.join('; ');
}

/**
 * The refusal for a call the ledger found needing a grant it was not given: records (or finds) the pending
 * approval a person must decide, and names it in `error.approval`.
 */
export async function approvalRequired(
  ctx: ProxyContext,
  call: {
    readonly key: KeyRecord;
    readonly method: string;
    readonly path: string;
    readonly fingerprint: string;
    readonly account: string | null;
    readonly amount: number;
  },
): Promise<SpendgateError> {
  const { key } = call;
  const requested = await ledger(() =>
    ctx.store.requestApproval({
      id: newApprovalId(),
      keyId: key.id,
      method: call.method,
      path: call.path,
      fingerprint: call.fingerprint,
      account: call.account,
      amount: call.amount,
      ttlMs: ctx.config.SPENDGATE_APPROVAL_TTL,
      maxPending: MAX_PENDING_APPROVALS,
    }),
  );
  if (!requested.ok && requested.reason === 'key_not_found') {
    return spendgateError('key_invalid', 'Unknown vault key');
  }
  if (!requested.ok) {
    return spendgateError(
      'too_many_pending_approvals',
      `Key ${key.id} already has ${MAX_PENDING_APPROVALS} calls waiting for a person's approval; this one was not sent and not recorded`,
      { key_id: key.id },
    );
  }
  const { approval } = requested;
  ctx.logger.info(
    { event: 'approval_requested', approval_id: approval.id, key_id: key.id, amount_usd: approval.amount },
    'approval requested',
  );
  return spendgateError(
    'approval_required',
    `This call needs ${formatUsd(call.amount)}, above the approval threshold of ${formatUsd(key.approvalAboveUsd ?? 0)} for key ${key.id}: a person must approve it (approval ${approval.id}); it was not sent`,
    { key_id: key.id, approval: pick(approvalView(approval)) },
  );
}

/** The contract's `error.approval` fields. */
function pick(view: Record<string, unknown>): Record<string, unknown> {
  const { id, amount_usd, method, path, account, key_id, expires_at } = view;
  return { id, amount_usd, method, path, account, key_id, expires_at };
}
