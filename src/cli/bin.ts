import { CommanderError } from 'commander';
import { ProxyRefusal } from '../client/admin-request.js';
import { exitCodeFor } from './exit-codes.js';
import { main } from './main.js';

// The executable entry: `bin/spendgate.js` loads the compiled copy of this file.
main(process.argv).catch((err: unknown) => {
  process.exitCode = exitCodeFor(err);
  // Commander has already printed its own usage errors (and help and the version).
  if (err instanceof CommanderError) return;
  process.stderr.write(`spendgate: ${describe(err)}\n`);
});

/** Names the proxy's refusal code first, so scripts and people can act on it. */
function describe(err: unknown): string {
  if (err instanceof ProxyRefusal) return `${err.code} (HTTP ${err.status}): ${err.message}`;
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return typeof code === 'string' && !code.startsWith('ERR_') ? `${code}: ${message}` : message;
}
