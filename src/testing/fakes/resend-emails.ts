import type { EmailProblem } from './resend-errors.js';

/** What the fake keeps of a sent email, shaped like `GET /emails/{id}`. */
export interface StoredEmail {
  object: 'email';
  id: string;
  to: string[];
  from: string;
  created_at: string;
  subject: string;
  html: string | null;
  text: string | null;
  bcc: string[] | null;
  cc: string[] | null;
  reply_to: string[] | null;
  last_event: 'delivered';
  scheduled_at: string | null;
}

const MAX_RECIPIENTS = 50;
/** `a@b.co` or `Name <a@b.co>`. */
const ADDRESS = /^(?:[^<>]*<\s*[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+\s*>|[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+)$/;

type Email = Readonly<Record<string, unknown>>;

/**
 * Checks one email the way `POST /emails` does: `from`, `to` and `subject` required (422
 * `missing_required_field`), addresses well formed (422 `validation_error`, `invalid_from_address`), at most 50
 * recipients in `to`. Batch items also may not carry `attachments` or `scheduled_at`.
 */
export function validateEmail(value: unknown, options: { readonly batch: boolean }): EmailProblem | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return invalid('The email must be a JSON object.');
  }
  const email = value as Email;
  for (const field of ['from', 'to', 'subject'] as const) {
    if (email[field] === undefined || email[field] === null || email[field] === '') {
      return { statusCode: 422, name: 'missing_required_field', message: `Missing \`${field}\` field.` };
    }
  }
  if (typeof email.from !== 'string' || !ADDRESS.test(email.from.trim())) {
    return {
      statusCode: 422,
      name: 'invalid_from_address',
      message:
        'Invalid `from` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.',
    };
  }
  if (typeof email.subject !== 'string') return invalid('The `subject` field must be a string.');
  for (const field of ['to', 'cc', 'bcc', 'reply_to'] as const) {
    const list = addresses(email[field]);
    if (list === null)
      return invalid(`Invalid \`${field}\` field. It must be a string or an array of strings.`);
    if (field === 'to' && list.length > MAX_RECIPIENTS) {
      return invalid(`Invalid \`to\` field. You can send to at most ${MAX_RECIPIENTS} recipients per email.`);
    }
    if (list.some((address) => !ADDRESS.test(address.trim()))) {
      return invalid(
        `Invalid \`${field}\` field. The email address needs to follow the \`email@example.com\` or \`Name <email@example.com>\` format.`,
      );
    }
  }
  if (options.batch && email.attachments !== undefined) {
    return invalid('The `attachments` field is not supported for batch emails.');
  }
  if (options.batch && email.scheduled_at !== undefined) {
    return invalid('The `scheduled_at` field is not supported for batch emails.');
  }
  return null;
}

/** Builds the stored form of a valid email. */
export function storedEmail(id: string, value: unknown, now: Date): StoredEmail {
  const email = value as Email;
  const optionalList = (field: string): string[] | null =>
    email[field] === undefined ? null : addresses(email[field]);
  return {
    object: 'email',
    id,
    to: addresses(email.to) ?? [],
    from: String(email.from),
    created_at: now.toISOString(),
    subject: String(email.subject),
    html: typeof email.html === 'string' ? email.html : null,
    text: typeof email.text === 'string' ? email.text : null,
    bcc: optionalList('bcc'),
    cc: optionalList('cc'),
    reply_to: optionalList('reply_to'),
    last_event: 'delivered',
    scheduled_at: typeof email.scheduled_at === 'string' ? email.scheduled_at : null,
  };
}

/** A string or an array of strings as a list; `[]` when absent; `null` for any other shape. */
function addresses(value: unknown): string[] | null {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value as string[];
  return null;
}

function invalid(message: string): EmailProblem {
  return { statusCode: 422, name: 'validation_error', message };
}
