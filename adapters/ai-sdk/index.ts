/**
 * `spendgate/ai-sdk`: spendgate's budget-scoped tools for the Vercel AI SDK, and wrappers around
 * `generateText` and `streamText` that issue the run's keys before the call and revoke them after it, on
 * finish, error or abort.
 *
 * `generateText` has no error callback (a failure just rejects), so its wrapper uses `try/finally`;
 * `streamText` ends in callbacks (`onFinish`, `onError`, `onAbort`), which its wrapper chains with yours.
 *
 * @module
 */
import { generateText, streamText, tool, type StreamTextResult, type ToolSet } from 'ai';
import { createRun, type Run, type RunOptions } from '../../src/run/index.js';
import type { RunTool } from '../../src/tools/index.js';

/**
 * The run's tools as an AI SDK `ToolSet`, keyed by tool name. A refusal reaches the model as an
 * `error-json` tool result, a success as `json`; both carry spendgate's structured result unchanged.
 */
export function aiSdkTools(run: Run): ToolSet {
  return Object.fromEntries(run.tools.map((runTool) => [runTool.name, toAiSdkTool(runTool)]));
}

function toAiSdkTool(runTool: RunTool) {
  return tool({
    description: runTool.description,
    inputSchema: runTool.inputSchema,
    execute: (input: unknown, { toolCallId, abortSignal }) =>
      runTool.execute(input, { toolCallId, signal: abortSignal }),
    toModelOutput: ({ output }) =>
      output.ok ? { type: 'json', value: output } : { type: 'error-json', value: output },
  });
}

type GenerateTextParams = Parameters<typeof generateText>[0];
type StreamTextParams = Parameters<typeof streamText>[0];

/** `generateText`'s options, plus the run to create around the call. */
export type GenerateTextWithBudgetOptions = GenerateTextParams & {
  /** The run's client, budget and spendgate tools; they are added to `tools`. */
  readonly spendgate: RunOptions;
};

/** `streamText`'s options, plus the run to create around the call. */
export type StreamTextWithBudgetOptions = StreamTextParams & {
  readonly spendgate: RunOptions;
};

/**
 * `generateText` under a budget: issues the run's keys, calls `generateText` with the spendgate tools
 * added, and revokes the keys when it resolves or rejects. If issuing fails, the model is never called.
 * The call is aborted if the run ends early (its `signal` or `timeoutMs`).
 *
 * @example
 * ```ts
 * const { result } = await generateTextWithBudget({
 *   model, prompt: 'Email the receipt to ada@example.com', stopWhen: stepCountIs(5),
 *   spendgate: { client, budget: { caps: { resend: { usdCap: 1 } } }, tools: [sendEmailTool({ from })] },
 * });
 * ```
 */
export async function generateTextWithBudget(
  options: GenerateTextWithBudgetOptions,
): Promise<{ readonly result: Awaited<ReturnType<typeof generateText>>; readonly run: Run }> {
  const { spendgate, ...params } = options;
  const run = createRun({ ...spendgate, signal: spendgate.signal ?? params.abortSignal });
  let result: Awaited<ReturnType<typeof generateText>>;
  try {
    await run.start();
    result = await generateText({
      ...params,
      tools: { ...params.tools, ...aiSdkTools(run) },
      abortSignal: combine(params.abortSignal, run.signal),
    });
  } catch (err) {
    await run.end({ quiet: true });
    throw err;
  }
  await run.end();
  return { result, run };
}

/**
 * `streamText` under a budget: issues the run's keys first, then starts the stream with the spendgate tools
 * added and ends the run in `onFinish`, `onError` and `onAbort` (yours are still called). A stream nobody
 * consumes never finishes: give the run a `timeoutMs`, or `await run.end()` yourself.
 */
export async function streamTextWithBudget(
  options: StreamTextWithBudgetOptions,
): Promise<{ readonly result: StreamTextResult<ToolSet, never>; readonly run: Run }> {
  const { spendgate, ...params } = options;
  const run = createRun({ ...spendgate, signal: spendgate.signal ?? params.abortSignal });
  await run.start();
  const end = () => run.end({ quiet: true });
  try {
    const result = streamText({
      ...params,
      tools: { ...params.tools, ...aiSdkTools(run) },
      abortSignal: combine(params.abortSignal, run.signal),
      onFinish: async (event) => {
        try {
          await params.onFinish?.(event);
        } finally {
          await end();
        }
      },
      onError: async (event) => {
        try {
          await params.onError?.(event);
        } finally {
          await end();
        }
      },
      onAbort: async (event) => {
        try {
          await params.onAbort?.(event);
        } finally {
          await end();
        }
      },
    });
    return { result, run };
  } catch (err) {
    await end();
    throw err;
  }
}

function combine(signal: AbortSignal | undefined, runSignal: AbortSignal): AbortSignal {
  return signal ? AbortSignal.any([signal, runSignal]) : runSignal;
}

export * from '../shared/core-exports.js';
