import {
  auditQuery,
  bulkRevokeBody,
  decideApprovalBody,
  issueKeyBody,
  listApprovalsQuery,
  listKeysQuery,
} from './admin-schemas.js';
import { budgetRouteDocs } from './openapi-budget-docs.js';
import type { RouteDoc } from './openapi-route-doc.js';
import { listReservationsQuery, resolveReservationBody } from './reservation-routes.js';

const issued = { status: 201, description: 'The key, with its token (shown once)' } as const;

/** `admin-routes.ts`: vault keys. */
export const keyRouteDocs: readonly RouteDoc[] = [
  {
    method: 'POST',
    path: '/v1/keys',
    operationId: 'issueKey',
    summary: 'Issue a vault key',
    description:
      'A key with USD caps, an endpoint allowlist and an expiry. With no cap named, the configured default ' +
      'daily cap applies, or the answer is 400 `cap_required`.',
    tag: 'keys',
    auth: 'admin',
    body: issueKeyBody,
    success: issued,
  },
  {
    method: 'POST',
    path: '/vault/keys',
    operationId: 'issueKeyAlias',
    summary: 'Issue a vault key (alias of POST /v1/keys)',
    tag: 'keys',
    auth: 'admin',
    body: issueKeyBody,
    success: issued,
  },
  {
    method: 'GET',
    path: '/v1/keys',
    operationId: 'listKeys',
    summary: 'List keys, newest first',
    description:
      '`status=expired` lists active keys past their expiry; `status=active` leaves them out. A filtered ' +
      'page may hold fewer than `limit` keys while `next_cursor` is not null: follow the cursor.',
    tag: 'keys',
    auth: 'admin',
    query: listKeysQuery,
  },
  {
    method: 'GET',
    path: '/v1/keys/:id',
    operationId: 'getKey',
    summary: 'Read a key and its spend',
    tag: 'keys',
    auth: 'admin',
  },
  {
    method: 'DELETE',
    path: '/v1/keys/:id',
    operationId: 'revokeKey',
    summary: 'Revoke a key (idempotent)',
    description: 'Once the answer has been sent, no instance forwards another call made with the key.',
    tag: 'keys',
    auth: 'admin',
  },
  {
    method: 'DELETE',
    path: '/vault/keys/:id',
    operationId: 'revokeKeyAlias',
    summary: 'Revoke a key (alias of DELETE /v1/keys/{id})',
    tag: 'keys',
    auth: 'admin',
  },
  {
    method: 'POST',
    path: '/v1/keys/revoke',
    operationId: 'revokeKeys',
    summary: 'Revoke every key matching exactly one filter',
    tag: 'keys',
    auth: 'admin',
    body: bulkRevokeBody,
  },
];

/** `admin-routes.ts`: the audit log. */
export const auditRouteDocs: readonly RouteDoc[] = [
  {
    method: 'GET',
    path: '/v1/audit',
    operationId: 'queryAudit',
    summary: 'Audit rows, one per proxied call, newest first',
    tag: 'audit',
    auth: 'admin',
    query: auditQuery,
  },
];

/** `reservation-routes.ts`: uncertain spend. */
export const reservationRouteDocs: readonly RouteDoc[] = [
  {
    method: 'GET',
    path: '/v1/reservations',
    operationId: 'listReservations',
    summary: 'List reservations (e.g. a key’s uncertain ones)',
    tag: 'reservations',
    auth: 'admin',
    query: listReservationsQuery,
  },
  {
    method: 'POST',
    path: '/v1/reservations/:id/resolve',
    operationId: 'resolveReservation',
    summary: 'Settle or release an uncertain reservation',
    tag: 'reservations',
    auth: 'admin',
    body: resolveReservationBody,
  },
];

/** `approval-routes.ts`: calls above a key's `approval_above_usd`, waiting for a person. */
export const approvalRouteDocs: readonly RouteDoc[] = [
  {
    method: 'GET',
    path: '/v1/approvals',
    operationId: 'listApprovals',
    summary: 'List approval requests (e.g. `status=pending`)',
    tag: 'approvals',
    auth: 'admin',
    query: listApprovalsQuery,
  },
  {
    method: 'GET',
    path: '/v1/approvals/:id',
    operationId: 'getApproval',
    summary: 'Read one approval request',
    tag: 'approvals',
    auth: 'admin',
  },
  {
    method: 'POST',
    path: '/v1/approvals/:id/approve',
    operationId: 'approveApproval',
    summary: 'Approve a pending call: the answer holds its single-use grant (`Spendgate-Approval`)',
    description: 'The grant is shown once. The approved call still reserves against every cap.',
    tag: 'approvals',
    auth: 'admin',
    body: decideApprovalBody,
    bodyOptional: true,
  },
  {
    method: 'POST',
    path: '/v1/approvals/:id/deny',
    operationId: 'denyApproval',
    summary: 'Deny a pending call',
    tag: 'approvals',
    auth: 'admin',
    body: decideApprovalBody,
    bodyOptional: true,
  },
];

/** `app.ts`, `metrics-routes.ts`, `openapi-routes.ts`: what a load balancer or a scraper calls. */
export const operationRouteDocs: readonly RouteDoc[] = [
  {
    method: 'GET',
    path: '/healthz',
    operationId: 'healthz',
    summary: 'Liveness: the process answers',
    tag: 'operations',
    auth: 'public',
  },
  {
    method: 'GET',
    path: '/readyz',
    operationId: 'readyz',
    summary: 'Readiness: the ledger answered within the last second (503 `ledger_unavailable` otherwise)',
    tag: 'operations',
    auth: 'public',
  },
  {
    method: 'GET',
    path: '/metrics',
    operationId: 'metrics',
    summary: 'Prometheus metrics',
    description: 'Needs the admin token unless the proxy runs with `SPENDGATE_METRICS_PUBLIC=true`.',
    tag: 'operations',
    auth: 'admin',
    success: { status: 200, description: 'Prometheus text format', contentType: 'text/plain' },
  },
  {
    method: 'GET',
    path: '/openapi.json',
    operationId: 'openapi',
    summary: 'This document',
    tag: 'operations',
    auth: 'public',
  },
];

/** Every route of the admin API and of operations, in document order. */
export const apiRouteDocs: readonly RouteDoc[] = [
  ...keyRouteDocs,
  ...auditRouteDocs,
  ...reservationRouteDocs,
  ...approvalRouteDocs,
  ...budgetRouteDocs,
  ...operationRouteDocs,
];
