import type { Command } from 'commander';
import type { AdminTarget } from '../client/admin-request.js';
import { envFilePath } from './env-file-option.js';
import { resolveTarget, type TargetOptions } from './proxy-target.js';

/** What a management command needs: where the proxy is, whether to print JSON, and where to print. */
export interface CommandContext {
  readonly json: boolean;
  readonly target: () => Promise<AdminTarget>;
  readonly print: (text: string) => void;
  /** Notes for people (a page was cut, a token is shown once); never part of the JSON on stdout. */
  readonly note: (text: string) => void;
}

/** Builds the context from the command's own and global options (commander passes the command last). */
export function contextOf(command: Command): CommandContext {
  const options = command.optsWithGlobals<TargetOptions & { json?: boolean; envFile?: string | boolean }>();
  return {
    json: options.json === true,
    target: () =>
      resolveTarget(options, { env: process.env, envFile: envFilePath(options.envFile, process.env) }),
    print: (text) => process.stdout.write(text),
    note: (text) => process.stderr.write(`${text}\n`),
  };
}
