import type { ProxyConfig } from '../config/schema.js';
import { startProxy } from '../server/start.js';
import { watchNpmParent } from './parent-watch.js';

/** Runs the proxy until SIGTERM or SIGINT, then drains in-flight calls and closes the ledger. */
export async function serve(config: ProxyConfig): Promise<void> {
  const proxy = await startProxy({ config });
  // A closed stdout (the terminal or npm gone) must not crash the drain with an unhandled EPIPE.
  process.stdout.on('error', () => undefined);
  // The proxy's own banner: in sandbox mode it says SANDBOX and lists the faked vendors.
  for (const line of proxy.banner) process.stdout.write(`${line}\n`);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      unwatch();
      process.stdout.write(`spendgate received ${signal}; finishing in-flight calls\n`);
      proxy.close().then(resolve, (err: unknown) => {
        process.stderr.write(`spendgate: error while stopping: ${String(err)}\n`);
        resolve();
      });
    };
    const unwatch = watchNpmParent(() => stop('parent exit'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  process.stdout.write('spendgate stopped\n');
}
