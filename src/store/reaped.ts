import type { NewAuditRow } from './types.js';

/** The audit code of a reservation the reaper resolved because its instance's lease lapsed. */
export const REAPED = 'reservation_reaped';

/**
 * The upsert clause that lets a call's real row replace the reaper's provisional one (and nothing else):
 * `ON CONFLICT (request_id) DO UPDATE SET …`, valid in SQLite and PostgreSQL alike.
 */
export const REPLACE_REAPED = `ts = excluded.ts, method = excluded.method, path = excluded.path,
  decision = excluded.decision, code = excluded.code, upstream_status = excluded.upstream_status,
  cost_reserved = excluded.cost_reserved, cost_settled = excluded.cost_settled, settlement = excluded.settlement,
  idempotency_key = excluded.idempotency_key, vendor_request_id = excluded.vendor_request_id,
  latency_ms = excluded.latency_ms
  WHERE audit.code = '${REAPED}' AND excluded.code IS DISTINCT FROM '${REAPED}'`;

/**
 * The reaper's audit row for a reservation it resolved. It carries the call's own request id, so that if the
 * call's real outcome turns up later (from the dead instance's journal), that row replaces this one and
 * the call still has exactly one row.
 */
export function reapedAuditRow(res: {
  readonly id: string;
  readonly keyId: string;
  readonly amount: number;
  readonly requestId: string | null;
  readonly label: string | null;
  readonly vendor: string;
  readonly now: number;
}): NewAuditRow {
  return {
    ts: res.now,
    keyId: res.keyId,
    label: res.label,
    vendor: res.vendor,
    method: 'POST',
    path: `(reservation ${res.id})`,
    decision: 'allowed',
    code: REAPED,
    upstreamStatus: null,
    costReserved: res.amount,
    costSettled: res.amount,
    settlement: 'uncertain',
    idempotencyKey: null,
    vendorRequestId: null,
    requestId: res.requestId ?? `req_sg_reaped_${res.id}`,
    latencyMs: 0,
  };
}
