import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { SpendgateError, spendgateError } from '../errors/index.js';
import { registerAdminRoutes } from './admin-routes.js';
import { registerReservationRoutes } from './reservation-routes.js';
import { registerApprovalRoutes } from './approval-routes.js';
import { registerBudgetRoutes } from './budget-routes.js';
import { registerIssuerRoutes } from './issuer-routes.js';
import { registerMetricsRoutes } from './metrics-routes.js';
import { registerOpenApiRoutes } from './openapi-routes.js';
import type { ProxyContext } from './context.js';
import { sendRefusal } from './refusal.js';
import { errorSummary } from './error-summary.js';
import { createVendorCallHandler } from './vendor-call.js';

/** Fastify's codes for a Content-Type it cannot read (an empty header among them). */
const UNSUPPORTED_MEDIA = new Set([
  'FST_ERR_CTP_INVALID_MEDIA_TYPE',
  'FST_ERR_CTP_EMPTY_TYPE',
  'FST_ERR_CTP_INVALID_TYPE',
]);

/**
 * The proxy's HTTP application: admin routes at fixed paths, and every other path treated as a vendor
 * call (`/stripe/v1/...` prefixed, or `/v1/...` routed by the key's vendor).
 */
export function buildApp(ctx: ProxyContext): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: ctx.config.SPENDGATE_MAX_BODY_BYTES,
    // Paths are matched exactly as sent; the proxy's own normaliser decides what is ambiguous.
    routerOptions: { ignoreTrailingSlash: false, ignoreDuplicateSlashes: false },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // A client that trickles its request holds a socket and a body buffer: Node answers 408 and closes once
    // the whole request has not arrived in time. Node enforces it only while headersTimeout is no longer
    // than requestTimeout, and checks every connectionsCheckingInterval.
    requestTimeout: ctx.config.SPENDGATE_REQUEST_TIMEOUT_MS,
    http: {
      requestTimeout: ctx.config.SPENDGATE_REQUEST_TIMEOUT_MS,
      headersTimeout: Math.min(60_000, ctx.config.SPENDGATE_REQUEST_TIMEOUT_MS),
      connectionsCheckingInterval: Math.min(1000, ctx.config.SPENDGATE_REQUEST_TIMEOUT_MS),
    },
    // Fastify rejects undecodable URLs before routing; they get the contract's code like any other bad path.
    frameworkErrors: (error, _request, reply: FastifyReply) => {
      const code = (error as { code?: string }).code;
      const refusal =
        code === 'FST_ERR_BAD_URL'
          ? spendgateError('path_invalid', 'The request path has malformed percent-encoding')
          : spendgateError('bad_request', 'The request could not be parsed');
      void sendRefusal(reply, refusal);
    },
  });

  // Every body arrives as raw bytes: vendor bodies are priced and forwarded byte-exact, and admin routes
  // parse JSON themselves so that malformed JSON and wrong media types get the contract's codes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.setErrorHandler((err, _request, reply) => {
    let error: SpendgateError;
    if (SpendgateError.isInstance(err)) {
      error = err;
    } else if ((err as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      error = spendgateError(
        'body_too_large',
        `The request body exceeds ${ctx.config.SPENDGATE_MAX_BODY_BYTES} bytes`,
      );
    } else if (UNSUPPORTED_MEDIA.has((err as { code?: string }).code ?? '')) {
      error = spendgateError('unsupported_media_type', 'The Content-Type header is empty or malformed');
    } else if ((err as { code?: string }).code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') {
      error = spendgateError('bad_request', 'Content-Length does not match the body');
    } else {
      ctx.logger.error({ err: errorSummary(err) }, 'unhandled error');
      error = spendgateError('internal_error', 'Internal error');
    }
    if (error.code === 'ledger_unavailable')
      ctx.logger.error({ err: errorSummary(error.cause) }, 'ledger unavailable');
    return sendRefusal(reply, error);
  });

  // While stopping, finish in-flight calls but tell their clients to hang up afterwards; otherwise a
  // keep-alive connection that was busy when close() began would hold the server open until it times out.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    return payload;
  });

  // Liveness: the process answers. Readiness: the ledger answered within the last second, so this
  // instance can do more than refuse; a load balancer should route only to ready instances.
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_request, reply) => {
    if (ctx.readiness.isReady()) return { ok: true };
    return sendRefusal(
      reply,
      spendgateError('ledger_unavailable', 'The spend ledger has not answered within the last second'),
    );
  });
  registerAdminRoutes(app, ctx);
  registerReservationRoutes(app, ctx);
  registerApprovalRoutes(app, ctx);
  registerBudgetRoutes(app, ctx);
  registerIssuerRoutes(app, ctx);
  registerMetricsRoutes(app, ctx);
  registerOpenApiRoutes(app);

  const vendorCall = createVendorCallHandler(ctx);
  app.all('/*', vendorCall);
  app.all('/', vendorCall);

  app.setNotFoundHandler((request, reply) => {
    const error = spendgateError('not_found', `No route ${request.method} ${request.url.split('?')[0]}`);
    return sendRefusal(reply, error);
  });
  return app;
}
