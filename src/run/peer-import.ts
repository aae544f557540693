/**
 * Loading an adapter's framework with an error that says what to install. A static `import` of a missing
 * package fails while Node links the module graph, before any of our code runs, with a bare
 * `ERR_MODULE_NOT_FOUND`; a dynamic import can be caught and explained.
 */

/** The framework package an adapter needs is not installed. Keeps Node's code, so existing checks still match. */
export class MissingPeerError extends Error {
  readonly code = 'ERR_MODULE_NOT_FOUND';
  /** The package that could not be found. */
  readonly packageName: string;

  constructor(options: { entry: string; packageName: string; install: string; cause: unknown }) {
    super(
      `${options.entry} needs the package "${options.packageName}", which is not installed. Install it next to spendgate: npm install ${options.install}`,
      { cause: options.cause },
    );
    this.name = 'MissingPeerError';
    this.packageName = options.packageName;
  }
}

/** What an adapter needs: its entry point's name, the packages it imports, and the install command's arguments. */
export interface PeerSpec {
  readonly entry: string;
  readonly packages: readonly string[];
  readonly install: string;
}

/**
 * Maps a module-loading error to a `MissingPeerError` when it is one of `spec.packages` that is missing;
 * `null` for anything else (a missing file inside a package, a syntax error), which should surface as is.
 */
export function missingPeerError(error: unknown, spec: PeerSpec): MissingPeerError | null {
  if ((error as { code?: unknown } | null)?.code !== 'ERR_MODULE_NOT_FOUND') return null;
  const message = error instanceof Error ? error.message : String(error);
  // Node names the package, or the full specifier, in quotes: "Cannot find package 'langchain' imported from …".
  const packageName = spec.packages.find(
    (name) => message.includes(`'${name}'`) || message.includes(`'${name}/`),
  );
  if (packageName === undefined) return null;
  return new MissingPeerError({ entry: spec.entry, packageName, install: spec.install, cause: error });
}

/** Runs `load` (a dynamic `import()`), turning a missing framework into a `MissingPeerError`. */
export async function importPeer<T>(load: () => Promise<T>, spec: PeerSpec): Promise<T> {
  try {
    return await load();
  } catch (error) {
    throw missingPeerError(error, spec) ?? error;
  }
}
