/**
 * application/x-www-form-urlencoded, the way Stripe's and Twilio's SDKs speak it.
 *
 * Stripe nests with literal brackets and indexes arrays (`metadata[k]=v`, `items[0][price]=p`); Twilio repeats
 * keys for arrays (`MediaUrl=a&MediaUrl=b`). Values are RFC 3986 percent-encoded (space is `%20`).
 */
export type FormValue = string | FormValue[] | { [key: string]: FormValue };
export type FormObject = { [key: string]: FormValue };

export type ArrayFormat = 'indices' | 'repeat';

export interface FormEncodeOptions {
  /** `indices` (Stripe, the default) or `repeat` (Twilio). */
  readonly arrayFormat?: ArrayFormat;
}

export interface FormLimits {
  /** Most key segments in one name: `a[b][c]` is 3. */
  readonly maxDepth: number;
  /** Most `name=value` pairs in one body or query string. */
  readonly maxParams: number;
}

/**
 * Generous for every real SDK call (Stripe nests five deep at most; a Resend batch of 100 emails with 50
 * recipients each stays well below the count), and small enough that a hostile body is refused up front.
 */
export const FORM_LIMITS: FormLimits = { maxDepth: 20, maxParams: 10_000 };

export interface FormDecodeOptions {
  /**
   * The proxy's mode: refuse anything whose meaning a vendor's parser could read differently from ours
   * (stray brackets, a name used both as a value and as an object, repeated scalars under `indices`,
   * malformed percent-encoding). Lenient mode (the fakes) keeps such keys literally, as before.
   */
  readonly strict?: boolean;
  /** How a repeated bare name decodes in strict mode: `repeat` makes an array, `indices` refuses it. */
  readonly arrayFormat?: ArrayFormat;
  readonly limits?: FormLimits;
}

/** Why a form could not be decoded. `param` is the offending name (decoded), for the refusal message. */
export class FormError extends Error {
  readonly kind: 'invalid' | 'limit';
  readonly param: string | null;
  constructor(kind: 'invalid' | 'limit', message: string, param: string | null = null) {
    super(message);
    this.name = 'FormError';
    this.kind = kind;
    this.param = param;
  }
}

/** Encodes a JSON value as a form body. `undefined` is skipped; `null` becomes an empty value (Stripe's unset). */
export function encodeForm(data: Readonly<Record<string, unknown>>, options: FormEncodeOptions = {}): string {
  const pairs: string[] = [];
  const arrayFormat = options.arrayFormat ?? 'indices';
  const walk = (prefix: string, value: unknown): void => {
    if (value === undefined) return;
    if (value === null) {
      pairs.push(`${encodeKey(prefix)}=`);
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => walk(arrayFormat === 'repeat' ? prefix : `${prefix}[${index}]`, item));
    } else if (typeof value === 'object' && !(value instanceof Date)) {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) walk(`${prefix}[${k}]`, v);
    } else {
      const text = value instanceof Date ? String(Math.floor(value.getTime() / 1000)) : String(value);
      pairs.push(`${encodeKey(prefix)}=${encodeComponent(text)}`);
    }
  };
  for (const [key, value] of Object.entries(data)) walk(key, value);
  return pairs.join('&');
}

// Objects are built with string keys; numeric-keyed objects become arrays at the end.
type Node = { [key: string]: Node | string | string[] };

/** A strict name: a non-empty base, then bracketed segments holding no brackets. */
const STRICT_NAME = /^[^[\]]+(?:\[[^[\]]*\])*$/;

/**
 * Decodes a form body into nested objects and arrays. Accepts what real clients send besides the SDKs:
 * `+` for space and percent-encoded brackets. A key repeated without brackets becomes an array (refused in
 * strict `indices` mode, where Stripe would keep only one of them). Linear in the input's size.
 */
export function decodeForm(body: string, options: FormDecodeOptions = {}): FormObject {
  if (body === '') return {};
  const limits = options.limits ?? FORM_LIMITS;
  const decoder = new Decoder(options.strict === true, options.arrayFormat ?? 'repeat');
  let count = 0;
  for (const part of body.split('&')) {
    if (part === '') continue;
    count += 1;
    if (count > limits.maxParams) {
      throw new FormError('limit', `more than ${limits.maxParams} parameters`);
    }
    const eq = part.indexOf('=');
    const key = decoder.component(eq === -1 ? part : part.slice(0, eq), null);
    const value = decoder.component(eq === -1 ? '' : part.slice(eq + 1), key);
    const path = decoder.keyPath(key);
    if (path.length > limits.maxDepth) {
      throw new FormError('limit', `parameter nested more than ${limits.maxDepth} deep`, key);
    }
    decoder.assign(path, value, key);
  }
  return decoder.result();
}

class Decoder {
  // Null-prototype nodes: keys such as `toString` or `__proto__` are data here, never inherited members,
  // so a body cannot read through to or write into Object.prototype.
  readonly #root: Node = Object.create(null) as Node;
  // Own-key counts, so that `a[]=` appends in constant time rather than counting keys every time.
  readonly #sizes = new Map<Node, number>();
  readonly #strict: boolean;
  readonly #arrayFormat: ArrayFormat;

  constructor(strict: boolean, arrayFormat: ArrayFormat) {
    this.#strict = strict;
    this.#arrayFormat = arrayFormat;
  }

  component(text: string, key: string | null): string {
    const spaced = text.replaceAll('+', ' ');
    try {
      return decodeURIComponent(spaced);
    } catch {
      if (this.#strict) {
        throw new FormError(
          'invalid',
          key === null
            ? 'a parameter name is not valid percent-encoding'
            : `\`${key}\` is not valid percent-encoding`,
          key,
        );
      }
      return spaced;
    }
  }

  keyPath(key: string): string[] {
    if (this.#strict && !STRICT_NAME.test(key)) {
      throw new FormError('invalid', `\`${key}\` is not a well-formed parameter name`, key);
    }
    const open = key.indexOf('[');
    if (open <= 0 || !key.endsWith(']')) return [key];
    const path = [key.slice(0, open)];
    const rest = key.slice(open);
    const re = /\[([^\]]*)\]/g;
    let match: RegExpExecArray | null;
    let consumed = 0;
    while ((match = re.exec(rest)) !== null) {
      if (match.index !== consumed) return [key];
      path.push(match[1] ?? '');
      consumed = re.lastIndex;
    }
    if (consumed !== rest.length) return [key];
    // `a[][b]` means an array of objects to Rails-style parsers; only a trailing `[]` is unambiguous.
    if (this.#strict && path.slice(0, -1).includes('')) {
      throw new FormError('invalid', `\`${key}\` has \`[]\` before its last segment`, key);
    }
    return path;
  }

  assign(path: string[], value: string, key: string): void {
    let node = this.#root;
    for (let i = 0; i < path.length - 1; i += 1) {
      const segment = path[i] ?? '';
      const next = Object.hasOwn(node, segment) ? node[segment] : undefined;
      if (typeof next === 'object' && !Array.isArray(next)) {
        node = next;
        continue;
      }
      if (next !== undefined && this.#strict) this.#conflict(key);
      const fresh: Node = Object.create(null) as Node;
      this.#set(node, segment, fresh);
      node = fresh;
    }
    this.#assignLeaf(node, path[path.length - 1] ?? '', value, key);
  }

  #assignLeaf(node: Node, segment: string, value: string, key: string): void {
    if (segment === '') {
      // `a[]=x` appends.
      this.#set(node, String(this.#sizes.get(node) ?? 0), value);
      return;
    }
    const existing = Object.hasOwn(node, segment) ? node[segment] : undefined;
    if (existing === undefined) {
      this.#set(node, segment, value);
    } else if (this.#strict && (typeof existing === 'object' || this.#arrayFormat === 'indices')) {
      // Under `indices` a repeated scalar is ambiguous (Stripe keeps one of them): refuse rather than guess.
      if (typeof existing === 'object' && !Array.isArray(existing)) this.#conflict(key);
      throw new FormError('invalid', `\`${key}\` is given more than once`, key);
    } else if (Array.isArray(existing)) {
      existing.push(value);
    } else if (typeof existing === 'string') {
      node[segment] = [existing, value];
    }
  }

  #set(node: Node, segment: string, value: Node | string): void {
    if (!Object.hasOwn(node, segment)) this.#sizes.set(node, (this.#sizes.get(node) ?? 0) + 1);
    node[segment] = value;
  }

  #conflict(key: string): never {
    throw new FormError('invalid', `\`${key}\` is used both as a value and as an object`, key);
  }

  result(): FormObject {
    return finalizeArrays(this.#root) as FormObject;
  }
}

function finalizeArrays(node: Node | string | string[]): FormValue {
  if (typeof node === 'string') return node;
  if (Array.isArray(node)) return node;
  const keys = Object.keys(node);
  const entries = keys.map((k) => [k, finalizeArrays(node[k] as Node)] as const);
  const isList = keys.length > 0 && keys.every((k, i) => k === String(i));
  if (isList) return entries.map(([, v]) => v);
  return Object.fromEntries(entries);
}

/**
 * Checks a parsed JSON value against the same limits, iteratively (a recursive walk of a hostile 20,000-deep
 * body would overflow the stack). Counts leaves as parameters and containers as nesting.
 */
export function checkJsonLimits(value: unknown, limits: FormLimits = FORM_LIMITS): void {
  const stack: Array<readonly [unknown, number]> = [[value, 0]];
  let leaves = 0;
  while (stack.length > 0) {
    const [item, depth] = stack.pop() as readonly [unknown, number];
    if (typeof item !== 'object' || item === null) {
      leaves += 1;
      if (leaves > limits.maxParams) throw new FormError('limit', `more than ${limits.maxParams} parameters`);
      continue;
    }
    if (depth >= limits.maxDepth) {
      throw new FormError('limit', `parameter nested more than ${limits.maxDepth} deep`);
    }
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
}

function encodeComponent(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function encodeKey(key: string): string {
  return encodeComponent(key).replaceAll('%5B', '[').replaceAll('%5D', ']');
}
