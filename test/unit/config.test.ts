import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { flagFor } from '../../src/cli/main.js';

const token = { SPENDGATE_ADMIN_TOKEN: 'config-admin-token-000000' };

describe('configuration', () => {
  it('uses the contract defaults', async () => {
    const config = await loadConfig({ env: token });
    expect(config).toMatchObject({
      SPENDGATE_HOST: '127.0.0.1',
      SPENDGATE_PORT: 8787,
      SPENDGATE_DB: './spendgate.db',
      SPENDGATE_STRIPE_BASE_URL: 'https://api.stripe.com',
      SPENDGATE_FX_RATES: {},
    });
  });

  it('parses money tables exactly and refuses bad entries, naming the setting but not the value', async () => {
    const config = await loadConfig({
      env: { ...token, SPENDGATE_FX_RATES: 'EUR=1.08, jpy=0.0067', SPENDGATE_TWILIO_SMS_PRICES: '44=0.0524' },
    });
    expect(config.SPENDGATE_FX_RATES).toEqual({ eur: 1_080_000, jpy: 6_700 });
    expect(config.SPENDGATE_TWILIO_SMS_PRICES).toEqual({ '+44': 52_400 });
    await expect(loadConfig({ env: { ...token, SPENDGATE_FX_RATES: 'euro=1.08' } })).rejects.toThrow(
      /SPENDGATE_FX_RATES/,
    );
    await expect(loadConfig({ env: { ...token, SPENDGATE_FX_RATES: 'eur=-1' } })).rejects.toThrow(
      /SPENDGATE_FX_RATES/,
    );
    await expect(loadConfig({ env: {} })).rejects.toThrow(/SPENDGATE_ADMIN_TOKEN is required/);
    const short = loadConfig({ env: { SPENDGATE_ADMIN_TOKEN: 'tiny-secret' } });
    await expect(short).rejects.toThrow(/SPENDGATE_ADMIN_TOKEN/);
    await expect(short).rejects.not.toThrow(/tiny-secret/);
  });

  it('lets flags win over the file, and the file over the environment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spendgate-config-'));
    try {
      const file = join(dir, 'config.json');
      writeFileSync(
        file,
        JSON.stringify({ SPENDGATE_PORT: 9000, SPENDGATE_MAX_TTL: '2h', SPENDGATE_FX_RATES: { eur: '1.1' } }),
      );
      const config = await loadConfig({
        env: { ...token, SPENDGATE_PORT: '7000', SPENDGATE_MAX_TTL: '1h' },
        file,
        overrides: { SPENDGATE_PORT: '0' },
      });
      expect(config.SPENDGATE_PORT).toBe(0);
      expect(config.SPENDGATE_MAX_TTL).toBe(7_200_000);
      expect(config.SPENDGATE_FX_RATES).toEqual({ eur: 1_100_000 });
      writeFileSync(file, JSON.stringify({ SPENDGATE_PROT: 1 }));
      await expect(loadConfig({ env: token, file })).rejects.toThrow(/unknown setting SPENDGATE_PROT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('derives flag names from the setting names', () => {
    expect(flagFor('SPENDGATE_MAX_TTL')).toBe('--max-ttl');
    expect(flagFor('STRIPE_SECRET_KEY')).toBe('--stripe-secret-key');
  });
});
