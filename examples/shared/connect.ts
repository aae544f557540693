/**
 * Where the examples find a proxy: `SPENDGATE_URL` + `SPENDGATE_ADMIN_TOKEN` when set (a proxy you run with
 * `npx spendgate serve`), otherwise a sandbox proxy started in this process, whose vendors are in-process
 * fakes: nothing leaves the machine and no vendor keys are needed.
 */
import { createSpendgateClient, type SpendgateClient } from 'spendgate/client';
import { startSandboxProxy } from 'spendgate/server';

export interface ExampleProxy {
  readonly client: SpendgateClient;
  readonly proxyUrl: string;
  readonly sandbox: boolean;
  close(): Promise<void>;
}

export async function connectProxy(): Promise<ExampleProxy> {
  const url = process.env.SPENDGATE_URL;
  const adminToken = process.env.SPENDGATE_ADMIN_TOKEN;
  if (url && adminToken) {
    return {
      client: createSpendgateClient({ baseUrl: url, adminToken }),
      proxyUrl: url,
      sandbox: false,
      close: async () => {},
    };
  }
  const sandbox = await startSandboxProxy();
  return {
    client: createSpendgateClient({ baseUrl: sandbox.url, adminToken: sandbox.adminToken }),
    proxyUrl: sandbox.url,
    sandbox: true,
    close: () => sandbox.close(),
  };
}

/** Whether to call a real model: only when an OpenAI key is set. */
export function useRealModel(): boolean {
  return Boolean(process.env.OPENAI_API_KEY);
}

/** The OpenAI model the real-model path uses. */
export const OPENAI_MODEL = process.env.OPENAI_MODEL ?? 'gpt-4.1-mini';
