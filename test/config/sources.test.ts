import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { CONFIG_NAMES } from '../../src/config/schema.js';
import { SECRET_NAMES } from '../../src/config/secret-files.js';

const TOKEN = 'sources-admin-token-0123456789';
let dir: string;
const path = (name: string) => join(dir, name);
const write = (name: string, text: string) => {
  writeFileSync(path(name), text);
  return path(name);
};

/** The error a load fails with; a load that succeeds fails the test. */
const failure = (load: Promise<unknown>): Promise<Error> =>
  load.then(
    () => {
      throw new Error('expected the configuration to be refused');
    },
    (err: unknown) => err as Error,
  );

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'spendgate-config-sources-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('*_FILE secrets', () => {
  it('reads every secret from its _FILE form, trimming the trailing newline', async () => {
    const config = await loadConfig({
      env: {
        SPENDGATE_ADMIN_TOKEN_FILE: write('admin', `${TOKEN}\n`),
        STRIPE_SECRET_KEY_FILE: write('stripe', 'sk_test_from_file\n'),
        TWILIO_AUTH_TOKEN_FILE: write('twilio', 'twilio-token-from-file'),
        RESEND_API_KEY_FILE: write('resend', ' re_from_file \r\n'),
        SPENDGATE_DB_FILE: write('db', 'postgres://spendgate:pw@127.0.0.1:5432/ledger\n'),
      },
    });
    expect(config).toMatchObject({
      SPENDGATE_ADMIN_TOKEN: TOKEN,
      STRIPE_SECRET_KEY: 'sk_test_from_file',
      TWILIO_AUTH_TOKEN: 'twilio-token-from-file',
      RESEND_API_KEY: 're_from_file',
      SPENDGATE_DB: 'postgres://spendgate:pw@127.0.0.1:5432/ledger',
    });
  });

  it('refuses NAME and NAME_FILE in the same place, an unreadable file and an empty one, without their content', async () => {
    const admin = write('admin2', `${TOKEN}\n`);
    await expect(
      loadConfig({ env: { SPENDGATE_ADMIN_TOKEN: TOKEN, SPENDGATE_ADMIN_TOKEN_FILE: admin } }),
    ).rejects.toThrow('SPENDGATE_ADMIN_TOKEN and SPENDGATE_ADMIN_TOKEN_FILE are both set in the environment');
    await expect(loadConfig({ env: { SPENDGATE_ADMIN_TOKEN_FILE: path('missing') } })).rejects.toThrow(
      /SPENDGATE_ADMIN_TOKEN_FILE .*missing.*ENOENT/,
    );
    await expect(loadConfig({ env: { SPENDGATE_ADMIN_TOKEN_FILE: write('empty', '\n') } })).rejects.toThrow(
      /SPENDGATE_ADMIN_TOKEN_FILE .* is empty/,
    );
    const short = write('short', 'short-secret-x');
    const error = await failure(loadConfig({ env: { SPENDGATE_ADMIN_TOKEN_FILE: short } }));
    expect(error.message).toContain('SPENDGATE_ADMIN_TOKEN');
    expect(error.message).not.toContain('short-secret-x');
  });

  it('covers every secret-looking setting of the schema', () => {
    const secretLooking = CONFIG_NAMES.filter((name) =>
      /(_TOKEN|_SECRET|_SECRET_KEY|_API_KEY|_PASSWORD)$/.test(name),
    );
    for (const name of secretLooking) expect(SECRET_NAMES).toContain(name);
  });
});

describe('precedence: flags > config file > environment > .env > defaults', () => {
  it('takes each setting from the highest place that gives it, a _FILE form counting as that place', async () => {
    const envFile = write(
      '.env',
      [
        'SPENDGATE_PORT=1111',
        'SPENDGATE_HOST=10.0.0.1',
        'SPENDGATE_DB=./from-dotenv.db',
        'SPENDGATE_LOG_LEVEL=debug',
        `STRIPE_SECRET_KEY=sk_from_dotenv`,
        `RESEND_API_KEY_FILE=${path('no-such-file')}`,
        `SPENDGATE_ADMIN_TOKEN=${TOKEN}`,
      ].join('\n'),
    );
    const file = write(
      'config.yaml',
      [
        'SPENDGATE_PORT: 3333',
        'SPENDGATE_HOST: 10.0.0.3',
        `TWILIO_AUTH_TOKEN_FILE: ${write('tw', 'tw-from-file')}`,
      ].join('\n'),
    );
    const config = await loadConfig({
      envFile,
      file,
      env: {
        SPENDGATE_PORT: '2222',
        SPENDGATE_HOST: '10.0.0.2',
        SPENDGATE_DB: './from-env.db',
        STRIPE_SECRET_KEY_FILE: write('stripe-env', 'sk_from_env_file'),
        RESEND_API_KEY: 're_from_env',
      },
      overrides: { SPENDGATE_PORT: '4444' },
    });
    expect(config.SPENDGATE_PORT).toBe(4444); // flag
    expect(config.SPENDGATE_HOST).toBe('10.0.0.3'); // config file over environment
    expect(config.SPENDGATE_DB).toBe('./from-env.db'); // environment over .env
    expect(config.SPENDGATE_LOG_LEVEL).toBe('debug'); // .env over the default
    expect(config.STRIPE_SECRET_KEY).toBe('sk_from_env_file'); // env _FILE over .env NAME
    expect(config.RESEND_API_KEY).toBe('re_from_env'); // env NAME wins; .env's stale _FILE is never read
    expect(config.TWILIO_AUTH_TOKEN).toBe('tw-from-file'); // _FILE in the config file
    expect(config.SPENDGATE_ADMIN_TOKEN).toBe(TOKEN);
    expect(config.SPENDGATE_MAX_TTL).toBe(86_400_000); // default
  });

  it('ignores names in .env that are not settings, and never reads .env unless asked', async () => {
    const envFile = write('other.env', `OTHER_APP_SECRET=x\nSPENDGATE_ADMIN_TOKEN=${TOKEN}\n`);
    await expect(loadConfig({ envFile })).resolves.toMatchObject({ SPENDGATE_ADMIN_TOKEN: TOKEN });
    await expect(loadConfig({ env: {} })).rejects.toThrow(/SPENDGATE_ADMIN_TOKEN is required/);
    await expect(loadConfig({ envFile: path('nope.env') })).rejects.toThrow(/Cannot read env file .*ENOENT/);
  });
});

describe('config files', () => {
  it('reads YAML with values kept as written: a long numeric token is not rounded', async () => {
    const file = write(
      'full.yml',
      [
        '# comments are fine',
        'SPENDGATE_ADMIN_TOKEN: 12345678901234567890123',
        'SPENDGATE_PORT: 0',
        'SPENDGATE_SANDBOX: true',
        'SPENDGATE_MAX_TTL: 1h30m',
        'SPENDGATE_FX_RATES:',
        '  eur: 1.08',
        '  jpy: 0.0067',
      ].join('\n'),
    );
    const config = await loadConfig({ file });
    expect(config).toMatchObject({
      SPENDGATE_ADMIN_TOKEN: '12345678901234567890123',
      SPENDGATE_PORT: 0,
      SPENDGATE_SANDBOX: true,
      SPENDGATE_MAX_TTL: 5_400_000,
      SPENDGATE_FX_RATES: { eur: 1_080_000, jpy: 6_700 },
    });
    await expect(
      loadConfig({ file: write('typo.yaml', `SPENDGATE_ADMIN_TOKEN: ${TOKEN}\nSPENDGATE_PROT: 1\n`) }),
    ).rejects.toThrow(/unknown setting SPENDGATE_PROT/);
  });

  it.each([
    [
      'broken.json',
      '{\n  "SPENDGATE_ADMIN_TOKEN": "sg-admin-Zq81kfT0pX",\n  "STRIPE_SECRET_KEY": "sk_live_51HsecretVALUE9x" oops\n}\n',
    ],
    [
      'broken.yaml',
      'SPENDGATE_ADMIN_TOKEN: sg-admin-Zq81kfT0pX\nSTRIPE_SECRET_KEY: "sk_live_51HsecretVALUE9x\n  : [\n',
    ],
    [
      'broken.yml',
      'STRIPE_SECRET_KEY: sk_live_51HsecretVALUE9x\n\tSPENDGATE_ADMIN_TOKEN: sg-admin-Zq81kfT0pX\n',
    ],
  ])('a parse error in %s says where, never what', async (name, text) => {
    const error = await failure(loadConfig({ file: write(name, text) }));
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toMatch(/is not valid (JSON|YAML)/);
    expect(error.message).toMatch(/line \d+, column \d+/);
    for (const secret of [
      'sk_live_51HsecretVALUE9x',
      'sg-admin-Zq81kfT0pX',
      'sk_live',
      'secretVALUE',
      'oops',
    ]) {
      expect(error.message).not.toContain(secret);
    }
  });
});

describe('durations', () => {
  it('accepts compound durations and refuses anything under one second, naming the setting', async () => {
    const base = { SPENDGATE_ADMIN_TOKEN: TOKEN };
    const config = await loadConfig({
      env: { ...base, SPENDGATE_DEFAULT_TTL: '1h30m', SPENDGATE_MAX_TTL: '2d12h' },
    });
    expect(config.SPENDGATE_DEFAULT_TTL).toBe(5_400_000);
    expect(config.SPENDGATE_MAX_TTL).toBe(216_000_000);
    await expect(loadConfig({ env: { ...base, SPENDGATE_DEFAULT_TTL: '500ms' } })).rejects.toThrow(
      'Invalid configuration SPENDGATE_DEFAULT_TTL: SPENDGATE_DEFAULT_TTL must be at least 1 s',
    );
    await expect(loadConfig({ env: { ...base, SPENDGATE_DEFAULT_TTL: '30m1h' } })).rejects.toThrow(
      /SPENDGATE_DEFAULT_TTL must be a duration/,
    );
  });
});
