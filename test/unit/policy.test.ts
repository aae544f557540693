import { describe, expect, it } from 'vitest';
import { isEndpointAllowed, parseEndpointRule } from '../../src/policy/endpoint-allowlist.js';
import { normalizePath } from '../../src/policy/normalize-path.js';

describe('normalizePath', () => {
  it('decodes percent-encoding in segments', () => {
    expect(normalizePath('/v1/customers/cus%5F1')).toBe('/v1/customers/cus_1');
    expect(normalizePath('/v1/payment_intents')).toBe('/v1/payment_intents');
  });

  it.each([
    ['/v1/../keys', 'dot-dot'],
    ['/v1/./keys', 'dot'],
    ['/v1/%2e%2e/keys', 'encoded dot-dot'],
    ['/v1/%2E/keys', 'encoded dot'],
    ['/v1//keys', 'double slash'],
    ['/v1%2fkeys', 'encoded slash'],
    ['/v1%2Fkeys', 'encoded slash, upper case'],
    ['/v1%5ckeys', 'encoded backslash'],
    ['/v1\\keys', 'backslash'],
    ['/v1/%zz', 'malformed encoding'],
    ['/v1/%00', 'encoded NUL'],
    ['v1/keys', 'relative'],
  ])('refuses %s (%s) with path_invalid', (path) => {
    expect(() => normalizePath(path)).toThrow(expect.objectContaining({ code: 'path_invalid' }));
  });
});

describe('endpoint allowlist', () => {
  const rules = [
    'POST /v1/payment_intents',
    'GET /v1/payment_intents/*',
    '/v1/customers/**',
    'POST /2010-04-01/Accounts/*/Messages.json',
  ].map(parseEndpointRule);

  it.each([
    ['POST', '/v1/payment_intents', true],
    ['GET', '/v1/payment_intents', false],
    ['POST', '/v1/payment_intents/pi_1', false],
    ['GET', '/v1/payment_intents/pi_1', true],
    ['HEAD', '/v1/payment_intents/pi_1', true],
    ['GET', '/v1/payment_intents/pi_1/confirm', false],
    ['DELETE', '/v1/customers', true],
    ['POST', '/v1/customers/cus_1/sources/x', true],
    ['POST', '/v1/customersX', false],
    ['POST', '/2010-04-01/Accounts/AC123/Messages.json', true],
    ['POST', '/2010-04-01/Accounts/AC123/Calls.json', false],
    ['POST', '/v1/refunds', false],
  ] as const)('%s %s → %s', (method, path, allowed) => {
    expect(isEndpointAllowed(rules, method, path)).toBe(allowed);
  });

  it('is case-insensitive on methods and refuses malformed entries', () => {
    expect(isEndpointAllowed([parseEndpointRule('post /v1/charges')], 'POST', '/v1/charges')).toBe(true);
    for (const bad of ['FETCH /v1/x', 'v1/x', 'POST', 'POST /v1/../x', 'POST /v1/a*b', 'POST /v1//x']) {
      expect(() => parseEndpointRule(bad)).toThrow(expect.objectContaining({ code: 'bad_request' }));
    }
  });
});
