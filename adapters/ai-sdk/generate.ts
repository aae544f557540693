import type { generateText } from 'ai';
import {
  callSignal,
  createRun,
  driveRun,
  LoopStop,
  type BudgetedResult,
  type LoopOptions,
  type RunOptions,
} from '../../src/run/index.js';
import { ai } from './framework.js';
import { budgetedCall } from './budgeted-call.js';

type GenerateTextParams = Parameters<typeof generateText>[0];
type GenerateTextResult = Awaited<ReturnType<typeof generateText>>;

/** The run around one call: its client, budget and spendgate tools, plus the loop options. */
export type SpendgateCallOptions = RunOptions & LoopOptions;

/** `generateText`'s options, plus the run to create around the call. */
export type GenerateTextWithBudgetOptions = GenerateTextParams & {
  /** The run's client, budget and spendgate tools; the tools are added to `tools`. */
  readonly spendgate: SpendgateCallOptions;
};

/**
 * `generateText` under a budget: issues the run's keys, calls `generateText` with the spendgate tools added,
 * and revokes the keys when it resolves or rejects. If issuing fails, the model is never called. The call
 * is aborted if the run ends early (its `signal` or `timeoutMs`). After a non-retryable budget refusal the
 * loop stops (a `stopWhen` condition added to yours), with the refusal in `spendgate.stoppedBy`; turn that
 * off with `spendgate.stopOnRefusal: false`.
 *
 * A call above the budget's `approvalAboveUsd` pauses through the SDK's tool approval: the result holds a
 * `tool-approval-request` (see `approvalRequests`). The continuation (the same messages plus the person's
 * `tool-approval-response`, see `approvalResponses`) is a new call, hence a new run with new keys: the
 * approved call is sent there, once, with a grant obtained through `client`, and those keys are revoked as
 * well. A denial sends nothing and ends the loop after the model's reply.
 *
 * @example
 * ```ts
 * const { result, spendgate } = await generateTextWithBudget({
 *   model, prompt: 'Email the receipt to ada@example.com', stopWhen: stepCountIs(5),
 *   spendgate: { client, budget: { caps: { resend: { usdCap: 1 } } }, tools: [sendEmailTool({ from })] },
 * });
 * console.log(spendgate.stoppedBy?.message ?? result.text);
 * ```
 */
export async function generateTextWithBudget(
  options: GenerateTextWithBudgetOptions,
): Promise<BudgetedResult<GenerateTextResult>> {
  const { spendgate, ...params } = options;
  const { stopOnRefusal, onRunEnd, ...runOptions } = spendgate;
  const run = createRun({ ...runOptions, signal: runOptions.signal ?? params.abortSignal });
  const stop = new LoopStop({ stopOnRefusal });
  const result = await driveRun(
    run,
    () =>
      ai.generateText({
        ...budgetedCall(params, run, stop),
        abortSignal: callSignal(run, params.abortSignal),
      }),
    { onRunEnd, stoppedBy: () => stop.stoppedBy },
  );
  return { result, run, spendgate: { stoppedBy: stop.stoppedBy } };
}
