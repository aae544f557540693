import type { RunContext } from '@openai/agents';
import type { ApprovalDecision, RunTool } from '../../src/tools/index.js';

/**
 * One function tool's bridge between the SDK's `needsApproval` pause and `RunTool.execute`'s `approval`.
 *
 * The SDK records a person's decision by tool name and call id only, and runs any later call with an approved
 * id without asking again. A person approves the arguments they were shown, so this remembers them per call id
 * when the SDK asks, and reports `approved` only for a call with those exact arguments. A call the SDK never
 * paused (a reused id with other arguments, or `alwaysApprove` covering a call nobody saw) gets no decision:
 * the proxy then refuses it with `approval_required`, which ends the loop.
 */
export class ApprovalRequests {
  readonly #tool: RunTool;
  /** Call id → the arguments shown to the person, in a key-order-independent form. */
  readonly #shown = new Map<string, string>();

  constructor(tool: RunTool) {
    this.#tool = tool;
  }

  /** The tool's `needsApproval`: whether the SDK should pause this call, remembering what a person will see. */
  needsApproval(input: unknown, callId: string | undefined): boolean {
    const needed = this.#tool.needsApproval(input);
    const shown = canonicalJson(input);
    if (needed && callId !== undefined && shown !== undefined) this.#shown.set(callId, shown);
    return needed;
  }

  /** The person's decision on the call being executed; `undefined` when none covers these exact arguments. */
  decision(
    context: RunContext | undefined,
    call: { readonly callId: string; readonly arguments: string },
  ): ApprovalDecision | undefined {
    const shown = this.#shown.get(call.callId);
    if (shown === undefined || shown !== canonicalJson(parseJson(call.arguments))) return undefined;
    // Executed with a paused call's id: the SDK runs it only once approved; checked again rather than assumed.
    const approved = context?.isToolApproved({ toolName: this.#tool.name, callId: call.callId });
    return approved === true ? 'approved' : undefined;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** JSON with object keys sorted, so the same arguments compare equal whichever way they were parsed. */
function canonicalJson(value: unknown): string | undefined {
  return JSON.stringify(value, (_key, field: unknown) =>
    typeof field === 'object' && field !== null && !Array.isArray(field)
      ? Object.fromEntries(Object.entries(field).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : field,
  );
}
