// A fake Stripe in its own process, so the load generator and the upstream don't share an event loop.
import { createFakeStripe, serveFake } from '../src/testing/index.js';

const fake = createFakeStripe({ secretKey: process.env.BENCH_STRIPE_SECRET ?? 'sk_test_bench' });
// Between phases (nothing in flight): forget the objects, idempotency records and request log of the phase
// before, so every phase meets an upstream of the same size. Set before the ready line, which the bench may
// answer with this signal at once.
process.on('SIGUSR2', () => fake.reset());
const served = await serveFake(fake);
process.on('SIGTERM', () => {
  void served.close().then(() => process.exit(0));
});
process.stdout.write(`upstream ${served.url}\n`);
