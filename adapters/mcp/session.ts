import type { SpendgateClient } from '../../src/client/index.js';
import { SpendgateError } from '../../src/errors/index.js';
import { createRun, type Run, type RunBudget, type RunKey } from '../../src/run/index.js';
import {
  resultForInactiveRun,
  resultForUnexpectedError,
  type RunTool,
  type SpendTool,
  type ToolCall,
  type ToolResult,
} from '../../src/tools/index.js';
import type { IssuerCheck } from './issuer-auth.js';

/** A session's budget: the run's, minus the label, which is always `mcp-<session id>`. */
export type SessionBudget = Omit<RunBudget, 'label'>;

/** Why a session ended. Every one of them revokes the session's keys. */
export type SessionCloseReason =
  'client_closed' | 'client_disconnected' | 'transport_closed' | 'idle_timeout' | 'shutdown';

export interface McpSessionOptions {
  /** The MCP session id (Streamable HTTP's `Mcp-Session-Id`, or a generated one for stdio). */
  readonly id: string;
  readonly client: SpendgateClient;
  readonly budget: SessionBudget;
  readonly tools: readonly SpendTool[];
  /** @default client.baseUrl */
  readonly proxyUrl?: string | undefined;
  /** Closes the session after this long with no traffic and no call in flight. */
  readonly idleTimeoutMs: number;
  /** Called once, after the keys are revoked: where the transport is closed. */
  readonly onClosed?: ((reason: SessionCloseReason) => void) | undefined;
  /** One line per lifecycle event, never a secret. */
  readonly log?: ((line: string) => void) | undefined;
  /**
   * Checked before every tool call, for a session whose `client` holds a credential that may be withdrawn
   * while the session is open (an MCP client's own issuer token). `refused` ends the session's spending
   * for good: its keys are revoked and every later call gets a non-retryable `key_revoked`. `unknown`
   * refuses that one call, sending nothing.
   */
  readonly checkAuthority?: ((signal?: AbortSignal) => Promise<IssuerCheck>) | undefined;
  /**
   * Revokes the session's keys when `client` no longer can (its issuer token was revoked): the server's
   * own client, by the session's `mcp_session_id` metadata. Without it, such keys lapse at their TTL.
   */
  readonly fallbackClient?: SpendgateClient | undefined;
}

/**
 * One MCP session's spending authority: one run, started when the session initialises (or at its first
 * call), whose keys are revoked when the session closes, for whatever reason. A run whose start failed (the
 * proxy was down) is replaced on the next call, so one bad moment does not end the session's usefulness.
 */
export class McpSession {
  readonly id: string;
  /** The label on every key of the session, for `GET /v1/keys?label=` and `GET /v1/audit?label=`. */
  readonly label: string;

  readonly #options: McpSessionOptions;
  #run: Run | undefined;
  #starting: Promise<Run> | undefined;
  #inFlight = 0;
  #idleTimer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  /** Set once `checkAuthority` was refused: the session spends nothing more. */
  #authorityLost: Promise<string> | undefined;
  #revoking: Promise<string> | undefined;

  constructor(options: McpSessionOptions) {
    this.#options = options;
    this.id = options.id;
    this.label = `mcp-${options.id}`;
    // Armed from the start: a client that connects and never says anything still lets go of its session.
    this.#armIdleTimer();
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** Issues the session's keys, once; after a failed start, tries again. Rejects once the session is closing. */
  start(): Promise<Run> {
    if (this.#closing) return Promise.reject(new Error(`MCP session ${this.id} is closed`));
    if (this.#authorityLost) {
      return Promise.reject(new Error(`MCP session ${this.id} lost its spending authority`));
    }
    if (this.#run?.state !== 'failed' && this.#starting) return this.#starting;
    const { client, budget, tools, proxyUrl, log } = this.#options;
    const run = createRun({
      client,
      tools,
      proxyUrl,
      budget: { ...budget, label: this.label, metadata: { ...budget.metadata, mcp_session_id: this.id } },
    });
    this.#run = run;
    this.#starting = run.start();
    this.#starting.then(
      () => log?.(`session ${this.id}: keys issued (${run.keys.map((k) => k.vendor).join(', ')})`),
      (err: unknown) => log?.(`session ${this.id}: could not issue keys (${message(err)})`),
    );
    return this.#starting;
  }

  /** Runs one spend tool under the session's keys. Never throws for a spend outcome. */
  call(name: string, input: unknown, call: ToolCall): Promise<ToolResult> {
    return this.withTool(name, (tool) => tool.execute(input, call), call.signal);
  }

  /**
   * Hands `body` the session's bound tool `name` (starting the run if needed). The session counts as busy
   * until `body` settles, so a person taking minutes to approve a call does not idle the session out.
   */
  withTool(
    name: string,
    body: (tool: RunTool) => Promise<ToolResult>,
    signal?: AbortSignal,
  ): Promise<ToolResult> {
    return this.#busy(signal, async () => {
      // A failed start is not thrown here: the run's own tools answer it with `run_not_started`.
      await this.start().catch(() => undefined);
      const tool = this.#run?.tools.find((candidate) => candidate.name === name);
      if (!tool) return resultForUnexpectedError(name);
      return body(tool);
    });
  }

  /**
   * Hands `body` the active run (starting it if needed); a run that could not start, or a session that has
   * ended, is answered without calling it.
   */
  withRun(body: (run: Run) => Promise<ToolResult>, signal?: AbortSignal): Promise<ToolResult> {
    return this.#busy(signal, async () => {
      const run = await this.start().catch(() => undefined);
      if (run?.state !== 'active') return resultForInactiveRun(this.#inactive() ? 'ended' : 'failed');
      return body(run);
    });
  }

  /** The keys of the active run (starting it if needed), or `null` when it has none. */
  async activeKeys(): Promise<readonly RunKey[] | null> {
    if (this.#inactive()) return null;
    this.#enter();
    try {
      const run = await this.start().catch(() => undefined);
      return run?.state === 'active' ? run.keys : null;
    } finally {
      this.#leave();
    }
  }

  /** Whether the session has ended, or lost its authority: either way it spends nothing more. */
  #inactive(): boolean {
    return this.#closing !== undefined || this.#authorityLost !== undefined;
  }

  /** Runs `body` with the session counted busy, once the session's authority is confirmed. */
  async #busy(signal: AbortSignal | undefined, body: () => Promise<ToolResult>): Promise<ToolResult> {
    if (this.#inactive()) return resultForInactiveRun('ended');
    this.#enter();
    try {
      const refusal = await this.#confirmAuthority(signal);
      return refusal ?? (await body());
    } finally {
      this.#leave();
    }
  }

  /** `null` when the call may go ahead; otherwise what the model gets instead, nothing having been sent. */
  async #confirmAuthority(signal: AbortSignal | undefined): Promise<ToolResult | null> {
    const check = this.#options.checkAuthority;
    if (!check) return null;
    const answer = await check(signal);
    if (answer.status === 'valid') return this.#inactive() ? resultForInactiveRun('ended') : null;
    if (answer.status === 'unknown') {
      return {
        ok: false,
        error: answer.code,
        retryable: answer.retryable,
        message: `spendgate could not confirm this session's spending authority (${answer.code}); nothing was sent.`,
      };
    }
    this.#authorityLost ??= this.#loseAuthority(answer.code);
    await this.#authorityLost;
    return resultForInactiveRun('ended');
  }

  async #loseAuthority(code: string): Promise<string> {
    const outcome = await this.#revokeKeys();
    this.#options.log?.(`session ${this.id}: the proxy refused its token (${code}); ${outcome}`);
    return outcome;
  }

  /** Records traffic on the session: the idle clock starts again. */
  touch(): void {
    if (this.#inFlight === 0) this.#armIdleTimer();
  }

  /** Revokes the session's keys, then calls `onClosed`. Idempotent: every call gets the same promise. */
  close(reason: SessionCloseReason): Promise<void> {
    this.#closing ??= this.#close(reason);
    return this.#closing;
  }

  async #close(reason: SessionCloseReason): Promise<void> {
    clearTimeout(this.#idleTimer);
    const outcome = await this.#revokeKeys();
    this.#options.log?.(`session ${this.id}: closed (${reason}); ${outcome}`);
    this.#options.onClosed?.(reason);
  }

  /** Ends the run, once; what happened, for the log. Never throws: the keys' TTL is the backstop. */
  #revokeKeys(): Promise<string> {
    this.#revoking ??= this.#endRun();
    return this.#revoking;
  }

  async #endRun(): Promise<string> {
    // A start in flight settles first, so that what it issues is revoked too.
    await this.#starting?.catch(() => undefined);
    const run = this.#run;
    if (!run || run.state === 'failed') return 'no keys were active';
    try {
      await run.end();
      return 'keys revoked';
    } catch (err) {
      const fallback = this.#options.fallbackClient;
      if (!fallback) return `revoking failed (${message(err)}); the keys lapse at their TTL`;
      const why = SpendgateError.isInstance(err) ? err.code : 'an error';
      return this.#revokeWith(fallback, run).then(
        (revoked) =>
          `the session's own token could not revoke its keys (${why}); the server's token revoked ${revoked}`,
        (again: unknown) =>
          `revoking failed (${message(err)}), and with the server's token (${message(again)}); the keys lapse at their TTL`,
      );
    }
  }

  /** The session's budget (if any) and every key carrying its `mcp_session_id`, with another client. */
  async #revokeWith(client: SpendgateClient, run: Run): Promise<number> {
    if (run.budgetId !== undefined) {
      await client.revokeBudget(run.budgetId).catch((err: unknown) => {
        if (!(SpendgateError.isInstance(err) && err.code === 'not_found')) throw err;
      });
    }
    const { revoked } = await client.revokeKeys({ metadata: { mcp_session_id: this.id } });
    return revoked;
  }

  #enter(): void {
    this.#inFlight += 1;
    clearTimeout(this.#idleTimer);
  }

  #leave(): void {
    this.#inFlight -= 1;
    if (this.#inFlight === 0) this.#armIdleTimer();
  }

  #armIdleTimer(): void {
    clearTimeout(this.#idleTimer);
    if (this.#closing) return;
    this.#idleTimer = setTimeout(() => void this.close('idle_timeout'), this.#options.idleTimeoutMs);
    // The timer must not keep a finished process alive; the keys' TTL is the backstop.
    this.#idleTimer.unref();
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
