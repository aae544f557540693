/**
 * `npm run demo`: spendgate end to end, offline, with no keys of any kind.
 *
 * Starts the proxy in sandbox mode (Stripe, Twilio and Resend answered by in-process fakes), gives a billing
 * agent a $50 budget, and lets a runaway model try to charge $20 five times. The proxy refuses the third
 * charge before it leaves, and spendgate ends the agent's loop right there. Then it prints what happened:
 * the calls the agent made, the refusal, how the run ended, the spend against the cap, and the audit log.
 */
import { Agent, setTracingDisabled } from '@openai/agents';
import { usdToMicros } from 'spendgate';
import { chargeCustomerTool, createSpendgateClient, runAgentWithBudget } from 'spendgate/openai-agents';
import { startSandboxProxy } from 'spendgate/server';
import { OfflineOpenAIModel } from './offline/openai-model.js';
import { createScript } from './offline/script.js';
import { printStop, printToolCall, usd } from './shared/print.js';

setTracingDisabled(true);
const sandbox = await startSandboxProxy();
const client = createSpendgateClient({ baseUrl: sandbox.url, adminToken: sandbox.adminToken });
const label = `demo-run-${Date.now()}`;

try {
  console.log(
    `spendgate sandbox proxy on ${sandbox.url} (vendors are in-process fakes; nothing leaves this machine)\n`,
  );
  console.log(
    `A billing agent gets a $50 budget. Its model has gone rogue: it wants to charge cus_ada $20, five times.\n`,
  );

  const charge = {
    name: 'charge_customer',
    args: { customer: 'cus_ada', amount: 2000, currency: 'usd', description: 'Top-up' },
  };
  const model = new OfflineOpenAIModel(
    createScript({ calls: Array.from({ length: 5 }, () => charge), stopOnRefusal: false }),
  );
  const agent = new Agent({ name: 'billing', instructions: 'Charge the customer.', model });
  // The model ignores refusals; spendgate does not: the first budget refusal ends the run.
  const { result, run, spendgate } = await runAgentWithBudget({
    client,
    agent,
    input: 'Charge cus_ada $20. Then do it again. And again.',
    budget: { label, ttl: '5m', caps: { stripe: { usdCap: 50 } } },
    tools: [chargeCustomerTool()],
    runOptions: { maxTurns: 10 },
  });

  console.log('Calls the agent made, and what the model was told:');
  for (const item of result.newItems) {
    if (item.type === 'tool_call_output_item' && item.rawItem.type === 'function_call_result') {
      printToolCall(item.rawItem.name, charge.args, item.output);
    }
  }
  console.log(`\nHow the run ended: ${String(result.finalOutput)}`);
  printStop(spendgate.stoppedBy);
  console.log('');

  const key = await client.getKey(run.keys[0]?.id ?? '');
  const cap = usdToMicros(key.usdCap ?? 0);
  const spent = usdToMicros(key.spentUsd);
  const charges = sandbox.fakes.stripe.requests.filter(
    (r) => r.method === 'POST' && r.path === '/v1/payment_intents',
  );
  console.log('Spend against the cap:');
  console.log(
    `  spent ${usd(spent)} of ${usd(cap)} (${usd(cap - spent)} left); ${key.calls} calls allowed, ${key.deniedCalls} refused`,
  );
  console.log(`  charges that reached Stripe: ${charges.length}`);
  console.log(`  key ${key.id} after the run: ${key.status}\n`);

  const audit = await client.audit({ label });
  console.log(`Audit log (GET /v1/audit?label=${label}), oldest first:`);
  console.log(
    `  ${'time'.padEnd(24)} ${'call'.padEnd(30)} ${'decision'.padEnd(8)} ${'code'.padEnd(14)} cost`,
  );
  for (const row of [...audit.data].reverse()) {
    const cost = row.costUsdSettled ?? row.costUsdReserved;
    console.log(
      `  ${row.ts.toISOString().padEnd(24)} ${`${row.method} ${row.path}`.padEnd(30)} ${row.decision.padEnd(8)} ${(row.code ?? '-').padEnd(14)} ${cost === null ? '-' : usd(usdToMicros(cost))}`,
    );
  }
} finally {
  await sandbox.close();
}
