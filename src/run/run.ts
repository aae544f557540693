import { randomBytes } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { proxyOrigin, type SpendgateClient } from '../client/admin-client.js';
import { SpendgateError, spendgateError } from '../errors/index.js';
import type { RunTool, SpendTool, ToolCredential } from '../tools/types.js';
import { bindTool, toolCredential, type CredentialLookup } from './bind-tool.js';
import {
  capsToUsd,
  hasRunBudget,
  resolveCaps,
  type ResolvedCaps,
  type RunBudget,
  type VendorCaps,
} from './budget.js';
import { asyncDisposeSymbol } from './dispose.js';
import { endpointsByVendor } from './endpoints.js';
import { microsToUsd } from '../money.js';
import { revokeBudgetWithRetry, revokeWithRetry } from './revoke.js';

export interface RunOptions {
  /** The admin client that issues and revokes the run's keys. */
  readonly client: SpendgateClient;
  readonly budget: RunBudget;
  /** The run's tools. Their vendors decide which keys are issued, their endpoints what each key may reach. */
  readonly tools: readonly SpendTool[];
  /**
   * Where tools send vendor calls.
   * @default client.baseUrl
   */
  readonly proxyUrl?: string;
  /** Aborting it ends the run: its keys are revoked at once, and `run.signal` aborts with the same reason. */
  readonly signal?: AbortSignal;
  /** Ends the run after this many milliseconds, however busy it is. The keys' TTL still applies on top. */
  readonly timeoutMs?: number;
  /**
   * Time allowed for each vendor call a tool makes.
   * @default 30000
   */
  readonly toolTimeoutMs?: number;
  readonly dispatcher?: Dispatcher;
  /**
   * Called when revoking fails where the error cannot be thrown to anyone: when the run is ended by its signal
   * or timeout, or by `withRun` after the body has already thrown.
   * @default process.emitWarning
   */
  readonly onEndError?: (error: unknown) => void;
}

/** A sub-agent's run inside its parent's: see `Run.child`. */
export interface ChildRunOptions {
  /** The sub-agent's tools, bound to keys under the child's budget. */
  readonly tools: readonly SpendTool[];
  /** A cap for the child across every vendor; without one it may spend whatever its parent has left. */
  readonly usdCap?: number;
  /** Per-vendor caps for the child's keys, on top of the child's and the parent's budgets. */
  readonly caps?: Readonly<Record<string, VendorCaps | undefined>>;
  /** @default `${parent.label}/child-${n}` */
  readonly label?: string;
  readonly metadata?: Readonly<Record<string, string>>;
  /** Ends the child after this many milliseconds; ending the parent ends it too. */
  readonly timeoutMs?: number;
}

/** The run's own budget, once created: every key of the run is issued under it. */
interface RunBudgetRef {
  readonly id: string;
  readonly expiresAt: Date;
}

/** Where a run is in its life. `failed` means it never started; nothing it issued is left active. */
export type RunState = 'created' | 'starting' | 'active' | 'ending' | 'ended' | 'failed';

/** One key a run issued, without its secret. */
export interface RunKey {
  readonly id: string;
  readonly vendor: string;
  readonly label: string;
  readonly allowedEndpoints: readonly string[];
  readonly expiresAt: Date;
}

interface IssuedEntry {
  readonly key: RunKey;
  readonly token: string;
  revoked: boolean;
}

/**
 * One agent run's spending authority: a vault key per vendor its tools use, issued by `start()` and revoked
 * by `end()`. `end()` is idempotent and runs on every path (call it in `finally`, or use `await using`,
 * `withRun`, or a framework adapter); aborting `signal` or passing `timeoutMs` ends the run too.
 *
 * @example
 * ```ts
 * await using run = await startRun({ client, budget: { caps: { stripe: { usdCap: 50 } } }, tools: [chargeCustomerTool()] });
 * await run.tools[0].execute({ customer: 'cus_1', amount: 2000, currency: 'usd', description: 'Order 1' }, { toolCallId: 'c1' });
 * ```
 */
export class Run {
  /** `run_…`, also stored on every key as metadata `spendgate_run_id`. */
  readonly id: string;
  readonly label: string;
  /** The tools, bound to this run's keys. Hand these to a framework (or to an adapter). */
  readonly tools: readonly RunTool[];
  /** Aborts when the run ends, for any reason: pass it to the agent loop so a revoked run also stops. */
  readonly signal: AbortSignal;

  readonly #options: RunOptions;
  readonly #endpoints: ReadonlyMap<string, readonly string[]>;
  readonly #caps: ReadonlyMap<string, ResolvedCaps>;
  readonly #issued = new Map<string, IssuedEntry>();
  readonly #controller = new AbortController();
  #state: RunState = 'created';
  #starting: Promise<this> | undefined;
  #ending: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #onAbort: (() => void) | undefined;
  #endErrorReported = false;
  /** Set for a child run: its budget is created under the parent's. */
  readonly #parent: Run | undefined;
  readonly #children = new Set<Run>();
  #childCount = 0;
  #budget: RunBudgetRef | undefined;

  constructor(options: RunOptions, parent?: Run) {
    this.#options = options;
    this.#parent = parent;
    this.id = `run_${randomBytes(9).toString('base64url')}`;
    this.label = options.budget.label ?? `spendgate-run-${this.id}`;
    this.signal = this.#controller.signal;
    this.#endpoints = endpointsByVendor(options.tools);
    this.#caps = resolveCaps(options.budget, [...this.#endpoints.keys()], this.#budgeted);
    const proxyUrl = proxyOrigin(options.proxyUrl ?? options.client.baseUrl, 'proxyUrl');
    this.tools = options.tools.map((tool) =>
      bindTool({
        tool,
        lookup: (vendor) => this.#lookup(vendor),
        client: options.client,
        proxyUrl,
        timeoutMs: options.toolTimeoutMs ?? 30_000,
        dispatcher: options.dispatcher,
        approvalAboveUsd: usdOrNull(this.#caps.get(tool.vendor)?.approvalAboveUsd ?? null),
      }),
    );
  }

  get state(): RunState {
    return this.#state;
  }

  /** The run's own budget (`bud_…`) once started, when it has one (`budget.usdCap`, `parentBudgetId`, a child). */
  get budgetId(): string | undefined {
    return this.#budget?.id;
  }

  /**
   * A sub-agent's run: its budget is a child of this run's, so it can never spend more than this run has
   * left, and ending this run (or revoking its budget) ends the child. Start it with `start()` (or hand it to
   * an adapter) while this run is active; this run needs a budget of its own (`budget.usdCap` or
   * `budget.parentBudgetId`).
   */
  child(options: ChildRunOptions): Run {
    // Counted over the run's life (ended children detach), so every child's label is its own.
    this.#childCount += 1;
    const n = this.#childCount;
    const child = new Run(
      {
        ...this.#options,
        signal: undefined,
        timeoutMs: options.timeoutMs,
        tools: options.tools,
        budget: {
          label: options.label ?? `${this.label}/child-${n}`,
          metadata: {
            ...this.#options.budget.metadata,
            ...options.metadata,
            spendgate_parent_run_id: this.id,
          },
          caps: options.caps ?? {},
          ...(options.usdCap === undefined ? {} : { usdCap: options.usdCap }),
        },
      },
      this,
    );
    this.#children.add(child);
    return child;
  }

  get #budgeted(): boolean {
    return this.#parent !== undefined || hasRunBudget(this.#options.budget);
  }

  /** The keys issued so far, without secrets. */
  get keys(): readonly RunKey[] {
    return [...this.#issued.values()].map((entry) => entry.key);
  }

  /**
   * The credential for one vendor, to hand to that vendor's own SDK pointed at the proxy. Its `toJSON` hides
   * the token. `undefined` unless the run is active.
   */
  credentialFor(vendor: string): ToolCredential | undefined {
    const entry = this.#issued.get(vendor);
    if (!entry || this.#state !== 'active') return undefined;
    return credential(entry);
  }

  /**
   * Issues one key per vendor, in parallel. If any issue fails, the run does not start: every key already
   * issued is revoked and the error says which vendor failed. Calling it again returns the same promise.
   */
  start(): Promise<this> {
    this.#starting ??= this.#start();
    return this.#starting;
  }

  /**
   * Revokes every key the run issued and aborts `run.signal`. Idempotent: every call gets the same promise.
   * Rejects with a `SpendgateError` only if a key could not be revoked after retries (it then lapses at its TTL);
   * with `{ quiet: true }` that failure goes to `onEndError` instead.
   */
  end(options: { readonly quiet?: boolean } = {}): Promise<void> {
    this.#ending ??= this.#end(new DOMException(`Run ${this.label} has ended`, 'AbortError'));
    // Quiet: for `finally` blocks after an error, where a throw would hide the error that ended the run.
    return options.quiet ? this.#ending.catch((err: unknown) => this.#reportEndError(err)) : this.#ending;
  }

  async [asyncDisposeSymbol](): Promise<void> {
    await this.end();
  }

  async #start(): Promise<this> {
    if (this.#state !== 'created') {
      throw spendgateError('key_revoked', `Run ${this.label} has already ended; start a new run`);
    }
    const { signal } = this.#options;
    if (signal?.aborted) {
      this.#state = 'failed';
      throw signal.reason;
    }
    this.#state = 'starting';
    this.#watch();
    if (this.#budgeted) {
      try {
        this.#budget = await this.#createBudget();
      } catch (cause) {
        if (this.#ending !== undefined) throw this.signal.reason;
        this.#state = 'failed';
        this.#unwatch();
        this.#controller.abort(cause);
        throw await this.#startFailure(null, cause);
      }
    }
    // The issues do not take the caller's signal: an issue aborted in flight may still create a key whose id
    // never comes back. Each completes, and anything issued is revoked below if the run cannot start.
    const vendors = [...this.#endpoints.keys()];
    const results = await Promise.allSettled(vendors.map((vendor) => this.#issue(vendor)));
    // Ended (abort, timeout, end()) while issuing: #end is waiting for this start, and revokes what it issued.
    if (this.#ending !== undefined) throw this.signal.reason;
    const failedAt = results.findIndex((r) => r.status === 'rejected');
    if (failedAt === -1) {
      this.#state = 'active';
      return this;
    }
    const cause = (results[failedAt] as PromiseRejectedResult).reason;
    this.#state = 'failed';
    this.#unwatch();
    this.#controller.abort(cause);
    throw await this.#startFailure(vendors[failedAt] ?? 'unknown', cause);
  }

  async #issue(vendor: string): Promise<void> {
    const caps = this.#caps.get(vendor);
    const allowedEndpoints = this.#endpoints.get(vendor) ?? [];
    if (!caps) throw spendgateError('cap_required', `No caps for ${vendor}`);
    const budget = this.#budget;
    const issued = await this.#options.client.issueKey({
      vendor,
      ...capsToUsd(caps),
      allowedEndpoints,
      // Under a budget the key expires with it: a key may never outlive the budget it draws on.
      ...(budget
        ? { budgetId: budget.id, expiresAt: budget.expiresAt }
        : { expiresIn: this.#options.budget.ttl ?? '15m' }),
      label: this.label,
      metadata: { ...this.#options.budget.metadata, spendgate_run_id: this.id },
    });
    this.#issued.set(vendor, {
      key: { id: issued.id, vendor, label: this.label, allowedEndpoints, expiresAt: issued.expiresAt },
      token: issued.token,
      revoked: false,
    });
  }

  /**
   * The run's budget: under the parent run's (a child, expiring with it), else under `parentBudgetId` or at
   * the root, for the run's TTL.
   */
  async #createBudget(): Promise<RunBudgetRef> {
    const { budget, client } = this.#options;
    const parent = this.#parent;
    const parentBudget = parent ? parent.#budget : undefined;
    const parentId = parent ? parentBudget?.id : budget.parentBudgetId;
    if (parent && (parent.state !== 'active' || parentId === undefined)) {
      throw spendgateError(
        parentId === undefined ? 'bad_request' : 'key_revoked',
        parentId === undefined
          ? `Run ${parent.label} has no budget of its own: give it budget.usdCap or budget.parentBudgetId to start sub-agents`
          : `Run ${parent.label} is ${parent.state}; a sub-agent starts only inside an active run`,
      );
    }
    const created = await client.createBudget({
      ...(budget.usdCap === undefined ? {} : { usdCap: budget.usdCap }),
      ...(parentId === undefined ? {} : { parentId }),
      label: this.label,
      metadata: { ...budget.metadata, spendgate_run_id: this.id },
      ...(parentBudget ? { expiresAt: parentBudget.expiresAt } : { expiresIn: budget.ttl ?? '15m' }),
    });
    return { id: created.id, expiresAt: created.expiresAt };
  }

  /** A child that has ended no longer belongs to its parent's run. */
  #detach(): void {
    if (this.#parent) this.#parent.#children.delete(this);
  }

  /** Fail closed: revoke what was issued, sweep by run id for any issue whose answer was lost, then explain. */
  async #startFailure(vendor: string | null, cause: unknown): Promise<SpendgateError> {
    const failures = await this.#revokeAll();
    await this.#options.client.revokeKeys({ metadata: { spendgate_run_id: this.id } }).catch(() => undefined);
    this.#detach();
    const reason = cause instanceof Error ? cause.message : String(cause);
    const cleanup =
      failures.length === 0
        ? 'No key of this run is active.'
        : `${failures.length} key(s) could not be revoked and lapse at their TTL.`;
    return new SpendgateError({
      code: SpendgateError.isInstance(cause) ? cause.code : 'internal_error',
      message: `Run ${this.label} did not start: ${vendor === null ? 'creating its budget' : `issuing its ${vendor} key`} failed (${reason}). ${cleanup}`,
      details: { run_id: this.id, ...(vendor === null ? {} : { vendor }) },
      cause,
    });
  }

  async #end(reason: unknown): Promise<void> {
    if (this.#state !== 'failed') this.#state = 'ending';
    this.#unwatch();
    this.#controller.abort(reason);
    await this.#starting?.catch(() => undefined);
    // Children first: each revokes its own subtree; the parent's revoke below would cover them anyway.
    await Promise.all([...this.#children].map((child) => child.end({ quiet: true })));
    this.#detach();
    const failures = await this.#revokeAll();
    if (this.#state === 'ending') this.#state = 'ended';
    if (failures.length > 0) {
      throw new SpendgateError({
        code: failures[0]?.code ?? 'internal_error',
        message: `Run ${this.label}: ${failures.length} key(s) could not be revoked (${failures.map((f) => f.message).join('; ')}); they lapse at their TTL`,
        details: { run_id: this.id },
        cause: failures[0],
      });
    }
  }

  /**
   * Revokes every issued key not yet revoked, in parallel; returns the failures. A run with a budget revokes
   * it instead: one call for every key (and every child's), and a key whose issue answer was lost included.
   */
  async #revokeAll(): Promise<SpendgateError[]> {
    const budget = this.#budget;
    if (budget) {
      try {
        await revokeBudgetWithRetry(this.#options.client, budget.id);
        for (const entry of this.#issued.values()) entry.revoked = true;
        return [];
      } catch {
        // Fall through: revoke the keys one by one, so that a failure names each key left active.
      }
    }
    const pending = [...this.#issued.values()].filter((entry) => !entry.revoked);
    const results = await Promise.allSettled(
      pending.map(async (entry) => {
        await revokeWithRetry(this.#options.client, entry.key.id);
        entry.revoked = true;
      }),
    );
    return results
      .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      .map((r) =>
        SpendgateError.isInstance(r.reason)
          ? r.reason
          : new SpendgateError({ code: 'internal_error', message: String(r.reason), cause: r.reason }),
      );
  }

  /** Ends the run when the caller's signal aborts or the timeout passes. */
  #watch(): void {
    const { signal, timeoutMs } = this.#options;
    const endFor = (reason: unknown) => {
      this.#ending ??= this.#end(reason);
      this.#ending.catch((err: unknown) => this.#reportEndError(err));
    };
    if (signal) {
      this.#onAbort = () => endFor(signal.reason);
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
    if (timeoutMs !== undefined) {
      this.#timer = setTimeout(
        () => endFor(new DOMException(`Run ${this.label} timed out after ${timeoutMs} ms`, 'TimeoutError')),
        timeoutMs,
      );
      // The timer must not keep a finished process alive; the keys' TTL is the backstop.
      this.#timer.unref();
    }
  }

  #unwatch(): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#onAbort) this.#options.signal?.removeEventListener('abort', this.#onAbort);
    this.#timer = undefined;
    this.#onAbort = undefined;
  }

  /** Reports a revoke failure that has no caller to throw to, once per run. */
  #reportEndError(error: unknown): void {
    if (this.#endErrorReported) return;
    this.#endErrorReported = true;
    if (this.#options.onEndError) this.#options.onEndError(error);
    else process.emitWarning(error instanceof Error ? error.message : String(error), 'SpendgateWarning');
  }

  /** The key for a tool call, waiting for a start in progress (event hooks do not await their listeners). */
  async #lookup(vendor: string): Promise<CredentialLookup> {
    if (this.#state === 'starting') await this.#starting?.catch(() => undefined);
    const entry = this.#issued.get(vendor);
    if (this.#state === 'active' && entry) return { credential: credential(entry) };
    return {
      inactive: this.#state === 'created' ? 'not_started' : this.#state === 'failed' ? 'failed' : 'ended',
    };
  }
}

function usdOrNull(micros: number | null): number | null {
  return micros === null ? null : microsToUsd(micros);
}

function credential(entry: IssuedEntry): ToolCredential {
  return toolCredential({ keyId: entry.key.id, vendor: entry.key.vendor, token: entry.token });
}

/** Creates a run without issuing anything; call `start()` (or let an adapter's hook do it). */
export function createRun(options: RunOptions): Run {
  return new Run(options);
}

/** Creates a run and issues its keys. Fails closed: on any issue failure nothing is left active. */
export function startRun(options: RunOptions): Promise<Run> {
  return new Run(options).start();
}
