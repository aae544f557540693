import { createHash, randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SpendgateError, spendgateError, type ErrorCode } from '../errors/index.js';
import { isEndpointAllowed, parseEndpointRule, type EndpointRule } from '../policy/endpoint-allowlist.js';
import { normalizePath } from '../policy/normalize-path.js';
import type { KeyRecord, NewAuditRow, ReserveResult, Settlement } from '../store/types.js';
import type { ConfiguredVendor } from '../vendors/registry.js';
import type { VendorRequest, VendorSecrets } from '../vendors/types.js';
import { buildVendorRequest } from './call-request.js';
import type { ProxyContext } from './context.js';
import { ForwardError, type ForwardResponse } from './forwarder.js';
import { ledger } from './ledger.js';
import type { LedgerEntry } from './ledger-entry.js';
import { accountOf, approvalCheckFor, approvalFingerprint, approvalRequired } from './approval-gate.js';
import { errorSummary } from './error-summary.js';
import { sendRefusal } from './refusal.js';
import { checkKeyMode } from './sandbox.js';
import { digestsEqual, hashToken, vaultTokenFrom } from './tokens.js';
import { reserveRefusal } from './reserve-refusal.js';

/** Response headers that describe one hop, or that the proxy sets itself; never copied back (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'authorization',
  'accept-encoding',
  'content-encoding',
]);

const ADMIN_PREFIXES = [
  '/v1/keys',
  '/v1/audit',
  '/v1/reservations',
  '/v1/approvals',
  '/v1/budgets',
  '/v1/issuers',
  '/vault/',
];

/** How a forwarded call's reservation ends. */
type Finish =
  | { readonly kind: 'settled'; readonly amount: number; readonly objectId: string | null }
  | { readonly kind: 'released' }
  | { readonly kind: 'uncertain' }
  /** A replay whose answer says nothing about the reservation: audit only. */
  | { readonly kind: 'none' };

type AuditFields = Partial<NewAuditRow> & Pick<NewAuditRow, 'decision' | 'code'>;

/** Everything known about the call so far, for the audit row written however it ends. */
interface CallState {
  readonly started: number;
  readonly requestId: string;
  method: string;
  path: string;
  key: KeyRecord | null;
  vendor: string | null;
  idempotencyKey: string | null;
  /** Set while the reservation is being asked for: a failure then may have left one in the ledger. */
  reserving?: boolean;
}

/**
 * One vendor call: authenticate the vault key, check policy, price, reserve, forward, settle, audit.
 * Nothing is forwarded unless the reservation succeeded, and every call leaves one audit row.
 */
export function createVendorCallHandler(ctx: ProxyContext) {
  // Parsed allowlists by their text. A key's allowlist never changes after issue, so this is not a cache of
  // anything that decides admission by itself: status, expiry and caps are read from the store on every call.
  const rulesCache = new Map<string, EndpointRule[]>();
  const rulesFor = (key: KeyRecord) => {
    const text = key.allowedEndpoints.join('\n');
    let rules = rulesCache.get(text);
    if (!rules) {
      rules = key.allowedEndpoints.map(parseEndpointRule);
      if (rulesCache.size >= 10_000) rulesCache.clear();
      rulesCache.set(text, rules);
    }
    return rules;
  };

  return async function vendorCall(request: FastifyRequest, reply: FastifyReply) {
    const state: CallState = {
      started: performance.now(),
      requestId: `req_sg_${randomUUID().replaceAll('-', '')}`,
      method: request.method,
      path: request.url.split('?')[0] ?? '/',
      key: null,
      vendor: null,
      idempotencyKey: null,
    };
    reply.header('spendgate-request-id', state.requestId);
    try {
      return await handle(request, reply, state);
    } catch (err) {
      const error = toSpendgateError(err, ctx);
      // Refuse first, record after: the caller never waits on the ledger for a "no", least of all when
      // the ledger is what failed. The row keeps the latency the caller actually saw.
      const row = auditRow(state, { decision: 'denied', code: error.code });
      ctx.recorder.later(refusalEntry(state, row));
      ctx.logger.info(
        {
          event: 'call_denied',
          request_id: state.requestId,
          key_id: state.key?.id,
          vendor: state.vendor,
          method: state.method,
          path: state.path,
          code: error.code,
        },
        'vendor call refused',
      );
      return sendRefusal(reply, error);
    }
  };

  /** authenticate → policy → canonical request → closed schema → price → reserve → forward → settle. */
  async function handle(request: FastifyRequest, reply: FastifyReply, state: CallState) {
    const target = routeCall(request, state);
    const key = await authenticate(request, state);
    const configured = checkPolicy(key, target, request.method, state);
    const vendorRequest = buildVendorRequest(configured.vendor, key, {
      method: request.method,
      path: state.path,
      rawQuery: target.rawQuery,
      headers: request.headers,
      body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
    });
    configured.vendor.checkParams(vendorRequest);
    const amount = await price(configured, vendorRequest, key);
    const reservation = await reserve({
      configured,
      vendorRequest,
      key,
      amount,
      state,
      headers: request.headers,
    });
    return forwardAndSettle({ reply, state, configured, vendorRequest, amount, reservation });
  }

  /** Which vendor the path names (if prefixed), the vendor's own raw path and the raw query string. */
  function routeCall(request: FastifyRequest, state: CallState) {
    const [rawPath = '/', ...rest] = request.url.split('?');
    if (ADMIN_PREFIXES.some((p) => rawPath === p.replace(/\/$/, '') || rawPath.startsWith(p))) {
      throw spendgateError('not_found', `No admin route ${request.method} ${rawPath}`);
    }
    const firstSegment = rawPath.split('/')[1] ?? '';
    const prefixed = ctx.vendors.get(firstSegment);
    state.vendor = prefixed?.vendor.name ?? null;
    return {
      prefixed,
      vendorRawPath: prefixed ? rawPath.slice(firstSegment.length + 1) || '/' : rawPath,
      rawQuery: rest.join('?'),
    };
  }

  async function authenticate(request: FastifyRequest, state: CallState): Promise<KeyRecord> {
    const token = vaultTokenFrom(request.headers);
    if (token === null)
      throw spendgateError('key_invalid', 'Missing vault key (Authorization: Bearer vk_… or Basic)');
    const tokenHash = hashToken(token);
    const key = await ledger(() => ctx.store.findKeyByTokenHash(tokenHash));
    if (!key || !digestsEqual(key.tokenHash, tokenHash))
      throw spendgateError('key_invalid', 'Unknown vault key');
    state.key = key;
    return key;
  }

  /** The key's vendor, status, expiry and allowlist; sets `state.path` to the normalised vendor path. */
  function checkPolicy(
    key: KeyRecord,
    target: ReturnType<typeof routeCall>,
    method: string,
    state: CallState,
  ): ConfiguredVendor & { secrets: VendorSecrets } {
    const { prefixed } = target;
    if (prefixed && prefixed.vendor.name !== key.vendor) {
      throw spendgateError('vendor_mismatch', `This key is for ${key.vendor}, not ${prefixed.vendor.name}`, {
        key_id: key.id,
      });
    }
    const configured = ctx.vendors.get(key.vendor);
    if (!configured)
      throw spendgateError('unknown_vendor', `Vendor ${key.vendor} is not known to this proxy`);
    state.vendor = key.vendor;
    if (key.status === 'revoked')
      throw spendgateError('key_revoked', `Key ${key.id} has been revoked`, { key_id: key.id });
    if (key.expiresAt <= ctx.now())
      throw spendgateError('key_expired', `Key ${key.id} has expired`, { key_id: key.id });
    checkKeyMode(key, ctx.sandbox);

    const path = normalizePath(target.vendorRawPath);
    state.path = path;
    if (!isEndpointAllowed(rulesFor(key), method, path)) {
      throw spendgateError(
        'endpoint_not_allowed',
        `${method} ${path} is not in this key's allowed_endpoints`,
        {
          key_id: key.id,
        },
      );
    }
    const { secrets } = configured;
    if (!secrets) {
      throw spendgateError(
        'vendor_not_configured',
        `The proxy has no credentials configured for ${key.vendor}`,
      );
    }
    return { ...configured, secrets };
  }

  /** The reservation's amount: the estimate, or 0 for a call covered by an object this key paid for. */
  async function price(configured: ConfiguredVendor, vendorRequest: VendorRequest, key: KeyRecord) {
    const estimate = configured.vendor.estimateCost(vendorRequest, {
      fxRates: ctx.config.SPENDGATE_FX_RATES,
    });
    if (estimate.kind === 'refused')
      throw spendgateError('cost_unknown', estimate.message, { key_id: key.id });
    if (estimate.kind === 'priced') return estimate.amount;
    const covered = await ledger(() => ctx.store.hasObject({ keyId: key.id, objectId: estimate.objectId }));
    if (!covered) throw spendgateError('cost_unknown', estimate.message, { key_id: key.id });
    return 0;
  }

  /** Reserves the call's amount, with the grant check when the call is above the key's approval threshold. */
  async function reserve(input: {
    configured: ConfiguredVendor;
    vendorRequest: VendorRequest;
    key: KeyRecord;
    amount: number;
    state: CallState;
    headers: FastifyRequest['headers'];
  }) {
    const { configured, vendorRequest, key, amount, state } = input;
    const idempotency = configured.vendor.idempotencyKey(vendorRequest);
    const idempotencyHeader = vendorRequest.headers['idempotency-key'];
    state.idempotencyKey = typeof idempotencyHeader === 'string' ? idempotencyHeader : null;
    const fingerprint = fingerprintOf(vendorRequest);
    const account = accountOf(vendorRequest.headers, configured.vendor.accountHeaders);
    const boundTo = approvalFingerprint(fingerprint, account);
    const approval = approvalCheckFor({ key, amount, headers: input.headers, fingerprint: boundTo });
    state.reserving = true;
    const reservation = await ledger(() =>
      ctx.store.reserve({
        keyId: key.id,
        amount,
        instanceId: ctx.instanceId,
        requestId: state.requestId,
        approval,
        budgeted: key.budgetId !== null,
        ...(idempotency === null ? {} : { idempotency: { key: idempotency, fingerprint } }),
      }),
    );
    state.reserving = false;
    if (!reservation.ok && reservation.code === 'approval_required') {
      const { method, path } = vendorRequest;
      const call = { key, method, path, fingerprint: boundTo, account, amount };
      throw await approvalRequired(ctx, call);
    }
    if (!reservation.ok) throw await reserveRefusal(ctx, reservation, amount, key);
    return reservation;
  }

  async function forwardAndSettle(input: {
    reply: FastifyReply;
    state: CallState;
    configured: ConfiguredVendor;
    vendorRequest: VendorRequest;
    amount: number;
    reservation: Extract<ReserveResult, { ok: true }>;
  }) {
    const { reply, state, configured, vendorRequest, amount, reservation } = input;
    const upstream = configured.vendor.upstream(vendorRequest, configured.secrets ?? {});
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(vendorRequest.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    if (vendorRequest.contentType) headers['content-type'] = vendorRequest.contentType;
    headers['accept-encoding'] = 'identity';
    const clientIdempotencyKey = headers['idempotency-key'];
    if (clientIdempotencyKey !== undefined && state.key) {
      headers['idempotency-key'] = vendorIdempotencyKey(state.key.id, clientIdempotencyKey);
    }
    Object.assign(headers, upstream.headers);
    const forwardPath = upstream.path.split('/').map(encodeURIComponent).join('/');

    let response: ForwardResponse;
    try {
      response = await ctx.forwarder.send({
        vendor: configured.vendor.name,
        method: vendorRequest.method,
        path: vendorRequest.query ? `${forwardPath}?${vendorRequest.query}` : forwardPath,
        headers,
        body: vendorRequest.body.length > 0 ? vendorRequest.body : null,
      });
    } catch (err) {
      const failure =
        err instanceof ForwardError ? err : new ForwardError({ kind: 'reset', sent: true, cause: err });
      // A request the vendor never saw moved no money; anything else might have.
      const settlement: Settlement = failure.sent ? 'uncertain' : 'released';
      const code: ErrorCode = failure.kind === 'timeout' ? 'upstream_timeout' : 'upstream_unreachable';
      const error = spendgateError(
        code,
        `The ${configured.vendor.name} API ${failure.kind === 'timeout' ? 'timed out' : 'could not be reached'}`,
        { key_id: state.key?.id },
      );
      await finish(state, reservation, reservation.replay ? { kind: 'none' } : { kind: settlement }, {
        decision: 'allowed',
        code,
        costReserved: amount,
        costSettled: settlement === 'released' ? 0 : amount,
        settlement,
      });
      ctx.logger.warn(
        {
          event: 'upstream_failed',
          request_id: state.requestId,
          key_id: state.key?.id,
          vendor: state.vendor,
          kind: failure.kind,
          sent: failure.sent,
        },
        'upstream call failed',
      );
      return sendRefusal(reply, error);
    }

    const json = parseJson(response);
    const vendorResponse = { status: response.status, json };
    let action: Finish;
    let settlement: Settlement;
    let settled: number | null;
    if (response.status >= 200 && response.status < 300) {
      const pricing = { fxRates: ctx.config.SPENDGATE_FX_RATES };
      settled = configured.vendor.actualCost(vendorRequest, vendorResponse, amount, pricing);
      // A vendor replay answering a call the ledger saw as new is someone else's operation: its object is
      // not this key's to confirm, capture or refund.
      const foreignReplay = !reservation.replay && response.headers['idempotent-replayed'] === 'true';
      const objectId = foreignReplay
        ? null
        : configured.vendor.createdObjectId(vendorRequest, vendorResponse);
      // A replay may settle too: it is how an SDK retry after a 5xx turns uncertain spend into settled spend.
      action = { kind: 'settled', amount: settled, objectId };
      settlement = 'settled';
    } else if (response.status < 500 && response.status !== 409) {
      // Only the call that made the reservation may give it back; a replay's 4xx says nothing about it.
      // A 409 is a concurrency conflict (Stripe's idempotency_key_in_use): something else with the same key
      // may be moving money, so it is kept as uncertain below rather than released.
      action = reservation.replay ? { kind: 'none' } : { kind: 'released' };
      settlement = reservation.replay ? 'settled' : 'released';
      settled = reservation.replay ? null : 0;
    } else {
      action = reservation.replay ? { kind: 'none' } : { kind: 'uncertain' };
      settlement = 'uncertain';
      settled = amount;
    }
    await finish(state, reservation, action, {
      decision: 'allowed',
      code: null,
      upstreamStatus: response.status,
      costReserved: reservation.replay ? 0 : amount,
      costSettled: settled,
      settlement,
      vendorRequestId: configured.vendor.vendorRequestId(response.headers, json),
    });
    ctx.logger.info(
      {
        event: 'call_forwarded',
        request_id: state.requestId,
        key_id: state.key?.id,
        vendor: state.vendor,
        method: state.method,
        path: state.path,
        status: response.status,
        settlement,
        replay: reservation.replay,
      },
      'vendor call forwarded',
    );

    for (const [name, value] of Object.entries(response.headers)) {
      if (value === undefined || HOP_BY_HOP.has(name)) continue;
      reply.header(name, value);
    }
    // The vendor echoes the key it was sent; the client sees its own.
    if (response.headers['idempotency-key'] !== undefined && clientIdempotencyKey !== undefined) {
      reply.header('idempotency-key', clientIdempotencyKey);
    }
    if (ctx.sandbox) reply.header('spendgate-sandbox', 'true');
    return reply.code(response.status).send(response.body);
  }

  /**
   * Ends the reservation as `action` says and appends the call's audit row, in one atomic store step. A store
   * failure here must not lose the vendor's answer: the reservation simply stays counted.
   */
  /**
   * Ends the reservation as `action` says, with the call's audit row, as one ledger entry. It resolves once
   * the entry is durable (journaled, or committed where the ledger is local); the vendor's answer never
   * waits on a remote ledger, and a ledger that cannot take the entry yet gets it from the journal later.
   */
  async function finish(
    state: CallState,
    reservation: { readonly reservationId: string },
    action: Finish,
    row: AuditFields,
  ): Promise<void> {
    const audit = auditRow(state, row);
    const { reservationId } = reservation;
    await ctx.recorder.record(
      action.kind === 'settled'
        ? { kind: 'settle', reservationId, amount: action.amount, objectId: action.objectId, audit }
        : action.kind === 'released'
          ? { kind: 'release', reservationId, audit }
          : action.kind === 'uncertain'
            ? { kind: 'uncertain', reservationId, audit }
            : { kind: 'audit', audit },
    );
  }

  /**
   * How a refusal is recorded. When the ledger failed while reserving, it may have committed a reservation
   * whose answer never arrived; the call was not forwarded, so that reservation is given back (abandoned),
   * once the ledger has had time to cancel any statement still running for it.
   */
  function refusalEntry(state: CallState, audit: NewAuditRow): LedgerEntry {
    if (!state.reserving) return { kind: 'audit', audit };
    const settleAfterMs = 2 * ctx.config.SPENDGATE_DB_STATEMENT_TIMEOUT_MS + 1000;
    return {
      kind: 'abandon',
      requestId: state.requestId,
      instanceId: ctx.instanceId,
      notBefore: Date.now() + settleAfterMs,
      audit,
    };
  }

  function auditRow(state: CallState, row: AuditFields): NewAuditRow {
    return {
      ts: ctx.now(),
      keyId: state.key?.id ?? null,
      label: state.key?.label ?? null,
      vendor: state.vendor,
      method: state.method,
      path: state.path.slice(0, 512),
      upstreamStatus: null,
      costReserved: null,
      costSettled: null,
      settlement: null,
      idempotencyKey: state.idempotencyKey,
      vendorRequestId: null,
      requestId: state.requestId,
      latencyMs: Math.round(performance.now() - state.started),
      ...row,
    };
  }
}

/**
 * The idempotency key the vendor sees: scoped to the vault key. Stripe scopes keys by account, so without
 * this two vault keys of one account that chose the same key (a guessable tool-call id) would get each
 * other's saved answers, and with them each other's objects. Deterministic, so an SDK retry maps to the same
 * vendor key; hashed, so it stays within the vendors' 255-character limit.
 */
export function vendorIdempotencyKey(keyId: string, clientKey: string): string {
  return `sg_${keyId}_${createHash('sha256').update(clientKey).digest('hex').slice(0, 40)}`;
}

/** What idempotency and approvals match a repeat by: the canonical query and body, not the client's bytes. */
function fingerprintOf(vendorRequest: VendorRequest): string {
  return createHash('sha256')
    .update(`${vendorRequest.method} ${vendorRequest.path}?${vendorRequest.query}\n`)
    .update(vendorRequest.body)
    .digest('hex');
}

function toSpendgateError(err: unknown, ctx: ProxyContext): SpendgateError {
  if (SpendgateError.isInstance(err)) {
    if (err.code === 'ledger_unavailable')
      ctx.logger.error({ err: errorSummary(err.cause) }, 'ledger unavailable');
    return err;
  }
  ctx.logger.error({ err: errorSummary(err) }, 'unexpected error in vendor call');
  return spendgateError('internal_error', 'Internal error; nothing was forwarded');
}

function parseJson(response: ForwardResponse): unknown {
  const type = String(response.headers['content-type'] ?? '');
  if (!type.includes('json') || response.body.length === 0) return undefined;
  try {
    return JSON.parse(response.body.toString('utf8'));
  } catch {
    return undefined;
  }
}
