import type { Dispatcher } from 'undici';
import type { SpendgateClient } from '../client/admin-client.js';
import { isAboveThreshold } from '../tools/approval.js';
import { resultForInactiveRun } from '../tools/outcome.js';
import type { RunTool, SpendTool, ToolCredential } from '../tools/types.js';

/** What a bound tool learns from its run at call time: the key to use, or why there is none. */
export type CredentialLookup =
  { readonly credential: ToolCredential } | { readonly inactive: 'not_started' | 'failed' | 'ended' };

export interface BindToolOptions {
  readonly tool: SpendTool;
  /** Asked on every call, so a tool built before its run started (as frameworks need) still gets the key. */
  readonly lookup: (vendor: string) => Promise<CredentialLookup>;
  readonly client: SpendgateClient;
  readonly proxyUrl: string;
  readonly timeoutMs: number;
  readonly dispatcher?: Dispatcher | undefined;
  /** The run's approval threshold for this tool's vendor, in USD; `null` when none applies. */
  readonly approvalAboveUsd: number | null;
}

/**
 * Binds a tool to a run: each call looks up the run's key for the tool's vendor and runs the tool under it.
 * Outside the run's lifetime nothing is sent and the model gets a structured refusal.
 */
export function bindTool(options: BindToolOptions): RunTool {
  const { tool, lookup, client } = options;
  return {
    name: tool.name,
    description: tool.description,
    inputSchema: tool.inputSchema,
    vendor: tool.vendor,
    annotations: tool.annotations,
    approvalAboveUsd: options.approvalAboveUsd,
    statedUsd: (input) => tool.statedUsd(input),
    needsApproval: (input) => isAboveThreshold(tool.statedUsd(input), options.approvalAboveUsd),
    async execute(input, call) {
      const found = await lookup(tool.vendor);
      if ('inactive' in found) return resultForInactiveRun(found.inactive);
      const { credential } = found;
      // A read failure must not turn a completed charge into an error: the budget is then just unknown.
      const spend = () =>
        client.getKey(credential.keyId).then(
          (key) => ({ spentUsd: key.spentUsd, remainingUsd: key.remainingUsd, reservedUsd: key.reservedUsd }),
          () => null,
        );
      return tool.execute(input, {
        toolCallId: call.toolCallId,
        signal: call.signal,
        credential,
        proxyUrl: options.proxyUrl,
        timeoutMs: options.timeoutMs,
        dispatcher: options.dispatcher,
        remainingUsd: () => spend().then((read) => read?.remainingUsd ?? null),
        spend,
        approval: call.approval,
        // The run's admin client mints the grant; the model only ever holds the vault key.
        approveCall: (approvalId) =>
          client.approveCall(approvalId, { signal: call.signal }).then((granted) => granted.grant),
      });
    },
  };
}

/** A credential whose token `JSON.stringify` does not reveal. */
export function toolCredential(fields: { keyId: string; vendor: string; token: string }): ToolCredential {
  const { keyId, vendor } = fields;
  return { ...fields, toJSON: () => ({ keyId, vendor, token: '[redacted]' }) };
}
