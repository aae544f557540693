import type { RunContext, Runner } from '@openai/agents';
import type { Run } from '../../src/run/index.js';
import { holdsToolsOf } from './tools.js';

/**
 * The event form, for code that drives its own `Runner`: starts `run` on `agent_start` and ends it on
 * `agent_end`, for the one `runner.run()` whose agent holds this run's tools (from `openaiAgentsTools(run)`).
 * A `Runner` is often shared; the hooks ignore every other run on it, so one run's end never revokes
 * another's keys. Listeners are not awaited by the SDK, so the tools wait for the start before their first call.
 *
 * `agent_end` does not fire when a run throws or is aborted: pair this with `finally { await run.end() }`
 * (or `await using`). Returns a function that detaches the listeners.
 */
export function attachRunHooks(runner: Runner, run: Run): () => void {
  // The RunContext of the `runner.run()` this run belongs to: the same object for all its turns and handoffs.
  let own: RunContext | undefined;
  const onStart = (context: RunContext, agent: { readonly tools: readonly object[] }) => {
    if (own === undefined && holdsToolsOf(agent, run)) own = context;
    // A failed start leaves the run `failed`; its tools then refuse with a structured result.
    if (context === own) run.start().catch(() => undefined);
  };
  const onEnd = (context: RunContext) => {
    if (context === own) void run.end({ quiet: true });
  };
  runner.on('agent_start', onStart);
  runner.on('agent_end', onEnd);
  return () => {
    runner.off('agent_start', onStart);
    runner.off('agent_end', onEnd);
  };
}
