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
  Budget,
  BulkRevokeFilter,
  CreateBudgetInput,
  CreateIssuerInput,
  IssuedIssuer,
  IssuedVaultKey,
  Issuer,
  IssueKeyInput,
  ListBudgetsQuery,
  ListIssuersQuery,
  ListKeysQuery,
  Page,
  RevokedBudget,
  RevokedIssuer,
  RevokedKey,
  VaultKeyWithSpend,
} from './types.js';
import {
  approvalDeniedWire,
  approvalGrantWire,
  approvalPageWire,
  approvalWire,
  auditPageWire,
  budgetPageWire,
  budgetWire,
  bulkRevokedWire,
  issuedIssuerWire,
  issuedKeyWire,
  issuerPageWire,
  issuerWire,
  keyPageWire,
  keyWithSpendWire,
  revokedBudgetWire,
  revokedIssuerWire,
  revokedWire,
} from './wire.js';

export interface SpendgateClientOptions {
  /** The proxy's origin, e.g. `http://127.0.0.1:8787`. */
  readonly baseUrl: string;
  /**
   * The admin token (`SPENDGATE_ADMIN_TOKEN`), or an issuer token (`it_…`, from `createIssuer`). An issuer
   * token is accepted wherever the admin token is, scoped to its budget's subtree and its ceilings, and is
   * what agent processes should hold: a leaked one can spend at most its budget. A vault key gets 403
   * `admin_token_required`.
   */
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
  /**
   * `POST /v1/budgets`. Refusals: `cap_required` (a root budget without a cap), `not_found` (an unknown
   * `parentId`), `parent_inactive`, `outlives_parent`, `bad_request` (deeper than 8).
   */
  createBudget(input: CreateBudgetInput, options?: CallOptions): Promise<Budget>;
  /** `GET /v1/budgets/{id}`: the budget and the spend of every key below it. */
  getBudget(id: string, options?: CallOptions): Promise<Budget>;
  /** `GET /v1/budgets`: one page; follow `nextCursor` for the rest. */
  listBudgets(query?: ListBudgetsQuery, options?: CallOptions): Promise<Page<Budget>>;
  /** `DELETE /v1/budgets/{id}`: revokes the budget, its whole subtree and every key in it. */
  revokeBudget(id: string, options?: CallOptions): Promise<RevokedBudget>;
  /** `POST /v1/issuers` (the admin token only). The token in the answer is shown once. */
  createIssuer(input: CreateIssuerInput, options?: CallOptions): Promise<IssuedIssuer>;
  /** `GET /v1/issuers/{id}`. */
  getIssuer(id: string, options?: CallOptions): Promise<Issuer>;
  /** `GET /v1/issuers`: one page; follow `nextCursor` for the rest. */
  listIssuers(query?: ListIssuersQuery, options?: CallOptions): Promise<Page<Issuer>>;
  /** `DELETE /v1/issuers/{id}`: its token stops working at once (401 `issuer_revoked`). */
  revokeIssuer(id: string, options?: CallOptions): Promise<RevokedIssuer>;
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

  /** One resource by id: `GET`, `DELETE` or a `POST` action on `/v1/<kind>/{id}[/action]`. */
  const onId =
    <S extends z.ZodType>(schema: S, method: string, base: string, action = '') =>
    (id: string, opts?: CallOptions) =>
      call(schema, { method, path: `${base}/${encodeURIComponent(id)}${action}`, signal: opts?.signal });

  /** One page of a list, with the query's parameters in the contract's names. */
  async function page<T>(
    schema: z.ZodType<{ data: T[]; next_cursor: string | null }>,
    base: string,
    query: Record<string, string | number | undefined>,
    opts?: CallOptions,
  ): Promise<Page<T>> {
    const result = await call(schema, {
      method: 'GET',
      path: `${base}${queryString(query)}`,
      signal: opts?.signal,
    });
    return { data: result.data, nextCursor: result.next_cursor };
  }

  const create =
    <S extends z.ZodType, I>(schema: S, path: string, body: (input: I) => unknown) =>
    (input: I, opts?: CallOptions) =>
      call(schema, { method: 'POST', path, body: body(input), signal: opts?.signal });

  return {
    baseUrl,
    issueKey: create(issuedKeyWire, '/v1/keys', issueBody),
    getKey: onId(keyWithSpendWire, 'GET', '/v1/keys'),
    listKeys: (query = {}, opts) =>
      page(
        keyPageWire,
        '/v1/keys',
        {
          label: query.label,
          label_prefix: query.labelPrefix,
          status: query.status,
          vendor: query.vendor,
          budget_id: query.budgetId,
          limit: query.limit,
          cursor: query.cursor,
        },
        opts,
      ),
    revokeKey: onId(revokedWire, 'DELETE', '/v1/keys'),
    revokeKeys: create(bulkRevokedWire, '/v1/keys/revoke', bulkRevokeBody),
    audit: (query = {}, opts) =>
      page(
        auditPageWire,
        '/v1/audit',
        {
          key_id: query.keyId,
          label: query.label,
          label_prefix: query.labelPrefix,
          vendor: query.vendor,
          decision: query.decision,
          since: instant(query.since),
          until: instant(query.until),
          limit: query.limit,
          cursor: query.cursor,
        },
        opts,
      ),
    listApprovals: (query = {}, opts) =>
      page(
        approvalPageWire,
        '/v1/approvals',
        {
          status: query.status,
          key_id: query.keyId,
          label: query.label,
          limit: query.limit,
          cursor: query.cursor,
        },
        opts,
      ),
    getApproval: onId(approvalWire, 'GET', '/v1/approvals'),
    approveCall: onId(approvalGrantWire, 'POST', '/v1/approvals', '/approve'),
    denyCall: onId(approvalDeniedWire, 'POST', '/v1/approvals', '/deny'),
    createBudget: create(budgetWire, '/v1/budgets', budgetBody),
    getBudget: onId(budgetWire, 'GET', '/v1/budgets'),
    listBudgets: (query = {}, opts) =>
      page(
        budgetPageWire,
        '/v1/budgets',
        {
          label: query.label,
          label_prefix: query.labelPrefix,
          parent_id: query.parentId,
          status: query.status,
          limit: query.limit,
          cursor: query.cursor,
        },
        opts,
      ),
    revokeBudget: onId(revokedBudgetWire, 'DELETE', '/v1/budgets'),
    createIssuer: create(issuedIssuerWire, '/v1/issuers', issuerBody),
    getIssuer: onId(issuerWire, 'GET', '/v1/issuers'),
    listIssuers: (query = {}, opts) =>
      page(
        issuerPageWire,
        '/v1/issuers',
        { budget_id: query.budgetId, status: query.status, limit: query.limit, cursor: query.cursor },
        opts,
      ),
    revokeIssuer: onId(revokedIssuerWire, 'DELETE', '/v1/issuers'),
  };
}

function issueBody(input: IssueKeyInput): Record<string, unknown> {
  const body: Record<string, unknown> = {
    vendor: input.vendor,
    allowed_endpoints: [...input.allowedEndpoints],
  };
  const optional: Record<string, unknown> = {
    budget_id: input.budgetId,
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
  return withDefined(body, optional);
}

function budgetBody(input: CreateBudgetInput): Record<string, unknown> {
  return withDefined(
    {},
    {
      parent_id: input.parentId,
      usd_cap: input.usdCap,
      daily_usd_cap: input.dailyUsdCap,
      max_usd_per_call: input.maxUsdPerCall,
      expires_in: input.expiresIn,
      expires_at: instant(input.expiresAt),
      label: input.label,
      metadata: input.metadata,
    },
  );
}

function issuerBody(input: CreateIssuerInput): Record<string, unknown> {
  return withDefined(
    { budget_id: input.budgetId },
    {
      label: input.label,
      vendors: input.vendors === undefined ? undefined : [...input.vendors],
      max_key_usd_cap: input.maxKeyUsdCap,
      max_ttl: input.maxTtl,
      allowed_endpoints: input.allowedEndpoints === undefined ? undefined : [...input.allowedEndpoints],
      expires_in: input.expiresIn,
    },
  );
}

/** `body` plus every field of `optional` that is not `undefined`. */
function withDefined(
  body: Record<string, unknown>,
  optional: Record<string, unknown>,
): Record<string, unknown> {
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
