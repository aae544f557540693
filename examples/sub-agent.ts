/**
 * A lead agent that hands work to a billing sub-agent, under one $3 budget for the whole run (OpenAI Agents).
 *
 *   npx tsx examples/sub-agent.ts
 *
 * Offline: scripted models, and a sandbox proxy whose vendors are in-process fakes (with `SPENDGATE_URL` and
 * `SPENDGATE_ADMIN_TOKEN` set, a proxy you run yourself is used). The lead charges $1, then calls the billing
 * sub-agent through `subAgentTool`. That call runs under a child of the lead's run, whose budget is a child of
 * the lead's: the sub-agent's model is a runaway that charges $1 whatever it is told, and its own cap is $10,
 * yet it is stopped when the lead's $3 is used up. Both runs' budgets and keys are revoked at the end.
 */
import { Agent, Runner, setTracingDisabled } from '@openai/agents';
import {
  budgetToolUseBehavior,
  chargeCustomerTool,
  openaiAgentsTools,
  subAgentTool,
  withRun,
  type RunEnd,
} from 'spendgate/openai-agents';
import { OfflineOpenAIModel } from './offline/openai-model.js';
import { createScript } from './offline/script.js';
import { connectProxy } from './shared/connect.js';
import { printKeySpend, printStop } from './shared/print.js';

setTracingDisabled(true); // offline: nothing to upload to
const order = (n: number) => ({
  customer: 'cus_ada',
  amount: 100,
  currency: 'usd',
  description: `Order ${n}`,
});
const charges = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ name: 'charge_customer', args: order(from + i) }));

const proxy = await connectProxy();
try {
  const children: RunEnd[] = [];
  const { result, run } = await withRun(
    {
      client: proxy.client,
      budget: { label: `lead-${Date.now()}`, ttl: '10m', usdCap: 3, caps: {} },
      tools: [chargeCustomerTool()],
    },
    async (run) => {
      const billing = subAgentTool({
        run,
        agent: new Agent({
          name: 'billing',
          instructions: 'Bill every order you are given with charge_customer.',
          // A runaway: it goes on charging after a refusal, which is what the budget is for.
          model: new OfflineOpenAIModel(createScript({ calls: charges(2, 8), stopOnRefusal: false })),
        }),
        description: 'Bills a batch of orders.',
        child: { tools: [chargeCustomerTool()], usdCap: 10 },
        runOptions: { maxTurns: 10 },
        onRunEnd: (end) => {
          children.push(end);
        },
      });
      const lead = new Agent({
        name: 'lead',
        instructions: 'Bill order 1 yourself, then hand orders 2 to 8 to the billing sub-agent.',
        model: new OfflineOpenAIModel(
          createScript({
            calls: [...charges(1, 1), { name: 'billing', args: { input: 'Bill orders 2 to 8.' } }],
            stopOnRefusal: true,
          }),
        ),
        tools: [...openaiAgentsTools(run), billing],
        toolUseBehavior: budgetToolUseBehavior(),
      });
      const ran = await new Runner().run(lead, 'Bill orders 1 to 8.', { signal: run.signal, maxTurns: 10 });
      return { result: ran, run };
    },
  );

  console.log(`Lead: ${String(result.finalOutput)}`);
  for (const child of children) {
    console.log(`Sub-agent run ${child.run.id} (${child.run.label}):`);
    printStop(child.stoppedBy);
    for (const key of child.run.keys) await printKeySpend(proxy.client, key.id);
  }
  console.log(`Lead run ${run.id}:`);
  for (const key of run.keys) await printKeySpend(proxy.client, key.id);
  const budget = await proxy.client.getBudget(run.budgetId ?? '');
  console.log(
    `  budget ${budget.id}: spent $${budget.spentUsd} of $${budget.usdCap}, status ${budget.status}`,
  );
} finally {
  await proxy.close();
}
