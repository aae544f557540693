/**
 * nginx as a plain reverse proxy in front of the same fake upstream: the baseline of a proxy written in C.
 * A temporary config (pid, logs and temp paths in `dir`), `daemon off;` so it is a child process of the bench,
 * keep-alive to the upstream, as the current user.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort, runToEnd, startProcess, waitForPort, which, type Started } from './procs.js';

export function nginxPath(): string | undefined {
  return which('nginx');
}

export async function startNginx(upstream: string, dir: string, workers: number): Promise<Started> {
  const binary = nginxPath();
  if (!binary) throw new Error('nginx not found');
  const home = join(dir, 'nginx');
  for (const sub of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
    mkdirSync(join(home, sub), { recursive: true });
  }
  const port = await freePort();
  const target = new URL(upstream);
  // As root, nginx would switch its workers to `nobody`: keep them as the current user.
  const user = process.getuid?.() === 0 ? `user ${userInfo().username};` : '';
  const config = `
${user}
daemon off;
worker_processes ${workers};
pid ${join(home, 'nginx.pid')};
error_log ${join(home, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${join(home, 'client_body')};
  proxy_temp_path ${join(home, 'proxy')};
  fastcgi_temp_path ${join(home, 'fastcgi')};
  uwsgi_temp_path ${join(home, 'uwsgi')};
  scgi_temp_path ${join(home, 'scgi')};
  keepalive_timeout 65s;
  keepalive_requests 1000000;
  upstream fake_stripe {
    server ${target.hostname}:${target.port};
    keepalive 128;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://fake_stripe;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
  const file = join(home, 'nginx.conf');
  writeFileSync(file, config);
  const args = ['-p', home, '-e', join(home, 'error.log'), '-c', file];
  const test = await runToEnd(binary, [...args, '-t'], 10_000);
  if (test.code !== 0) throw new Error(`nginx -t failed: ${test.stderr.trim()}`);
  // nginx prints nothing once listening: it is ready when its port accepts connections.
  const started = await startProcess(binary, args, {}, () => waitForPort(port).then(() => ''), 15_000);
  return { child: started.child, value: `http://127.0.0.1:${port}` };
}
