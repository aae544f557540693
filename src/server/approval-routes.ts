import type { FastifyInstance, FastifyRequest } from 'fastify';
import { spendgateError } from '../errors/index.js';
import type { ApprovalRecord } from '../store/types.js';
import { adminGuard, principalOf } from './admin-auth.js';
import { assertInScope, scopeOf } from './issuer-scope.js';
import { decideApprovalBody, listApprovalsQuery } from './admin-schemas.js';
import { newGrant } from './approval-gate.js';
import type { ProxyContext } from './context.js';
import { jsonBody } from './json-body.js';
import { ledger } from './ledger.js';
import { hashToken } from './tokens.js';
import { validate } from './validate.js';
import { approvalView } from './views.js';

/**
 * Approval above an amount: list the calls waiting for a person, and approve or deny each once. The admin
 * token reaches every approval, an issuer token those of keys in its subtree; a vault key (what a model's
 * tools hold) never can, so a model cannot approve its own call.
 */
export function registerApprovalRoutes(app: FastifyInstance, ctx: ProxyContext): void {
  const admin = {
    onRequest: adminGuard(ctx, { issuers: true }),
  };

  app.get('/v1/approvals', admin, async (request) => {
    const query = validate(listApprovalsQuery, request.query);
    const page = await ledger(() =>
      ctx.store.listApprovals({
        status: query.status,
        keyId: query.key_id,
        label: query.label,
        within: scopeOf(principalOf(request)),
        limit: query.limit,
        cursor: query.cursor,
      }),
    );
    return { data: page.data.map(approvalView), next_cursor: page.nextCursor };
  });

  /** The approval, when the caller may see its key: an issuer only its own subtree's, else not found. */
  const visibleApproval = async (request: FastifyRequest, id: string): Promise<ApprovalRecord> => {
    const approval = await ledger(() => ctx.store.getApproval(id));
    if (!approval) throw spendgateError('not_found', `No approval ${id}`);
    const principal = principalOf(request);
    if (principal.kind === 'issuer') {
      const key = await ledger(() => ctx.store.getKey(approval.keyId));
      assertInScope(principal, key?.budgetPath ?? [], { kind: 'approval', id });
    }
    return approval;
  };

  app.get('/v1/approvals/:id', admin, async (request) => {
    const { id } = request.params as { id: string };
    return approvalView(await visibleApproval(request, id));
  });

  app.post('/v1/approvals/:id/approve', admin, async (request) => {
    const { id } = request.params as { id: string };
    decisionBody(request);
    await visibleApproval(request, id);
    const grant = newGrant();
    const result = await ledger(() =>
      ctx.store.decideApproval({
        id,
        decision: 'approved',
        grantHash: hashToken(grant),
        grantTtlMs: ctx.config.SPENDGATE_APPROVAL_TTL,
      }),
    );
    const approval = decided(id, result);
    ctx.logger.info({ event: 'approval_approved', approval_id: id, key_id: approval.keyId }, 'call approved');
    // The grant is shown here once; the ledger keeps only its hash.
    return { id, status: 'approved', grant, expires_at: new Date(approval.expiresAt).toISOString() };
  });

  app.post('/v1/approvals/:id/deny', admin, async (request) => {
    const { id } = request.params as { id: string };
    decisionBody(request);
    await visibleApproval(request, id);
    const result = await ledger(() => ctx.store.decideApproval({ id, decision: 'denied' }));
    const approval = decided(id, result);
    ctx.logger.info({ event: 'approval_denied', approval_id: id, key_id: approval.keyId }, 'call denied');
    return { id, status: 'denied' };
  });
}

/** The decision body is optional; when there is one it must be valid JSON of the decision's shape. */
function decisionBody(request: FastifyRequest): void {
  const raw = request.body;
  if (Buffer.isBuffer(raw) && raw.length > 0) validate(decideApprovalBody, jsonBody(request));
}

function decided(
  id: string,
  result: Awaited<ReturnType<ProxyContext['store']['decideApproval']>>,
): ApprovalRecord {
  if (result.ok) return result.approval;
  if (result.reason === 'not_found') throw spendgateError('not_found', `No approval ${id}`);
  throw spendgateError(
    'approval_invalid',
    `Approval ${id} is ${result.approval.status}: it can be decided only once, while pending`,
    {
      approval_id: id,
      status: result.approval.status,
    },
  );
}
