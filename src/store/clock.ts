/** Epoch milliseconds. Injected so tests can move time without mocking modules. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

/** The UTC calendar day of an instant, as `YYYY-MM-DD`: the daily cap's window. */
export function utcDay(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}
