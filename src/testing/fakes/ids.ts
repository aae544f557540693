import { randomBytes, randomUUID } from 'node:crypto';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `length` random letters and digits, the way Stripe ids look after their prefix. */
export function randomAlnum(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  // 248 = 4 × 62: bytes above it are skipped so every character is equally likely.
  for (const byte of bytes) if (byte < 248) out += ALNUM[byte % 62];
  return out.length >= length ? out.slice(0, length) : out + randomAlnum(length - out.length);
}

/** `length` random lower-case hex digits (Twilio SIDs are a prefix plus 32). */
export function randomHex(length: number): string {
  return randomBytes(Math.ceil(length / 2))
    .toString('hex')
    .slice(0, length);
}

export function randomUuid(): string {
  return randomUUID();
}
