import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { startStripeStack, type StripeStack } from '../helpers/stripe-stack.js';

describe('a client that trickles its request', () => {
  let s: StripeStack;
  beforeAll(async () => {
    s = await startStripeStack({
      overrides: { SPENDGATE_REQUEST_TIMEOUT_MS: 500, SPENDGATE_LOG_LEVEL: 'warn' },
    });
  });
  afterAll(async () => s.close());

  it('gets 408 and loses its socket once SPENDGATE_REQUEST_TIMEOUT_MS has passed, and nothing is forwarded', async () => {
    const { token } = await s.t.issue({ vendor: 'stripe', usd_cap: 1, allowed_endpoints: ['/v1/**'] });
    const url = new URL(s.t.url);
    const started = Date.now();
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write(
          `POST /v1/payment_intents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n` +
            'Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\namount=5',
        );
      });
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
      socket.on('close', () => resolve(received));
      socket.on('error', reject);
      // Bounded: the test never waits on a socket longer than this.
      setTimeout(() => socket.destroy(new Error('no answer within 5 s')), 5_000);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(s.fake.requests).toHaveLength(0);
  });
});
