/**
 * A background job with its own vault key: a nightly renewal run that charges subscriptions with the
 * official Stripe SDK, pointed at the proxy. The job never sees the Stripe secret; its key can only create
 * PaymentIntents, at most $25 each and $50 in total, and is revoked when the job ends however it ends.
 *
 *   npx tsx examples/background-job.ts
 *
 * Offline by default (sandbox proxy); set `SPENDGATE_URL` and `SPENDGATE_ADMIN_TOKEN` to use your own proxy.
 */
import Stripe from 'stripe';
import { SpendgateError } from 'spendgate';
import { connectProxy } from './shared/connect.js';
import { printKeySpend } from './shared/print.js';

const renewals = [
  { customer: 'cus_ada', amount: 2000, plan: 'pro' },
  { customer: 'cus_grace', amount: 2000, plan: 'pro' },
  { customer: 'cus_alan', amount: 2000, plan: 'pro' },
];

const proxy = await connectProxy();
const day = new Date().toISOString().slice(0, 10);
try {
  const key = await proxy.client.issueKey({
    vendor: 'stripe',
    usdCap: 50,
    maxUsdPerCall: 25,
    allowedEndpoints: ['POST /v1/payment_intents'],
    // Long enough for the job; if the process dies, the key lapses on its own.
    expiresIn: '15m',
    label: `job-renewals-${day}`,
    metadata: { job: 'renewals' },
  });
  try {
    // The Stripe SDK cannot add a path prefix, so it calls `/v1/...` and the proxy routes by the key's vendor.
    const url = new URL(proxy.proxyUrl);
    const stripe = new Stripe(key.token, {
      host: url.hostname,
      port: Number(url.port),
      protocol: url.protocol === 'https:' ? 'https' : 'http',
      maxNetworkRetries: 2, // retries reuse the SDK's idempotency key: a retry cannot charge twice
    });
    console.log(`Renewal job ${key.label} with key ${key.id} via proxy ${proxy.proxyUrl}`);
    for (const renewal of renewals) {
      try {
        const intent = await stripe.paymentIntents.create(
          {
            customer: renewal.customer,
            amount: renewal.amount,
            currency: 'usd',
            confirm: true,
            off_session: true,
            description: `Renewal ${renewal.plan} ${day}`,
          },
          { idempotencyKey: `renewal-${renewal.customer}-${day}` },
        );
        console.log(`  ${renewal.customer}: ${intent.id} ${intent.status}`);
      } catch (err) {
        if (err instanceof Stripe.errors.StripeError && err.code === 'cap_exhausted') {
          // A budget refusal is final: stop the job rather than skip ahead and try the next customer.
          console.log(`  ${renewal.customer}: refused (${err.code}): ${err.message}. Stopping the job.`);
          break;
        }
        throw err;
      }
    }
    await printKeySpend(proxy.client, key.id);
  } finally {
    await proxy.client.revokeKey(key.id);
  }
  const audit = await proxy.client.audit({ label: `job-renewals-${day}` });
  for (const row of audit.data)
    console.log(`  audit: ${row.method} ${row.path} ${row.decision}${row.code ? ` (${row.code})` : ''}`);
  console.log(`  key status: ${(await proxy.client.getKey(key.id)).status}`);
} catch (err) {
  console.error(SpendgateError.isInstance(err) ? `spendgate refused: ${err.code}: ${err.message}` : err);
  process.exitCode = 1;
} finally {
  await proxy.close();
}
