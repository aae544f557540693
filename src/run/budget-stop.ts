import { formatUsd, usdToMicros } from '../money.js';
import { STOP_REASONS } from '../tools/refusal-result.js';
import { isBudgetStop, type BudgetStopCode, type BudgetStopResult } from '../tools/stop-codes.js';

/** The budget refusal that ended an agent loop: which tool, which code, what was spent and what is left. */
export interface BudgetStop {
  /** The tool whose call was refused. */
  readonly tool: string;
  readonly toolCallId: string;
  readonly code: BudgetStopCode;
  /** Spend on the tool's key when it was refused; `null` when it could not be read. */
  readonly spentUsd: number | null;
  /** What the key had left when the call was refused; `null` when unknown or uncapped. */
  readonly remainingUsd: number | null;
  /** The refusal as the model saw it. */
  readonly refusal: BudgetStopResult;
  /** One sentence for the user saying all of the above; it is also the run's final output. */
  readonly message: string;
}

/** One tool call's output, as a framework hands it back after a step. */
export interface ToolOutput {
  readonly toolName: string;
  readonly toolCallId: string;
  readonly output: unknown;
}

/** The first non-retryable budget refusal among one step's tool outputs, or `null`. */
export function budgetStopIn(outputs: Iterable<ToolOutput>): BudgetStop | null {
  for (const { toolName, toolCallId, output } of outputs) {
    if (isBudgetStop(output)) return budgetStop(toolName, toolCallId, output);
  }
  return null;
}

function budgetStop(tool: string, toolCallId: string, refusal: BudgetStopResult): BudgetStop {
  const spentUsd = usdOrNull(refusal.spent_usd);
  const remainingUsd = usdOrNull(refusal.remaining_budget_usd);
  const reason = STOP_REASONS[refusal.error] ?? 'The call was refused';
  const amounts = [
    spentUsd === null ? null : `Spent ${usd(spentUsd)}`,
    remainingUsd === null ? null : `${usd(remainingUsd)} remaining`,
  ].filter((part) => part !== null);
  const message = `spendgate ended the run: ${tool} was refused with ${refusal.error}. ${reason}.${amounts.length > 0 ? ` ${amounts.join(', ')}.` : ''}`;
  return { tool, toolCallId, code: refusal.error, spentUsd, remainingUsd, refusal, message };
}

function usdOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null;
}

function usd(value: number): string {
  try {
    return formatUsd(usdToMicros(value));
  } catch {
    return `$${value}`;
  }
}

/** Whether an adapter ends the agent loop after a non-retryable budget refusal. */
export interface StopPolicy {
  /**
   * End the loop after the step in which a tool got a non-retryable budget refusal (`cap_exhausted`,
   * `key_revoked`, `key_expired`, `per_call_limit_exceeded`, `endpoint_not_allowed`, `key_mode_mismatch`,
   * `approval_required`, `approval_denied`, `approval_invalid`: see `BUDGET_STOP_CODES`).
   * Turn it off for an agent that should carry on with its other tools.
   * @default true
   */
  readonly stopOnRefusal?: boolean;
}

/**
 * One invocation's stop decision: adapters feed it each step's tool outputs, and it answers whether the loop
 * must end. It remembers the first refusal that ended it, for the run's result.
 */
export class LoopStop {
  readonly #enabled: boolean;
  #stoppedBy: BudgetStop | null = null;

  constructor(policy: StopPolicy = {}) {
    this.#enabled = policy.stopOnRefusal ?? true;
  }

  /** The refusal that ended the loop, or `null` while it has not ended for a refusal. */
  get stoppedBy(): BudgetStop | null {
    return this.#stoppedBy;
  }

  /** Inspects one step's outputs; returns the stop when the loop must end now. */
  check(outputs: Iterable<ToolOutput>): BudgetStop | null {
    if (!this.#enabled) return null;
    this.#stoppedBy ??= budgetStopIn(outputs);
    return this.#stoppedBy;
  }
}

/**
 * A budget refusal ended a run that cannot end with a sentence: an agent whose output must match a schema.
 * `code` is the refusal's code; `stop` says which tool, what was spent and what is left.
 */
export class BudgetStopError extends Error {
  readonly code: BudgetStopCode;
  readonly stop: BudgetStop;

  constructor(stop: BudgetStop) {
    super(stop.message);
    this.name = 'BudgetStopError';
    this.code = stop.code;
    this.stop = stop;
  }
}
