import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers.js';

const run = promisify(execFile);

/** Environment a parent may carry that would send the example online or at another proxy. */
const ONLINE = /^(OPENAI_|SPENDGATE_)/;

describe('examples/mcp/openai-agents-stdio.ts', () => {
  it('runs offline: MCPServerStdio launches spendgate mcp, the cap stops the agent, the key is revoked', async () => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !ONLINE.test(name)));
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'examples/mcp/openai-agents-stdio.ts'],
      {
        cwd: REPO_ROOT,
        env: { ...env, OPENAI_AGENTS_DISABLE_TRACING: '1' },
        timeout: 90_000,
      },
    );
    expect(stdout.match(/"payment_intent":"pi_/g)).toHaveLength(3);
    expect(stdout).toContain('REFUSED cap_exhausted (retryable: false)');
    expect(stdout).toMatch(/Agent: I stopped: The budget for this run is used up/);
    expect(stdout).toMatch(/spent \$30\.00 of \$30\.00 cap, 3 calls allowed, 1 denied, status revoked/);
  });

  it('approve-in-terminal.ts runs offline: scripted yes charges $30 once, no sends nothing, the key is revoked', async () => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !ONLINE.test(name)));
    // Not a terminal: the example answers from its script (yes, then no).
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'examples/mcp/approve-in-terminal.ts'],
      {
        cwd: REPO_ROOT,
        env,
        timeout: 90_000,
      },
    );
    expect(stdout.match(/^spendgate: approve charge_customer for \$\d+\.00/gm)).toEqual([
      'spendgate: approve charge_customer for $30.00',
      'spendgate: approve charge_customer for $40.00',
    ]);
    expect(stdout.match(/"payment_intent":"pi_/g)).toHaveLength(2);
    expect(stdout).toContain('REFUSED approval_denied (retryable: false)');
    expect(stdout).toMatch(/spent \$42\.00 of \$100\.00 cap, .* status revoked/);
  });
});
