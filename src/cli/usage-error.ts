/** A mistake in how the CLI was called (a flag, an argument, the configuration): exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
