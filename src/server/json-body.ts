import type { FastifyRequest } from 'fastify';
import { spendgateError } from '../errors/index.js';
import { parseJsonBody } from '../vendors/shared/body.js';

/** Admin bodies are JSON only: anything else is a 415, malformed JSON a 400 `invalid_json`. */
export function jsonBody(request: FastifyRequest): unknown {
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') {
    throw spendgateError('unsupported_media_type', 'The admin API accepts only application/json bodies');
  }
  const raw = request.body;
  if (!Buffer.isBuffer(raw) || raw.length === 0)
    throw spendgateError('invalid_json', 'The request body is empty');
  return parseJsonBody(raw);
}
