/** Console output for the examples: one line per tool call, and the key's spend against its cap. */
import { usdToMicros, type BudgetStop, type SpendgateClient } from 'spendgate';

export function printToolCall(name: string, args: unknown, result: unknown): void {
  const r = (typeof result === 'string' ? safeParse(result) : result) as Record<string, unknown> | undefined;
  const outcome = r?.ok === true ? 'ok' : `REFUSED ${String(r?.error)} (retryable: ${String(r?.retryable)})`;
  console.log(`  → ${name}(${JSON.stringify(args)})`);
  console.log(`    ${outcome}${r?.ok === true ? ` ${JSON.stringify(r)}` : `: ${String(r?.message)}`}`);
}

export async function printKeySpend(client: SpendgateClient, keyId: string): Promise<void> {
  const key = await client.getKey(keyId);
  // Integer micro-dollars for the arithmetic; the API's USD decimals convert exactly.
  const spent = usdToMicros(key.spentUsd);
  const cap = key.usdCap === null ? null : usdToMicros(key.usdCap);
  console.log(
    `  key ${key.id} (${key.vendor}): spent ${usd(spent)}${cap === null ? '' : ` of ${usd(cap)} cap`}, ` +
      `${key.calls} calls allowed, ${key.deniedCalls} denied, status ${key.status}`,
  );
}

/** How the run ended, when spendgate ended it: the refusal, and what the model was stopped from doing. */
export function printStop(stoppedBy: BudgetStop | null): void {
  if (!stoppedBy) return;
  console.log(
    `spendgate ended the loop at call ${stoppedBy.toolCallId} (${stoppedBy.code}); the model got no further turn.`,
  );
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Exact dollars from micro-dollars, with as many decimals as the amount needs (at least two). */
export function usd(micros: number): string {
  const whole = Math.floor(micros / 1_000_000);
  const fraction = String(micros % 1_000_000)
    .padStart(6, '0')
    .replace(/0+$/, '')
    .padEnd(2, '0');
  return `$${whole}.${fraction}`;
}
