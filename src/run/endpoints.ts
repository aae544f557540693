import { spendgateError } from '../errors/index.js';
import type { SpendTool } from '../tools/types.js';

/**
 * The `allowed_endpoints` of each vendor key, derived from the tools the run registers: the union of what
 * those tools declare, and nothing more. A run with only an SMS tool gets a Twilio key that can send
 * messages, and no Stripe key at all.
 */
export function endpointsByVendor(tools: readonly SpendTool[]): ReadonlyMap<string, readonly string[]> {
  const names = new Set<string>();
  const byVendor = new Map<string, Set<string>>();
  for (const tool of tools) {
    if (names.has(tool.name)) {
      throw spendgateError('bad_request', `Two tools in one run are named ${tool.name}`, { param: 'tools' });
    }
    names.add(tool.name);
    if (tool.endpoints.length === 0) {
      throw spendgateError('bad_request', `Tool ${tool.name} declares no endpoints`, { param: 'tools' });
    }
    const set = byVendor.get(tool.vendor) ?? new Set<string>();
    for (const endpoint of tool.endpoints) set.add(endpoint);
    byVendor.set(tool.vendor, set);
  }
  return new Map([...byVendor].map(([vendor, set]) => [vendor, [...set].sort()]));
}
