#!/usr/bin/env node
// The proxy's one-command start: this package exists to pull in the server's dependencies (fastify, the
// SQLite driver, pino, prom-client, undici) that `spendgate` itself only names as optional peers, so that
// installing spendgate for the agent tools stays light. The CLI is spendgate's own.
import 'spendgate/cli';
