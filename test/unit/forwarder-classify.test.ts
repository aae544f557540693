import { describe, expect, it } from 'vitest';
import { errors } from 'undici';
import { classify } from '../../src/server/forwarder.js';

describe('which forward failures can have reached the vendor', () => {
  it('treats errors raised before a byte left as not sent, so the reservation is released', () => {
    for (const err of [
      new errors.InvalidArgumentError('invalid header'),
      new errors.NotSupportedError('expect header not supported'),
      new errors.ClientClosedError(),
      Object.assign(new TypeError('Invalid URL'), { code: 'ERR_INVALID_URL' }),
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    ]) {
      expect(classify(err), err.message).toMatchObject({ sent: false });
    }
  });

  it('treats timeouts, resets and anything unknown as possibly sent, so the spend stays counted', () => {
    expect(classify(new errors.HeadersTimeoutError())).toMatchObject({ kind: 'timeout', sent: true });
    expect(classify(new errors.SocketError('other side closed'))).toMatchObject({
      kind: 'reset',
      sent: true,
    });
    expect(classify(new Error('mystery'))).toMatchObject({ sent: true });
  });
});
