/**
 * Under `npm start` or `npx`, npm runs the command through `sh -c`, and on SIGTERM npm and dash both exit
 * without passing the signal on: the server would be left running as an orphan. Launched that way (npm sets
 * `npm_lifecycle_event` or `npm_command`), the server treats its parent going away like a SIGTERM. Anywhere
 * else (a shell's `nohup … &`, systemd, a container) an orphaned server is intended, so nothing is watched.
 */
export function watchNpmParent(
  onGone: () => void,
  options: { env?: Readonly<Record<string, string | undefined>>; intervalMs?: number } = {},
): () => void {
  const env = options.env ?? process.env;
  if (!env.npm_lifecycle_event && !env.npm_command) return () => undefined;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onGone();
  }, options.intervalMs ?? 500);
  timer.unref();
  return () => clearInterval(timer);
}
