import type { SpendgateClient } from '../../src/client/index.js';
import { createRun, type Run, type RunBudget, type RunKey } from '../../src/run/index.js';
import {
  resultForInactiveRun,
  resultForUnexpectedError,
  type RunTool,
  type SpendTool,
  type ToolCall,
  type ToolResult,
} from '../../src/tools/index.js';

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
    return this.withTool(name, (tool) => tool.execute(input, call));
  }

  /**
   * Hands `body` the session's bound tool `name` (starting the run if needed). The session counts as busy
   * until `body` settles, so a person taking minutes to approve a call does not idle the session out.
   */
  async withTool(name: string, body: (tool: RunTool) => Promise<ToolResult>): Promise<ToolResult> {
    if (this.#closing) return resultForInactiveRun('ended');
    this.#enter();
    try {
      // A failed start is not thrown here: the run's own tools answer it with `run_not_started`.
      await this.start().catch(() => undefined);
      const tool = this.#run?.tools.find((candidate) => candidate.name === name);
      if (!tool) return resultForUnexpectedError(name);
      return await body(tool);
    } finally {
      this.#leave();
    }
  }

  /** The keys of the active run (starting it if needed), or `null` when it has none. */
  async activeKeys(): Promise<readonly RunKey[] | null> {
    if (this.#closing) return null;
    this.#enter();
    try {
      const run = await this.start().catch(() => undefined);
      return run?.state === 'active' ? run.keys : null;
    } finally {
      this.#leave();
    }
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
    const run = this.#run;
    // A revoke that fails after retries is reported, not thrown: the keys still lapse at their TTL.
    const outcome =
      !run || run.state === 'failed'
        ? 'no keys were active'
        : await run.end().then(
            () => 'keys revoked',
            (err: unknown) => `revoking failed (${message(err)}); the keys lapse at their TTL`,
          );
    this.#options.log?.(`session ${this.id}: closed (${reason}); ${outcome}`);
    this.#options.onClosed?.(reason);
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
