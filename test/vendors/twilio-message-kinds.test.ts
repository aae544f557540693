import { describe, expect, it } from 'vitest';
import { createTwilioVendor, type TwilioPricing } from '../../src/vendors/twilio/index.js';
import type { CostEstimate } from '../../src/vendors/types.js';
import { messageCreate } from '../helpers/twilio-request.js';

const US = '+15558675310';

function estimate(params: Record<string, unknown>, options: TwilioPricing = {}): CostEstimate {
  return createTwilioVendor(options).estimateCost(messageCreate(params), { fxRates: {} });
}

const priced = (amount: number): CostEstimate => ({ kind: 'priced', amount });
const TEN_SEGMENTS = 'a'.repeat(1530);

describe('Twilio: SendAsMms', () => {
  it('prices SendAsMms=true without MediaUrl as one MMS, as Twilio bills it', () => {
    for (const SendAsMms of ['true', 'True', 'TRUE', true]) {
      expect(estimate({ To: US, Body: 'hi', SendAsMms })).toEqual(priced(22_000));
      expect(estimate({ To: US, Body: TEN_SEGMENTS, SendAsMms })).toEqual(priced(22_000));
    }
  });

  it('prices a clear false as SMS', () => {
    for (const SendAsMms of ['false', 'False', false]) {
      expect(estimate({ To: US, Body: 'hi', SendAsMms })).toEqual(priced(8_300));
    }
  });

  it('prices any other value as the dearer of MMS and SMS, so a misread never reserves too little', () => {
    for (const SendAsMms of ['1', 'yes', '', ['true', 'false']]) {
      expect(estimate({ To: US, Body: 'hi', SendAsMms })).toEqual(priced(22_000));
      expect(estimate({ To: US, Body: TEN_SEGMENTS, SendAsMms })).toEqual(priced(83_000));
    }
  });

  it('uses the MMS price table and refuses where no MMS price is configured', () => {
    expect(estimate({ To: '+447911123456', Body: 'hi', SendAsMms: 'true' })).toMatchObject({
      kind: 'refused',
      message: expect.stringContaining('No MMS price is configured for the destination +447…'),
    });
    const options = { mmsPerMessageByPrefix: { '+44': 300_000 } };
    expect(estimate({ To: '+447911123456', Body: 'hi', SendAsMms: 'true' }, options)).toEqual(
      priced(300_000),
    );
    // An unclear flag needs both prices: refused if either is missing.
    expect(estimate({ To: '+447911123456', Body: 'hi', SendAsMms: 'yes' })).toMatchObject({
      kind: 'refused',
    });
    expect(estimate({ To: '+447911123456', Body: 'hi', SendAsMms: 'yes' }, options)).toEqual(priced(300_000));
  });

  it('keeps MediaUrl as MMS whatever SendAsMms says', () => {
    expect(estimate({ To: US, MediaUrl: 'https://x/a.png', SendAsMms: 'false' })).toEqual(priced(22_000));
  });
});

describe('Twilio: content templates', () => {
  const refusal: CostEstimate = {
    kind: 'refused',
    message:
      'Messages from a content template (`ContentSid`) are not priced: the proxy cannot see their text, ' +
      'length or channel. Send the text in `Body` instead',
  };

  it('refuses any create with a ContentSid, with or without Body or media', () => {
    expect(estimate({ To: US, ContentSid: 'HX0123456789abcdef0123456789abcdef' })).toEqual(refusal);
    expect(estimate({ To: US, ContentSid: 'HX1', Body: 'hi' })).toEqual(refusal);
    expect(estimate({ To: US, ContentSid: 'HX1', ContentVariables: '{"1":"x"}' })).toEqual(refusal);
    expect(estimate({ To: US, ContentSid: 'HX1', MediaUrl: 'https://x/a.png' })).toEqual(refusal);
    expect(estimate({ To: US, ContentSid: '' })).toEqual(refusal);
  });
});
