import { randomUUID } from 'node:crypto';
import { complianceV1, descriptorSetPath } from '@tessera/contracts';
import { AppError } from '@tessera/errors';
import { createGrpcServer, type GrpcServerHandle, unaryService } from '@tessera/grpc';
import { freePort } from './ports';

/**
 * A real ComplianceService gRPC server that approves every movement: transactions screens each transfer
 * before commit (fail-closed), so process-level tests need something real listening at COMPLIANCE_ADDR.
 * It keeps compliance's idempotency contract: the same screening key with the same subject replays the first
 * decision; with another subject it is refused with COMPLIANCE.IDEMPOTENCY_KEY_REUSED (FAILED_PRECONDITION),
 * exactly as the real service does (`ScreenHandler`), so retries are tested against the real rule.
 */
export async function approvingCompliance(options: { latencyMs?: number } = {}): Promise<
  GrpcServerHandle & {
    screened: () => number;
    decided: () => number;
    calls: () => { screen: number; screenBatch: number };
    /** Every call: the credential it forwarded and the screening keys it carried. */
    log: () => Array<{ authorization: string | undefined; keys: string[] }>;
  }
> {
  let screened = 0;
  const calls = { screen: 0, screenBatch: 0 };
  const log: Array<{ authorization: string | undefined; keys: string[] }> = [];
  /** A slow compliance (`latencyMs` per call) lets a test see concurrent screenings share a call. */
  const answer = async <T>(method: keyof typeof calls, ctx: { authorization: string | undefined }, keys: string[], decideNow: () => T) => {
    calls[method]++;
    log.push({ authorization: ctx.authorization, keys });
    if (options.latencyMs) await new Promise((resolve) => setTimeout(resolve, options.latencyMs));
    return decideNow();
  };
  const decisions = new Map<string, { subject: string; response: complianceV1.ScreenResponse }>();
  const subjectOf = (request: complianceV1.ScreenRequest) =>
    JSON.stringify({ ...request.subject, requestedAt: undefined }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  /** The prior decision of this key, or undefined; a reused key with another subject is refused like compliance does. */
  const check = (request: complianceV1.ScreenRequest) => {
    const prior = decisions.get(request.idempotencyKey);
    if (prior && prior.subject !== subjectOf(request)) {
      throw new AppError({
        code: 'COMPLIANCE.IDEMPOTENCY_KEY_REUSED',
        kind: 'FAILED_PRECONDITION',
        message: 'idempotency key was used for a different screening',
      });
    }
    return prior;
  };
  const decide = (request: complianceV1.ScreenRequest) => {
    screened++;
    const prior = check(request);
    if (prior) return prior.response;
    const response = complianceV1.ScreenResponse.fromPartial({
      screeningId: randomUUID(),
      decision: complianceV1.Decision.DECISION_APPROVE,
      reasons: [],
      ruleVersion: 'test-approve-all',
      riskScore: 0,
    });
    decisions.set(request.idempotencyKey, { subject: subjectOf(request), response });
    return response;
  };
  const handle = await createGrpcServer({
    port: await freePort(),
    host: '127.0.0.1',
    descriptorSetPath,
    services: [
      {
        definition: complianceV1.ComplianceServiceService,
        implementation: unaryService(complianceV1.ComplianceServiceService, {
          screen: (request: complianceV1.ScreenRequest, ctx) => answer('screen', ctx, [request.idempotencyKey], () => decide(request)),
          // All or nothing like the real one: a key used twice in the call, or reused for another subject, refuses the
          // whole call before anything is decided.
          screenBatch: (request: complianceV1.ScreenBatchRequest, ctx) =>
            answer(
              'screenBatch',
              ctx,
              request.items.map((i) => i.idempotencyKey),
              () => {
                const keys = request.items.map((i) => i.idempotencyKey);
                if (new Set(keys).size !== keys.length) {
                  throw new AppError({
                    code: 'COMPLIANCE.INVALID_REQUEST',
                    kind: 'INVALID_ARGUMENT',
                    message: 'request is invalid',
                    fieldViolations: [{ field: 'items', description: 'same key twice' }],
                  });
                }
                for (const item of request.items) check(item);
                return { items: request.items.map(decide) };
              },
            ),
          listAlerts: async () => ({ alerts: [] }),
          assignAlert: async () => ({}),
          resolveAlert: async () => ({}),
        }),
      },
    ],
  });
  return Object.assign(handle, {
    screened: () => screened,
    decided: () => decisions.size,
    calls: () => ({ ...calls }),
    log: () => [...log],
  });
}
