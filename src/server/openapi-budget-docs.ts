import { issueBudgetBody, issueIssuerBody, listBudgetsQuery, listIssuersQuery } from './admin-schemas.js';
import type { RouteDoc } from './openapi-route-doc.js';

/** `budget-routes.ts` and `issuer-routes.ts`: budgets and issuer tokens. */
export const budgetRouteDocs: readonly RouteDoc[] = [
  {
    method: 'POST',
    path: '/v1/budgets',
    operationId: 'createBudget',
    summary: 'Create a budget, optionally under a parent',
    description:
      'A root budget needs `usd_cap` or `daily_usd_cap` (`cap_required`). A child may have none and shares ' +
      'what its ancestors have left; it cannot outlive its parent (`outlives_parent`) and nests at most 8 deep.',
    tag: 'budgets',
    auth: 'admin',
    body: issueBudgetBody,
    success: { status: 201, description: 'The budget' },
  },
  {
    method: 'GET',
    path: '/v1/budgets',
    operationId: 'listBudgets',
    summary: 'List budgets, newest first',
    tag: 'budgets',
    auth: 'admin',
    query: listBudgetsQuery,
  },
  {
    method: 'GET',
    path: '/v1/budgets/:id',
    operationId: 'getBudget',
    summary: 'Read a budget, its spend and what is left (the least of it and its ancestors)',
    tag: 'budgets',
    auth: 'admin',
  },
  {
    method: 'DELETE',
    path: '/v1/budgets/:id',
    operationId: 'revokeBudget',
    summary: 'Revoke a budget, every budget below it and every key under any of them',
    tag: 'budgets',
    auth: 'admin',
  },
  {
    method: 'POST',
    path: '/v1/issuers',
    operationId: 'createIssuer',
    summary: 'Create an issuer token scoped to a budget subtree (admin token only)',
    description: 'The token (`it_…`) is shown once and stored hashed.',
    tag: 'issuers',
    auth: 'admin',
    body: issueIssuerBody,
    success: { status: 201, description: 'The issuer, with its token (shown once)' },
  },
  {
    method: 'GET',
    path: '/v1/issuers',
    operationId: 'listIssuers',
    summary: 'List issuers (admin token only)',
    tag: 'issuers',
    auth: 'admin',
    query: listIssuersQuery,
  },
  {
    method: 'GET',
    path: '/v1/issuers/:id',
    operationId: 'getIssuer',
    summary: 'Read an issuer (admin token only)',
    tag: 'issuers',
    auth: 'admin',
  },
  {
    method: 'DELETE',
    path: '/v1/issuers/:id',
    operationId: 'revokeIssuer',
    summary: 'Revoke an issuer token (admin token only)',
    tag: 'issuers',
    auth: 'admin',
  },
];
