import type { ProxyConfig } from '../config/schema.js';
import { startProxy } from '../server/start.js';
import { buildVendors } from '../vendors/registry.js';

/** Runs the proxy until SIGTERM or SIGINT, then drains in-flight calls and closes the ledger. */
export async function serve(config: ProxyConfig): Promise<void> {
  const proxy = await startProxy({ config });
  const vendors = [...buildVendors(config).values()].map(
    (v) => `${v.vendor.name}=${v.secrets ? 'configured' : 'not configured'}`,
  );
  const store = /^postgres/i.test(config.SPENDGATE_DB) ? 'postgres' : config.SPENDGATE_DB;
  process.stdout.write(`spendgate listening on ${proxy.url}\n`);
  process.stdout.write(`spendgate vendors: ${vendors.join(', ')}; ledger: ${store}\n`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      process.stdout.write(`spendgate received ${signal}; finishing in-flight calls\n`);
      proxy.close().then(resolve, (err: unknown) => {
        process.stderr.write(`spendgate: error while stopping: ${String(err)}\n`);
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  process.stdout.write('spendgate stopped\n');
}
