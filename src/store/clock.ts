/** Epoch milliseconds. Injected so tests can move time without mocking modules. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

const DAY_MS = 86_400_000;
let cachedDay = { index: Number.NaN, text: '' };

/** The UTC calendar day of an instant, as `YYYY-MM-DD`: the daily cap's window. */
export function utcDay(epochMs: number): string {
  // Called several times per proxied call; the text only changes at midnight.
  const index = Math.floor(epochMs / DAY_MS);
  if (index !== cachedDay.index)
    cachedDay = { index, text: new Date(index * DAY_MS).toISOString().slice(0, 10) };
  return cachedDay.text;
}
