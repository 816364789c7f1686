import { authClientInterceptor } from '@tessera/grpc';
import type { TestAuth } from '@tessera/auth';

// In-process suites run plaintext explicitly (mTLS is covered by libs/grpc and the e2e platform).
process.env['TESSERA_GRPC_PLAINTEXT'] ??= 'true';

/** A back-office caller (operator + auditor: every scope transactions checks) for suites about the ledger, not auth. */
export async function staffAuthorization(auth: TestAuth): Promise<string> {
  return `Bearer ${await auth.issuer.mint({ sub: 'staff-test', roles: ['operator', 'auditor'], ttlSec: 3600 })}`;
}

/** Client option: send `authorization` on every call that does not set its own. */
export function sendAs(authorization: string) {
  return { interceptors: [authClientInterceptor(() => ({ authorization }))] };
}
