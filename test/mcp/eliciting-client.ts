import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  ElicitRequestSchema,
  type ElicitRequest,
  type ElicitResult,
} from '@modelcontextprotocol/sdk/types.js';

/** How the scripted person answers one approval question. */
export type PersonAnswer = 'approve' | 'reject' | 'decline' | 'cancel' | 'fail';

/** An SDK client and every elicitation request it received, in order. */
export interface ElicitingClient {
  readonly client: Client;
  readonly questions: ElicitRequest['params'][];
}

/**
 * The SDK's `Client` declaring form elicitation, with a request handler that plays the person: `answers`
 * is consumed one per question, the last one repeating. `approve` accepts with `approve: true`, `reject`
 * accepts with `approve: false`, `fail` throws (a client that could not show the form).
 */
export function elicitingClient(...answers: PersonAnswer[]): ElicitingClient {
  const client = new Client(
    { name: 'spendgate-approval-test', version: '1.0.0' },
    { capabilities: { elicitation: { form: {} } } },
  );
  const questions: ElicitRequest['params'][] = [];
  client.setRequestHandler(ElicitRequestSchema, (request): ElicitResult => {
    questions.push(request.params);
    const answer = answers[Math.min(questions.length, answers.length) - 1] ?? 'cancel';
    if (answer === 'fail') throw new Error('this client cannot show forms right now');
    if (answer === 'approve') return { action: 'accept', content: { approve: true } };
    if (answer === 'reject') return { action: 'accept', content: { approve: false } };
    return { action: answer };
  });
  return { client, questions };
}

/** A client that declares no elicitation at all: it cannot ask anyone. */
export function plainClient(): Client {
  return new Client({ name: 'spendgate-plain-test', version: '1.0.0' });
}
