import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { flagFor } from '../../src/cli/main.js';
import { loadConfig, type LoadConfigOptions } from '../../src/config/load-config.js';
import { buildVendors } from '../../src/vendors/registry.js';
import type { CostEstimate } from '../../src/vendors/types.js';
import { messageCreate } from '../helpers/twilio-request.js';

const token = { SPENDGATE_ADMIN_TOKEN: 'config-admin-token-000000' };

/** The Twilio vendor the proxy builds from this configuration, pricing one message create. */
async function pricer(options: LoadConfigOptions) {
  const config = await loadConfig({ ...options, env: { ...token, ...options.env } });
  const twilio = buildVendors(config).get('twilio');
  if (!twilio) throw new Error('no twilio vendor');
  return (params: Record<string, unknown>): CostEstimate => {
    return twilio.vendor.estimateCost(messageCreate(params), { fxRates: {} });
  };
}

const priced = (amount: number): CostEstimate => ({ kind: 'priced', amount });

describe('Twilio price settings', () => {
  it('refuses unlisted destinations by default, and prices the built-in table', async () => {
    const config = await loadConfig({ env: token });
    expect(config.SPENDGATE_TWILIO_SMS_USD).toBeUndefined();
    expect(config.SPENDGATE_TWILIO_MMS_USD).toBeUndefined();
    expect(config.SPENDGATE_TWILIO_MMS_PRICES).toEqual({});
    const price = await pricer({});
    expect(price({ To: '+81312345678', Body: 'hi' })).toMatchObject({ kind: 'refused' });
    expect(price({ To: '+18765550123', Body: 'hi' })).toMatchObject({ kind: 'refused' });
    expect(price({ To: '+447911123456', MediaUrl: 'https://x/a.png' })).toMatchObject({ kind: 'refused' });
    expect(price({ To: '+15558675310', Body: 'hi' })).toEqual(priced(8_300));
    expect(price({ To: '+15558675310', MediaUrl: 'https://x/a.png' })).toEqual(priced(22_000));
  });

  it('SPENDGATE_TWILIO_SMS_USD opts in to a price for destinations nothing else prices', async () => {
    const price = await pricer({ env: { SPENDGATE_TWILIO_SMS_USD: '0.15' } });
    expect(price({ To: '+81312345678', Body: 'hi' })).toEqual(priced(150_000));
    expect(price({ To: '+81312345678', Body: 'a'.repeat(161) })).toEqual(priced(300_000));
    expect(price({ To: '+15558675310', Body: 'hi' })).toEqual(priced(8_300));
    // SMS only: MMS to an unlisted destination stays refused.
    expect(price({ To: '+81312345678', MediaUrl: 'https://x/a.png' })).toMatchObject({ kind: 'refused' });
  });

  it('reads SPENDGATE_TWILIO_MMS_USD and SPENDGATE_TWILIO_MMS_PRICES from the environment', async () => {
    const env = { SPENDGATE_TWILIO_MMS_USD: '0.5', SPENDGATE_TWILIO_MMS_PRICES: '1=0.02, +44=0.3' };
    const config = await loadConfig({ env: { ...token, ...env } });
    expect(config.SPENDGATE_TWILIO_MMS_USD).toBe(500_000);
    expect(config.SPENDGATE_TWILIO_MMS_PRICES).toEqual({ '+1': 20_000, '+44': 300_000 });
    const price = await pricer({ env });
    expect(price({ To: '+15558675310', MediaUrl: 'https://x/a.png' })).toEqual(priced(20_000));
    expect(price({ To: '+447911123456', MediaUrl: 'https://x/a.png' })).toEqual(priced(300_000));
    expect(price({ To: '+447911123456', Body: 'hi', SendAsMms: 'true' })).toEqual(priced(300_000));
    expect(price({ To: '+81312345678', MediaUrl: 'https://x/a.png' })).toEqual(priced(500_000));
    // The built-in unpriced Caribbean prefixes are longer than +1: the default applies, not the US price.
    expect(price({ To: '+18765550123', MediaUrl: 'https://x/a.png' })).toEqual(priced(500_000));
  });

  it('takes the MMS settings as flags (overrides) and config-file keys too', async () => {
    expect(flagFor('SPENDGATE_TWILIO_MMS_USD')).toBe('--twilio-mms-usd');
    expect(flagFor('SPENDGATE_TWILIO_MMS_PRICES')).toBe('--twilio-mms-prices');
    const fromFlags = await pricer({ overrides: { SPENDGATE_TWILIO_MMS_PRICES: '+1=0.03' } });
    expect(fromFlags({ To: '+15558675310', MediaUrl: 'https://x/a.png' })).toEqual(priced(30_000));
    const dir = mkdtempSync(join(tmpdir(), 'spendgate-twilio-config-'));
    try {
      const file = join(dir, 'config.json');
      writeFileSync(
        file,
        JSON.stringify({ SPENDGATE_TWILIO_MMS_PRICES: { '+44': '0.25' }, SPENDGATE_TWILIO_MMS_USD: 1 }),
      );
      const fromFile = await pricer({ file });
      expect(fromFile({ To: '+447911123456', MediaUrl: 'https://x/a.png' })).toEqual(priced(250_000));
      expect(fromFile({ To: '+81312345678', MediaUrl: 'https://x/a.png' })).toEqual(priced(1_000_000));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses malformed MMS settings at start-up, naming the setting', async () => {
    await expect(loadConfig({ env: { ...token, SPENDGATE_TWILIO_MMS_PRICES: 'UK=0.3' } })).rejects.toThrow(
      /SPENDGATE_TWILIO_MMS_PRICES.*\+1=0\.022/,
    );
    await expect(loadConfig({ env: { ...token, SPENDGATE_TWILIO_MMS_USD: '-1' } })).rejects.toThrow(
      /SPENDGATE_TWILIO_MMS_USD/,
    );
  });
});
