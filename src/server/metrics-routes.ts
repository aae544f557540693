import type { FastifyInstance } from 'fastify';
import { adminGuard } from './admin-auth.js';
import type { ProxyContext } from './context.js';
import { registerLedgerGauges } from './metrics-gauges.js';

/**
 * `GET /metrics` in the Prometheus text format. It needs the admin token unless
 * `SPENDGATE_METRICS_PUBLIC=true`: label values (vendors, refusal codes) and spend say how the proxy is used.
 */
export function registerMetricsRoutes(app: FastifyInstance, ctx: ProxyContext): void {
  const { registry } = ctx.metrics;
  registerLedgerGauges({ registry, store: ctx.store, now: ctx.now, logger: ctx.logger });
  const auth = ctx.config.SPENDGATE_METRICS_PUBLIC
    ? {}
    : {
        onRequest: adminGuard(ctx, { issuers: false }),
      };
  app.get('/metrics', auth, async (_request, reply) => {
    const text = await registry.metrics();
    return reply.header('content-type', registry.contentType).send(text);
  });
}
