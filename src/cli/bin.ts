import { main } from './main.js';

// The executable entry: `bin/spendgate.js` loads the compiled copy of this file.
main(process.argv).catch((err: unknown) => {
  process.stderr.write(`spendgate: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
