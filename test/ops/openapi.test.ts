import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import type * as FastifyModule from 'fastify';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';

/** Every route the proxy's fastify app registers, captured with fastify's own `onRoute` hook. */
const registered = vi.hoisted(() => [] as { method: string; url: string }[]);
vi.mock('fastify', async (importOriginal) => {
  const original = await importOriginal<typeof FastifyModule>();
  const factory = ((options?: object) => {
    const app = original.default(options);
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) registered.push({ method, url: route.url });
    });
    return app;
  }) as unknown as typeof original.default;
  return { ...original, default: factory };
});

/** The vendor catch-alls: any other path is a vendor call, which the vendors' own APIs document. */
const VENDOR_CATCH_ALLS = new Set(['/*', '/']);

type Operation = { operationId: string; security: unknown[]; parameters?: { name: string; in: string }[] };
type Document = { openapi: string; paths: Record<string, Record<string, Operation>> };

describe('GET /openapi.json', () => {
  let t: TestProxy;
  let doc: Document;
  beforeAll(async () => {
    t = await startTestProxy({ overrides: { SPENDGATE_LOG_LEVEL: 'silent' } });
    const res = await t.call('GET', '/openapi.json');
    expect(res.status).toBe(200);
    doc = res.json as Document;
  });
  afterAll(async () => t.close());

  it('is served without credentials and validates as OpenAPI 3.1', async () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc) as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('lists every route the app registers, except the vendor catch-alls', () => {
    const routes = registered.filter((r) => r.method !== 'HEAD' && !VENDOR_CATCH_ALLS.has(r.url));
    // The capture works: the admin API is there to be found.
    expect(routes).toContainEqual({ method: 'POST', url: '/v1/keys' });
    const missing = routes
      .map((r) => ({ method: r.method, path: r.url.replace(/:([A-Za-z_]\w*)/g, '{$1}') }))
      .filter((r) => doc.paths[r.path]?.[r.method.toLowerCase()] === undefined)
      .map((r) => `${r.method} ${r.path}`);
    expect(missing).toEqual([]);
    // And documents nothing the app does not serve.
    const served = new Set(routes.map((r) => `${r.method} ${r.url.replace(/:([A-Za-z_]\w*)/g, '{$1}')}`));
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented.filter((op) => !served.has(op))).toEqual([]);
  });

  it('describes the inputs with the schemas that validate them', () => {
    const issue = doc.paths['/v1/keys']?.post as unknown as {
      requestBody: { content: { 'application/json': { schema: Record<string, unknown> } } };
    };
    const body = issue.requestBody.content['application/json'].schema;
    expect(body).toMatchObject({
      type: 'object',
      additionalProperties: false,
      required: ['vendor', 'allowed_endpoints'],
    });
    expect(Object.keys(body.properties as object)).toContain('connected_accounts');
    const list = doc.paths['/v1/keys']?.get;
    const status = list?.parameters?.find((p) => p.name === 'status') as unknown as {
      in: string;
      schema: { enum: string[] };
    };
    expect(status.in).toBe('query');
    expect(status.schema.enum).toEqual(['active', 'revoked', 'expired']);
    const revoke = doc.paths['/v1/keys/{id}']?.delete;
    expect(revoke?.parameters).toEqual([
      { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
    ]);
    expect(revoke?.security).toEqual([{ adminToken: [] }]);
    expect(doc.paths['/healthz']?.get?.security).toEqual([]);
    const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId));
    expect(new Set(ids).size).toBe(ids.length);
  });
});
