import type { z } from 'zod';

/**
 * One route as the OpenAPI document describes it, next to the zod schemas that validate its input. A route
 * file declares its routes as a `RouteDoc[]`, and `openapi-catalog.ts` lists every such array: a new route
 * is one entry, and the route-coverage test names any registered route that has none.
 */
export interface RouteDoc {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** As registered with fastify: `/v1/keys/:id`. */
  readonly path: string;
  /** Unique across the document; what client generators name the call. */
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  /** Groups routes in the document (`keys`, `audit`, `reservations`, `operations`). */
  readonly tag: string;
  /** `admin`: `Authorization: Bearer <admin token>`. `public`: no credentials. */
  readonly auth: 'admin' | 'public';
  /** The JSON body schema (`application/json`). */
  readonly body?: z.ZodType;
  /** Whether the body may be left out (default: it is required when `body` is given). */
  readonly bodyOptional?: boolean;
  /** The query-string schema: a zod object whose fields are the parameters. */
  readonly query?: z.ZodType;
  /** The success answer; default `200`, JSON. */
  readonly success?: {
    readonly status: number;
    readonly description: string;
    readonly contentType?: string;
  };
}
