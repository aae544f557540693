/** Error fields safe to log: never the request, its headers or its body. */
export function errorSummary(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  return { type: err.name, message: err.message, code: (err as { code?: unknown }).code };
}
