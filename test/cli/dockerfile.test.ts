import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { PROXY_PEERS } from '../../src/cli/proxy-peers.js';
import { REPO_ROOT } from './run-cli.js';

const dockerfile = readFileSync(`${REPO_ROOT}Dockerfile`, 'utf8');
/** Instructions with their continuation lines joined, comments dropped. */
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));
const finalStage = instructions.slice(instructions.findLastIndex((line) => /^FROM\s/i.test(line)));
const exec = (keyword: string) => {
  const line = finalStage.find((l) => new RegExp(`^${keyword}\\s`, 'i').test(l));
  return line === undefined ? undefined : (JSON.parse(line.slice(keyword.length).trim()) as string[]);
};

describe('Dockerfile essentials (lint; the image build below needs docker)', () => {
  it('is multi-stage, and the final stage runs as a non-root user', () => {
    expect(instructions.filter((l) => /^FROM\s/i.test(l)).length).toBeGreaterThanOrEqual(2);
    expect(finalStage.some((l) => /^COPY\s+--from=/i.test(l))).toBe(true);
    const users = finalStage.filter((l) => /^USER\s/i.test(l)).map((l) => l.split(/\s+/)[1]);
    expect(users.length).toBeGreaterThan(0);
    expect(['root', '0']).not.toContain(users.at(-1));
  });

  it('starts node itself as PID 1 on the built CLI (exec form, no npm, npx or shell)', () => {
    const entrypoint = exec('ENTRYPOINT');
    const cmd = exec('CMD') ?? [];
    const argv = [...(entrypoint ?? []), ...cmd];
    expect(argv[0]).toBe('node');
    expect(argv[1]).toBe('dist/src/cli/bin.js');
    expect(argv).toContain('serve');
    expect(argv.join(' ')).not.toMatch(/\b(npm|npx|sh|bash)\b/);
    expect(finalStage.some((l) => /^STOPSIGNAL\s+SIGTERM$/i.test(l))).toBe(true);
  });

  it("installs the proxy's own dependencies, which spendgate names only as optional peers", () => {
    const install = instructions.find((l) => /npm install --no-save/.test(l)) ?? '';
    for (const name of [...PROXY_PEERS.packages, 'pg']) expect(install, name).toContain(`'${name}'`);
  });

  it('has a HEALTHCHECK on /readyz', () => {
    const health = finalStage.find((l) => /^HEALTHCHECK\s/i.test(l));
    expect(health).toMatch(/CMD\s+\[/);
    expect(health).toContain('/readyz');
  });

  it('compose runs PostgreSQL and two proxy instances on it, secrets as files', () => {
    const compose = parseYaml(readFileSync(`${REPO_ROOT}compose.yaml`, 'utf8'), { merge: true }) as {
      services: Record<string, { image?: string; environment?: Record<string, string>; command?: string[] }>;
    };
    expect(compose.services.postgres?.image).toMatch(/^postgres:/);
    const proxies = Object.entries(compose.services).filter(
      ([, s]) => s.image === 'spendgate:local' && !s.command,
    );
    expect(proxies).toHaveLength(2);
    for (const [, service] of proxies) {
      expect(service.environment?.SPENDGATE_DB_FILE).toBe('/run/secrets/spendgate_db_url');
      expect(service.environment?.SPENDGATE_ADMIN_TOKEN_FILE).toBeDefined();
    }
    expect(compose.services.migrate?.command).toEqual(['migrate']);
  });

  it('npm start execs node, so the signal npm passes to its shell reaches the server', () => {
    const pkg = JSON.parse(readFileSync(`${REPO_ROOT}package.json`, 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.start).toBe('exec node dist/src/cli/bin.js serve');
  });
});

const docker = spawnSync('docker', ['info'], { timeout: 10_000, encoding: 'utf8' });
const dockerWorks = docker.status === 0;
if (!dockerWorks) {
  console.log(
    `skipping the docker image build: docker info failed (${(docker.stderr || docker.error?.message || 'no docker').split('\n').find(Boolean)})`,
  );
}

describe.skipIf(!dockerWorks)('Docker image build', () => {
  it('builds, and the image prints the version as the node user', { timeout: 900_000 }, () => {
    const build = spawnSync('docker', ['build', '-t', 'spendgate:test', REPO_ROOT], {
      encoding: 'utf8',
      timeout: 880_000,
    });
    expect(build.status, build.stderr).toBe(0);
    const run = spawnSync(
      'docker',
      [
        'run',
        '--rm',
        '--entrypoint',
        'sh',
        'spendgate:test',
        '-c',
        'id -un && node dist/src/cli/bin.js --version',
      ],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(run.stdout.trim().split('\n')).toEqual(['node', expect.stringMatching(/^\d+\.\d+\.\d+/)]);
  });
});
