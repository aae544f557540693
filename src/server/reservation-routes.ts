import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { spendgateError } from '../errors/index.js';
import { microsToUsd, usdToMicros } from '../money.js';
import { adminGuard } from './admin-auth.js';
import type { ProxyContext } from './context.js';
import { jsonBody } from './json-body.js';
import { ledger } from './ledger.js';
import { validate } from './validate.js';

/** `GET /v1/reservations` (exported for the OpenAPI document). */
export const listReservationsQuery = z.strictObject({
  key_id: z.string().optional(),
  status: z.enum(['reserved', 'settled', 'released', 'uncertain']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/** `POST /v1/reservations/{id}/resolve`. */
export const resolveReservationBody = z.strictObject({
  outcome: z.enum(['settled', 'released']),
  /** For `settled`: what the vendor's records say moved (USD); defaults to the reserved amount. */
  amount_usd: z.union([z.number(), z.string()]).optional(),
});

/**
 * Uncertain spend, for the operator: list a key's uncertain reservations, and resolve one as settled or
 * released once the vendor's dashboard says what happened. Each resolution leaves an audit row.
 */
export function registerReservationRoutes(app: FastifyInstance, ctx: ProxyContext): void {
  const admin = {
    onRequest: adminGuard(ctx, { issuers: false }),
  };

  app.get('/v1/reservations', admin, async (request) => {
    const query = validate(listReservationsQuery, request.query);
    const rows = await ledger(() =>
      ctx.store.listReservations({ keyId: query.key_id, status: query.status, limit: query.limit }),
    );
    return {
      data: rows.map((r) => ({
        id: r.id,
        key_id: r.keyId,
        amount_usd: microsToUsd(r.amount),
        status: r.status,
        created_at: new Date(r.createdAt).toISOString(),
      })),
    };
  });

  app.post('/v1/reservations/:id/resolve', admin, async (request) => {
    const { id } = request.params as { id: string };
    const body = validate(resolveReservationBody, jsonBody(request));
    if (body.outcome === 'released' && body.amount_usd !== undefined) {
      throw spendgateError('bad_request', 'amount_usd applies only to outcome "settled"', {
        param: 'amount_usd',
      });
    }
    const amount = body.amount_usd === undefined ? undefined : usdToMicros(body.amount_usd, 'amount_usd');
    const requestId = `req_sg_resolve_${id}`;
    const result = await ledger(() =>
      ctx.store.resolveUncertain({
        reservationId: id,
        outcome: body.outcome,
        amount,
        audit: {
          ts: ctx.now(),
          keyId: null,
          label: null,
          vendor: null,
          method: 'POST',
          path: `/v1/reservations/${id}/resolve`.slice(0, 512),
          decision: 'allowed',
          code: 'resolved_by_operator',
          upstreamStatus: null,
          costReserved: null,
          costSettled: amount ?? null,
          settlement: body.outcome,
          idempotencyKey: null,
          vendorRequestId: null,
          requestId,
          latencyMs: 0,
        },
      }),
    );
    if (!result.ok && result.reason === 'not_found')
      throw spendgateError('not_found', `No reservation ${id}`);
    if (!result.ok) {
      throw spendgateError('bad_request', `Reservation ${id} is ${result.status}, not uncertain`, {
        param: 'id',
      });
    }
    ctx.logger.info({ event: 'reservation_resolved', reservation_id: id, outcome: body.outcome }, 'resolved');
    return { id, key_id: result.keyId, status: body.outcome, amount_usd: microsToUsd(result.amount) };
  });
}
