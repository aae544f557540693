import type { Command } from 'commander';
import { adminRequest, refusalFrom, type AdminTarget } from '../client/admin-request.js';
import { sendHttp } from '../client/http.js';
import { microsToUsd, usdToMicros } from '../money.js';
import { contextOf } from './command-context.js';
import { addTargetOptions } from './common-options.js';
import { renderJson, renderRecord } from './output.js';

/** At most this many pages of 500 keys are read to count and sum; past it the numbers say "at least". */
const MAX_PAGES = 20;

/** What the admin API does not report; `status` says so instead of guessing. */
const NOT_REPORTED = ['vendors_configured', 'instance_id', 'version'] as const;

interface KeyRow {
  readonly status?: unknown;
  readonly spent_today_usd?: unknown;
}

/** Registers `spendgate status`. Exit 0 when ready, 1 when the proxy answers but is not ready. */
export function addStatusCommand(program: Command): void {
  addTargetOptions(program.command('status'))
    .description('Readiness (/readyz), active keys and spend today (UTC), from the admin API')
    .action(async (_opts: unknown, command: Command) => {
      const ctx = contextOf(command);
      const target = await ctx.target();
      const ready = await readiness(target);
      // A proxy that is not ready cannot read its ledger either: report that rather than a second error.
      const keys = ready.ok ? await keyTotals(target) : null;
      const report = {
        url: target.baseUrl,
        ready: ready.ok,
        ...(ready.ok ? {} : { not_ready_code: ready.code }),
        active_keys: keys?.active ?? null,
        spent_today_usd: keys ? microsToUsd(keys.spentToday) : null,
        complete: keys?.complete ?? false,
        not_reported: [...NOT_REPORTED],
      };
      if (ctx.json) ctx.print(renderJson(report));
      else ctx.print(humanReport(report));
      if (!ready.ok) throw refusalFrom(ready.status, ready.body);
    });
}

function humanReport(report: Record<string, unknown>): string {
  const atLeast = report.complete === true ? '' : 'at least ';
  const known = report.active_keys !== null;
  return renderRecord({
    proxy: report.url,
    ready: report.ready === true ? 'yes (the ledger answers)' : `no (${String(report.not_ready_code)})`,
    'active keys': known ? `${atLeast}${String(report.active_keys)}` : 'unknown (not ready)',
    'spent today (UTC)': known ? `${atLeast}$${String(report.spent_today_usd)}` : 'unknown (not ready)',
    'vendors configured': 'not reported by the admin API (see the proxy’s start-up line)',
    'instance, version': 'not reported by the admin API',
  });
}

async function readiness(target: AdminTarget) {
  const response = await sendHttp({
    url: `${target.baseUrl.replace(/\/+$/, '')}/readyz`,
    method: 'GET',
    timeoutMs: target.timeoutMs ?? 10_000,
  });
  const ok = response.status === 200;
  return {
    ok,
    status: response.status,
    body: response.json,
    code: ok ? null : refusalFrom(response.status, response.json).code,
  };
}

/**
 * Walks every key once (newest first): `active` excludes expired ones, which the store still holds as
 * active; today's spend sums every key's, revoked included, exactly in micro-dollars.
 */
async function keyTotals(
  target: AdminTarget,
): Promise<{ active: number; spentToday: number; complete: boolean }> {
  let active = 0;
  let spentToday = 0;
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const answer = (await adminRequest(target, {
      method: 'GET',
      path: '/v1/keys',
      query: { limit: 500, cursor },
    })) as {
      data: KeyRow[];
      next_cursor: string | null;
    };
    for (const key of answer.data) {
      if (key.status === 'active') active++;
      if (typeof key.spent_today_usd === 'number') spentToday += usdToMicros(key.spent_today_usd);
    }
    if (answer.next_cursor === null) return { active, spentToday, complete: true };
    cursor = answer.next_cursor;
  }
  return { active, spentToday, complete: false };
}
