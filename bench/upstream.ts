// A fake Stripe in its own process, so the load generator and the upstream don't share an event loop.
import { createFakeStripe, serveFake } from '../src/testing/index.js';

const fake = createFakeStripe({ secretKey: process.env.BENCH_STRIPE_SECRET ?? 'sk_test_bench' });
const served = await serveFake(fake);
process.stdout.write(`upstream ${served.url}\n`);
process.on('SIGTERM', () => {
  void served.close().then(() => process.exit(0));
});
