import type { FastifyInstance } from 'fastify';
import { buildOpenApiDocument } from './openapi.js';
import { apiRouteDocs } from './openapi-catalog.js';

/** The HTTP contract this document describes. */
const CONTRACT_VERSION = '1.1';

/** `GET /openapi.json`, unauthenticated: the document describes the API, it grants nothing. */
export function registerOpenApiRoutes(app: FastifyInstance): void {
  let document: Record<string, unknown> | undefined;
  app.get('/openapi.json', async () => {
    // Built on first request, not at start-up: most proxies are never asked for it.
    document ??= buildOpenApiDocument({ routes: apiRouteDocs, version: CONTRACT_VERSION });
    return document;
  });
}
