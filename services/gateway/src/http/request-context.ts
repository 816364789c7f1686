import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { Metadata } from '@grpc/grpc-js';
import { AppError } from '@tessera/errors';
import type { FastifyRequest } from 'fastify';
import { type Credential, credentialOf } from '../auth/auth.decorators';

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
const KEY_MIN = 8;
const KEY_MAX = 128;

function single(raw: string | string[] | undefined): string | undefined {
  return Array.isArray(raw) ? raw[0] : raw;
}

/** The Idempotency-Key every mutating route requires; missing and malformed keys are distinct codes. */
export function idempotencyKeyOf(raw: string | string[] | undefined): string {
  const key = single(raw);
  if (key === undefined || key === '') {
    throw new AppError({
      code: 'HTTP.IDEMPOTENCY_KEY_REQUIRED',
      kind: 'INVALID_ARGUMENT',
      message: `Send an ${IDEMPOTENCY_KEY_HEADER} header (${KEY_MIN}-${KEY_MAX} characters) with every POST`,
      fieldViolations: [{ field: IDEMPOTENCY_KEY_HEADER, description: 'required' }],
    });
  }
  if (key.length < KEY_MIN || key.length > KEY_MAX) {
    throw new AppError({
      code: 'HTTP.INVALID_IDEMPOTENCY_KEY',
      kind: 'INVALID_ARGUMENT',
      message: 'The request is invalid',
      fieldViolations: [{ field: IDEMPOTENCY_KEY_HEADER, description: `must be ${KEY_MIN} to ${KEY_MAX} characters` }],
    });
  }
  return key;
}

/** gRPC metadata keys carrying the caller's original credential; each service verifies it again (never trusts the hop). */
export const AUTHORIZATION_METADATA = 'authorization';
export const API_KEY_METADATA = 'x-api-key';

/**
 * gRPC metadata for an upstream call: the credential AuthGuard verified, verbatim. Nothing the client says about
 * itself in other headers is forwarded (the old `X-Tessera-Principal` placeholder is ignored).
 */
export function callMetadataOf(credential: Credential | undefined): Metadata {
  const metadata = new Metadata();
  if (credential?.kind === 'bearer') metadata.set(AUTHORIZATION_METADATA, `Bearer ${credential.token}`);
  else if (credential?.kind === 'api-key') metadata.set(API_KEY_METADATA, credential.key);
  return metadata;
}

function headerOf(ctx: ExecutionContext, name: string): string | string[] | undefined {
  return ctx.switchToHttp().getRequest<FastifyRequest>().headers[name.toLowerCase()];
}

/** Route parameter: the validated Idempotency-Key header. */
export const IdempotencyKey = createParamDecorator((_data: unknown, ctx: ExecutionContext): string =>
  idempotencyKeyOf(headerOf(ctx, IDEMPOTENCY_KEY_HEADER)),
);

/** Route parameter: gRPC metadata to send upstream, carrying the caller's verified credential. */
export const CallMetadata = createParamDecorator((_data: unknown, ctx: ExecutionContext): Metadata =>
  callMetadataOf(credentialOf(ctx.switchToHttp().getRequest<FastifyRequest>())),
);
