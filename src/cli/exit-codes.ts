import { CommanderError } from 'commander';
import { SpendgateError } from '../errors/index.js';
import { ProxyRefusal } from '../client/admin-request.js';
import { UsageError } from './usage-error.js';

/** The CLI's exit codes, documented in docs/cli.md. Scripts depend on them: never renumber. */
export const EXIT = {
  ok: 0,
  /** The proxy answered with a refusal (its code is named), or the command failed. */
  failed: 1,
  /** Bad flags, arguments or configuration: nothing was sent. */
  usage: 2,
  /** No answer from the proxy: connection refused, DNS, timeout. */
  unreachable: 3,
} as const;

const UNREACHABLE_CODES = new Set(['upstream_unreachable', 'upstream_timeout']);

/** The exit code for an error thrown by a command. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (err instanceof UsageError) return EXIT.usage;
  if (err instanceof ProxyRefusal) return EXIT.failed;
  if (err instanceof SpendgateError && UNREACHABLE_CODES.has(err.code) && err.details.status === undefined) {
    return EXIT.unreachable;
  }
  return EXIT.failed;
}
