import type { Dispatcher } from 'undici';
import type { z } from 'zod';
import { spendgateError } from '../errors/index.js';
import { sendHttpOrThrow } from './http.js';
import type {
  Approval,
  ApprovalGrant,
  ListApprovalsQuery,
  AuditQuery,
  AuditRow,
  BulkRevokeFilter,
  IssuedVaultKey,
  IssueKeyInput,
  ListKeysQuery,
  Page,
  RevokedKey,
  VaultKeyWithSpend,
} from './types.js';
import {
  approvalDeniedWire,
  approvalGrantWire,
  approvalPageWire,
  approvalWire,
  auditPageWire,
  bulkRevokedWire,
  issuedKeyWire,
  keyPageWire,
  keyWithSpendWire,
  revokedWire,
} from './wire.js';

export interface SpendgateClientOptions {
  /** The proxy's origin, e.g. `http://127.0.0.1:8787`. */
  readonly baseUrl: string;
  /** The admin token (`SPENDGATE_ADMIN_TOKEN`). A vault key gets 403 `admin_token_required`. */
  readonly adminToken: string;
  /**
   * Time allowed for each request, in milliseconds.
   * @default 10000
   */
  readonly timeoutMs?: number;
  /** An undici dispatcher (an `Agent` with your pool settings, a `MockAgent` in tests). */
  readonly dispatcher?: Dispatcher;
}

/** Per-call options. */
export interface CallOptions {
  readonly signal?: AbortSignal | undefined;
}

/**
 * A typed client for the admin API. Every failure is a `SpendgateError` whose `code` is the contract's:
 * `unauthorized` for a wrong token, `admin_token_required` for a vault key, `cap_required`, `bad_request`
 * (with `details.param`), `not_found`; `upstream_unreachable`/`upstream_timeout` when the proxy did not answer.
 */
export interface SpendgateClient {
  /** The proxy's origin, without a trailing slash. */
  readonly baseUrl: string;
  /** `POST /v1/keys`. The token in the answer is shown once; the proxy keeps only its hash. */
  issueKey(input: IssueKeyInput, options?: CallOptions): Promise<IssuedVaultKey>;
  /** `GET /v1/keys/{id}`: the key and its spend, including `remainingUsd`. */
  getKey(id: string, options?: CallOptions): Promise<VaultKeyWithSpend>;
  /** `GET /v1/keys`: one page; follow `nextCursor` for the rest. */
  listKeys(query?: ListKeysQuery, options?: CallOptions): Promise<Page<VaultKeyWithSpend>>;
  /** `DELETE /v1/keys/{id}`. Idempotent: revoking a revoked key succeeds. */
  revokeKey(id: string, options?: CallOptions): Promise<RevokedKey>;
  /** `POST /v1/keys/revoke`: revokes every key matching one filter. */
  revokeKeys(filter: BulkRevokeFilter, options?: CallOptions): Promise<{ readonly revoked: number }>;
  /** `GET /v1/audit`: one row per proxied call, allowed or denied. */
  audit(query?: AuditQuery, options?: CallOptions): Promise<Page<AuditRow>>;
  /** `GET /v1/approvals`: calls above their key's `approval_above_usd`, newest first. */
  listApprovals(query?: ListApprovalsQuery, options?: CallOptions): Promise<Page<Approval>>;
  /** `GET /v1/approvals/{id}`. */
  getApproval(id: string, options?: CallOptions): Promise<Approval>;
  /**
   * `POST /v1/approvals/{id}/approve`: the single-use grant for that exact request. Send it as
   * `Spendgate-Approval` with the identical request (same body, same idempotency key).
   */
  approveCall(id: string, options?: CallOptions): Promise<ApprovalGrant>;
  /** `POST /v1/approvals/{id}/deny`. */
  denyCall(id: string, options?: CallOptions): Promise<{ readonly id: string; readonly status: 'denied' }>;
}

/**
 * Creates an admin client. Nothing is sent until a method is called.
 *
 * @example
 * ```ts
 * const client = createSpendgateClient({ baseUrl: 'http://127.0.0.1:8787', adminToken: process.env.SPENDGATE_ADMIN_TOKEN! });
 * const key = await client.issueKey({ vendor: 'stripe', usdCap: 50, allowedEndpoints: ['POST /v1/payment_intents'], expiresIn: '30m' });
 * try { ... } finally { await client.revokeKey(key.id); }
 * ```
 */
export function createSpendgateClient(options: SpendgateClientOptions): SpendgateClient {
  const baseUrl = proxyOrigin(options.baseUrl, 'baseUrl');
  const timeoutMs = options.timeoutMs ?? 10_000;

  async function call<S extends z.ZodType>(
    schema: S,
    input: { method: string; path: string; body?: unknown; signal?: AbortSignal | undefined },
  ): Promise<z.output<S>> {
    const response = await sendHttpOrThrow({
      url: `${baseUrl}${input.path}`,
      method: input.method,
      headers: {
        authorization: `Bearer ${options.adminToken}`,
        ...(input.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(input.body === undefined ? {} : { body: JSON.stringify(input.body) }),
      signal: input.signal,
      timeoutMs,
      dispatcher: options.dispatcher,
    });
    const parsed = schema.safeParse(response.json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw spendgateError(
        'internal_error',
        `Unexpected answer to ${input.method} ${input.path}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim(),
      );
    }
    return parsed.data;
  }

  return {
    baseUrl,
    issueKey: (input, opts) =>
      call(issuedKeyWire, { method: 'POST', path: '/v1/keys', body: issueBody(input), signal: opts?.signal }),
    getKey: (id, opts) =>
      call(keyWithSpendWire, {
        method: 'GET',
        path: `/v1/keys/${encodeURIComponent(id)}`,
        signal: opts?.signal,
      }),
    async listKeys(query = {}, opts) {
      const page = await call(keyPageWire, {
        method: 'GET',
        path: `/v1/keys${queryString({
          label: query.label,
          label_prefix: query.labelPrefix,
          status: query.status,
          vendor: query.vendor,
          limit: query.limit,
          cursor: query.cursor,
        })}`,
        signal: opts?.signal,
      });
      return { data: page.data, nextCursor: page.next_cursor };
    },
    revokeKey: (id, opts) =>
      call(revokedWire, {
        method: 'DELETE',
        path: `/v1/keys/${encodeURIComponent(id)}`,
        signal: opts?.signal,
      }),
    revokeKeys: (filter, opts) =>
      call(bulkRevokedWire, {
        method: 'POST',
        path: '/v1/keys/revoke',
        body: bulkRevokeBody(filter),
        signal: opts?.signal,
      }),
    async audit(query = {}, opts) {
      const page = await call(auditPageWire, {
        method: 'GET',
        path: `/v1/audit${queryString({
          key_id: query.keyId,
          label: query.label,
          label_prefix: query.labelPrefix,
          vendor: query.vendor,
          decision: query.decision,
          since: instant(query.since),
          until: instant(query.until),
          limit: query.limit,
          cursor: query.cursor,
        })}`,
        signal: opts?.signal,
      });
      return { data: page.data, nextCursor: page.next_cursor };
    },
    async listApprovals(query = {}, opts) {
      const page = await call(approvalPageWire, {
        method: 'GET',
        path: `/v1/approvals${queryString({
          status: query.status,
          key_id: query.keyId,
          label: query.label,
          limit: query.limit,
          cursor: query.cursor,
        })}`,
        signal: opts?.signal,
      });
      return { data: page.data, nextCursor: page.next_cursor };
    },
    getApproval: (id, opts) =>
      call(approvalWire, {
        method: 'GET',
        path: `/v1/approvals/${encodeURIComponent(id)}`,
        signal: opts?.signal,
      }),
    approveCall: (id, opts) =>
      call(approvalGrantWire, {
        method: 'POST',
        path: `/v1/approvals/${encodeURIComponent(id)}/approve`,
        signal: opts?.signal,
      }),
    denyCall: (id, opts) =>
      call(approvalDeniedWire, {
        method: 'POST',
        path: `/v1/approvals/${encodeURIComponent(id)}/deny`,
        signal: opts?.signal,
      }),
  };
}

function issueBody(input: IssueKeyInput): Record<string, unknown> {
  const body: Record<string, unknown> = {
    vendor: input.vendor,
    allowed_endpoints: [...input.allowedEndpoints],
  };
  const optional: Record<string, unknown> = {
    usd_cap: input.usdCap,
    daily_usd_cap: input.dailyUsdCap,
    max_usd_per_call: input.maxUsdPerCall,
    approval_above_usd: input.approvalAboveUsd,
    connected_accounts: input.connectedAccounts === undefined ? undefined : [...input.connectedAccounts],
    expires_in: input.expiresIn,
    expires_at: instant(input.expiresAt),
    label: input.label,
    metadata: input.metadata,
  };
  for (const [name, value] of Object.entries(optional)) if (value !== undefined) body[name] = value;
  return body;
}

function bulkRevokeBody(filter: BulkRevokeFilter): Record<string, unknown> {
  if ('label' in filter) return { label: filter.label };
  if ('labelPrefix' in filter) return { label_prefix: filter.labelPrefix };
  return { metadata: filter.metadata };
}

function instant(value: Date | string | undefined): string | undefined {
  return value instanceof Date ? value.toISOString() : value;
}

function queryString(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params))
    if (value !== undefined) search.set(name, String(value));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

/**
 * A proxy URL without a trailing slash. One with a user or password is refused, naming neither: the admin
 * token is the credential, and an HTTP client's error would quote a password in the URL.
 */
export function proxyOrigin(url: string, name: string): string {
  if (URL.canParse(url)) {
    const parsed = new URL(url);
    if (parsed.username !== '' || parsed.password !== '') {
      throw spendgateError('bad_request', `${name} must not carry a user or password`, { param: name });
    }
  }
  return url.replace(/\/+$/, '');
}
