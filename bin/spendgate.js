#!/usr/bin/env node
// Thin launcher: the CLI lives in the compiled dist/ so the package runs without a TypeScript toolchain.
import { main } from '../dist/src/cli/main.js';

main(process.argv).catch((err) => {
  process.stderr.write(`spendgate: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
