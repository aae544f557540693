/**
 * `spendgate/langchain`: spendgate's budget-scoped tools for LangChain v1 agents (`createAgent`), and the
 * run's lifecycle as middleware plus a callback handler.
 *
 * `beforeAgent` issues the keys and `afterAgent` revokes them, but `afterAgent` runs on success only; the
 * callback handler revokes when the root run errors or is aborted. Use both. This adapter deliberately has
 * no `wrapToolCall`: a pass-through one turns any tool error into an aborted run.
 *
 * @example
 * ```ts
 * const run = createRun({ client, budget, tools: [sendSmsTool({ from: '+15017122661' })] });
 * const agent = createAgent({ model, tools: langchainTools(run), middleware: [spendgateMiddleware(run)] });
 * await agent.invoke({ messages }, { callbacks: [spendgateCallbackHandler(run)] });
 * ```
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { BaseCallbackHandler } from '@langchain/core/callbacks/base';
import { createMiddleware, tool, type ToolRuntime } from 'langchain';
import type { Run } from '../../src/run/index.js';
import type { RunTool, ToolResult } from '../../src/tools/index.js';

/**
 * The run's tools as LangChain tools. Each result reaches the model as JSON in the `ToolMessage` content,
 * and stays available unserialised as the message's `artifact`.
 */
export function langchainTools(run: Run) {
  return run.tools.map(toLangChainTool);
}

function toLangChainTool(runTool: RunTool) {
  return tool(
    async (input: unknown, runtime: ToolRuntime): Promise<[string, ToolResult]> => {
      const result = await runTool.execute(input, {
        // The call id seeds the idempotency key; without one, each attempt is its own call.
        toolCallId: runtime.toolCallId ?? randomUUID(),
        signal: runtime.signal,
      });
      return [JSON.stringify(result), result];
    },
    {
      name: runTool.name,
      description: runTool.description,
      schema: runTool.inputSchema,
      responseFormat: 'content_and_artifact',
    },
  );
}

/**
 * Middleware that issues the run's keys before the agent starts (a failure stops the agent before any
 * model call) and revokes them after it finishes successfully. Pair it with `spendgateCallbackHandler`
 * for the error and abort paths.
 */
export function spendgateMiddleware(run: Run) {
  return createMiddleware({
    name: 'spendgate',
    beforeAgent: async () => {
      await run.start();
    },
    afterAgent: async () => {
      await run.end();
    },
  });
}

/**
 * Ends the run when the root run of an invocation ends, on every path: success, a thrown error, an abort,
 * a recursion limit. The root is the first chain this handler sees, so it also works when the agent runs
 * inside a larger graph. Handlers are awaited, so the keys are revoked before `invoke()` settles.
 */
export class SpendgateCallbackHandler extends BaseCallbackHandler {
  name = 'spendgate';
  override awaitHandlers = true;
  readonly #run: Run;
  #rootRunId: string | undefined;

  constructor(run: Run) {
    super();
    this.#run = run;
  }

  override async handleChainStart(_chain: unknown, _inputs: unknown, runId: string): Promise<void> {
    this.#rootRunId ??= runId;
  }

  override async handleChainEnd(_outputs: unknown, runId: string): Promise<void> {
    if (runId === this.#rootRunId) await this.#run.end({ quiet: true });
  }

  override async handleChainError(_error: unknown, runId: string): Promise<void> {
    if (runId === this.#rootRunId) await this.#run.end({ quiet: true });
  }
}

/** A `SpendgateCallbackHandler` for one invocation: pass it in `invoke(input, { callbacks: [...] })`. */
export function spendgateCallbackHandler(run: Run): SpendgateCallbackHandler {
  return new SpendgateCallbackHandler(run);
}

export * from '../shared/core-exports.js';
