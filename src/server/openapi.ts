import { z } from 'zod';
import type { RouteDoc } from './openapi-route-doc.js';

type JsonSchema = Record<string, unknown>;

export interface OpenApiOptions {
  readonly routes: readonly RouteDoc[];
  /** `info.version`: the HTTP contract's version. */
  readonly version: string;
}

/** The JSON Schema (2020-12, OpenAPI 3.1's dialect) of what a client sends: the schema's input side. */
function jsonSchema(schema: z.ZodType): JsonSchema {
  // Transforms and refinements have no JSON Schema form; the input side still describes what is accepted.
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
  }) as JsonSchema;
  return rest;
}

/** `/v1/keys/:id` → `/v1/keys/{id}`, and the path parameters. */
function openApiPath(path: string): { path: string; params: string[] } {
  const params: string[] = [];
  const converted = path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_match, name: string) => {
    params.push(name);
    return `{${name}}`;
  });
  return { path: converted, params };
}

function queryParameters(query: z.ZodType): JsonSchema[] {
  const schema = jsonSchema(query);
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: 'query',
    required: required.has(name),
    schema: property,
  }));
}

function operation(route: RouteDoc, params: string[]): JsonSchema {
  const success = route.success ?? { status: 200, description: 'OK' };
  const parameters = [
    ...params.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
    ...(route.query ? queryParameters(route.query) : []),
  ];
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [route.tag],
    security: route.auth === 'admin' ? [{ adminToken: [] }] : [],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: route.bodyOptional !== true,
            content: { 'application/json': { schema: jsonSchema(route.body) } },
          },
        }
      : {}),
    responses: {
      [String(success.status)]: {
        description: success.description,
        content: { [success.contentType ?? 'application/json']: { schema: {} } },
      },
      default: { $ref: '#/components/responses/Refusal' },
    },
  };
}

/** The refusal body every error answer carries. */
const refusalSchema: JsonSchema = {
  type: 'object',
  required: ['code', 'message', 'error'],
  properties: {
    code: { type: 'string', description: 'Stable refusal code, e.g. `cap_exhausted`' },
    message: { type: 'string' },
    error: {
      type: 'object',
      required: ['type', 'code', 'retryable', 'message'],
      properties: {
        type: { const: 'spendgate_error' },
        code: { type: 'string' },
        retryable: { type: 'boolean' },
        message: { type: 'string' },
        param: { type: 'string', description: 'The offending field, when one is to blame' },
      },
    },
  },
};

/** An OpenAPI 3.1 document of `routes`, built from the zod schemas that validate their input. */
export function buildOpenApiDocument(options: OpenApiOptions): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of options.routes) {
    const { path, params } = openApiPath(route.path);
    (paths[path] ??= {})[route.method.toLowerCase()] = operation(route, params);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'spendgate admin API',
      version: options.version,
      description:
        'Issue, read and revoke vault keys, read the audit log, resolve uncertain spend, and operate the ' +
        'proxy. Vendor calls (`/{vendor}/…` with a vault key) are the vendors’ own APIs and are not listed.',
    },
    tags: [...new Set(options.routes.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        adminToken: { type: 'http', scheme: 'bearer', description: 'SPENDGATE_ADMIN_TOKEN' },
      },
      schemas: { Refusal: refusalSchema },
      responses: {
        Refusal: {
          description: 'A refusal: `code` says why (see the HTTP contract)',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Refusal' } } },
        },
      },
    },
  };
}
