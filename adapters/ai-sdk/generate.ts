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
import { stopCondition, withBudgetStop } from './stop.js';
import { aiSdkTools } from './tools.js';

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
        ...params,
        tools: { ...params.tools, ...aiSdkTools(run) },
        stopWhen: withBudgetStop(
          params.stopWhen,
          stopCondition((outputs) => stop.check(outputs)),
        ),
        abortSignal: callSignal(run, params.abortSignal),
      }),
    { onRunEnd, stoppedBy: () => stop.stoppedBy },
  );
  return { result, run, spendgate: { stoppedBy: stop.stoppedBy } };
}
