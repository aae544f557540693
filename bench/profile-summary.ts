/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`) by self time, grouped by package or project file:
 *   npx tsx bench/profile-summary.ts bench/profiles/<file>.cpuprofile
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
}

const file = process.argv[2];
if (!file) throw new Error('usage: profile-summary <file.cpuprofile>');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const total = profile.samples.length;
const byGroup = new Map<string, number>();
const byFunction = new Map<string, number>();

function group(url: string, name: string): string {
  if (url === '')
    return name === '(garbage collector)' || name === '(idle)' || name === '(program)' ? name : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg?.[1]) return pkg[1];
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const own = /\/(src|adapters)\/(.+)$/.exec(url);
  return own ? `spendgate ${own[1]}/${own[2]}` : url;
}

for (const node of profile.nodes) {
  const hits = node.hitCount ?? 0;
  if (hits === 0) continue;
  const g = group(node.callFrame.url, node.callFrame.functionName);
  byGroup.set(g, (byGroup.get(g) ?? 0) + hits);
  const f = `${node.callFrame.functionName || '(anonymous)'} ${g}`;
  byFunction.set(f, (byFunction.get(f) ?? 0) + hits);
}

const top = (map: Map<string, number>, n: number) =>
  [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, hits]) => `${((hits / total) * 100).toFixed(1).padStart(5)} %  ${name}`)
    .join('\n');
console.log(
  `self time by package (${total} samples)\n${top(byGroup, 18)}\n\ntop functions\n${top(byFunction, 20)}`,
);
