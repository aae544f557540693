/**
 * The proxy the MCP examples hand to `spendgate mcp`: yours (`SPENDGATE_URL` + `SPENDGATE_ADMIN_TOKEN`), or a
 * sandbox one in this process whose vendors are in-process fakes. Unlike the other examples these need the
 * admin token itself, to give it to the MCP server process (never to the model or the MCP client).
 */
import { createSpendgateClient, type SpendgateClient } from 'spendgate/client';
import { startSandboxProxy } from 'spendgate/server';

export interface McpExampleProxy {
  readonly url: string;
  readonly adminToken: string;
  readonly client: SpendgateClient;
  readonly sandbox: boolean;
  close(): Promise<void>;
}

export async function proxyForExample(): Promise<McpExampleProxy> {
  const url = process.env.SPENDGATE_URL;
  const adminToken = process.env.SPENDGATE_ADMIN_TOKEN;
  if (url && adminToken) {
    const client = createSpendgateClient({ baseUrl: url, adminToken });
    return { url, adminToken, client, sandbox: false, close: async () => {} };
  }
  const sandbox = await startSandboxProxy();
  const client = createSpendgateClient({ baseUrl: sandbox.url, adminToken: sandbox.adminToken });
  return {
    url: sandbox.url,
    adminToken: sandbox.adminToken,
    client,
    sandbox: true,
    close: () => sandbox.close(),
  };
}
