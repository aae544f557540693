/**
 * application/x-www-form-urlencoded, the way Stripe's and Twilio's SDKs speak it.
 *
 * Stripe nests with literal brackets and indexes arrays (`metadata[k]=v`, `items[0][price]=p`); Twilio repeats
 * keys for arrays (`MediaUrl=a&MediaUrl=b`). Values are RFC 3986 percent-encoded (space is `%20`).
 */
export type FormValue = string | FormValue[] | { [key: string]: FormValue };
export type FormObject = { [key: string]: FormValue };

export interface FormEncodeOptions {
  /** `indices` (Stripe, the default) or `repeat` (Twilio). */
  readonly arrayFormat?: 'indices' | 'repeat';
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

/**
 * Decodes a form body into nested objects and arrays. Accepts what real clients send besides the SDKs:
 * `+` for space and percent-encoded brackets. A key repeated without brackets becomes an array.
 */
export function decodeForm(body: string): FormObject {
  // Null-prototype nodes: keys such as `toString` or `__proto__` are data here, never inherited members,
  // so a body cannot read through to or write into Object.prototype.
  const root: Node = Object.create(null) as Node;
  if (body === '') return {};
  for (const part of body.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawKey = eq === -1 ? part : part.slice(0, eq);
    const rawValue = eq === -1 ? '' : part.slice(eq + 1);
    const key = decodeComponent(rawKey);
    const value = decodeComponent(rawValue);
    assign(root, parseKeyPath(key), value);
  }
  return finalizeArrays(root) as FormObject;
}

function parseKeyPath(key: string): string[] {
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
  return consumed === rest.length ? path : [key];
}

// Objects are built with string keys; numeric-keyed objects become arrays at the end.
type Node = { [key: string]: Node | string | string[] };

function assign(target: Node, path: string[], value: string): void {
  let node = target;
  for (let i = 0; i < path.length; i += 1) {
    const segment = path[i] ?? '';
    const last = i === path.length - 1;
    if (last) {
      const existing = Object.hasOwn(node, segment) ? node[segment] : undefined;
      if (segment === '' || existing === undefined) {
        if (segment === '') {
          // `a[]=x` appends.
          const list = Object.keys(node).length;
          node[String(list)] = value;
        } else {
          node[segment] = value;
        }
      } else if (Array.isArray(existing)) {
        existing.push(value);
      } else if (typeof existing === 'string') {
        node[segment] = [existing, value];
      }
      return;
    }
    const next = Object.hasOwn(node, segment) ? node[segment] : undefined;
    if (typeof next !== 'object' || next === null || Array.isArray(next)) {
      const fresh: Node = Object.create(null) as Node;
      node[segment] = fresh;
      node = fresh;
    } else {
      node = next;
    }
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

function encodeComponent(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function encodeKey(key: string): string {
  return encodeComponent(key).replaceAll('%5B', '[').replaceAll('%5D', ']');
}

function decodeComponent(text: string): string {
  const spaced = text.replaceAll('+', ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}
