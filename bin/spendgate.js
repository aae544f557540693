#!/usr/bin/env node
// Thin launcher: the CLI lives in the compiled dist/ so the package runs without a TypeScript toolchain.
import '../dist/src/cli/bin.js';
