import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { Metadata } from '@grpc/grpc-js';
import { AppError } from '@tessera/errors';
import { PRINCIPAL_KEY } from '@tessera/grpc';
import type { FastifyRequest } from 'fastify';

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
/**
 * PLACEHOLDER until real authentication (issue #5): the caller names itself in this header and the gateway
 * forwards it verbatim as gRPC metadata `x-tessera-principal`, which services record as the audit actor and
 * use for four-eyes checks. Nothing verifies it yet; issue #5 replaces it with a principal taken from a
 * verified token, and this header must then be ignored (or rejected) at the edge.
 */
export const PRINCIPAL_HEADER = 'X-Tessera-Principal';

const KEY_MIN = 8;
const KEY_MAX = 128;
const PRINCIPAL_PATTERN = /^[A-Za-z0-9._@:-]{1,128}$/;

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

/** gRPC metadata for an upstream call: the (placeholder, see PRINCIPAL_HEADER) principal when one was sent. */
export function callMetadataOf(rawPrincipal: string | string[] | undefined): Metadata {
  const metadata = new Metadata();
  const principal = single(rawPrincipal);
  if (principal === undefined || principal === '') return metadata;
  if (!PRINCIPAL_PATTERN.test(principal)) {
    throw new AppError({
      code: 'HTTP.INVALID_PRINCIPAL',
      kind: 'INVALID_ARGUMENT',
      message: 'The request is invalid',
      fieldViolations: [{ field: PRINCIPAL_HEADER, description: 'must be 1-128 characters of A-Z a-z 0-9 . _ @ : -' }],
    });
  }
  metadata.set(PRINCIPAL_KEY, principal);
  return metadata;
}

function headerOf(ctx: ExecutionContext, name: string): string | string[] | undefined {
  return ctx.switchToHttp().getRequest<FastifyRequest>().headers[name.toLowerCase()];
}

/** Route parameter: the validated Idempotency-Key header. */
export const IdempotencyKey = createParamDecorator((_data: unknown, ctx: ExecutionContext): string =>
  idempotencyKeyOf(headerOf(ctx, IDEMPOTENCY_KEY_HEADER)),
);

/** Route parameter: gRPC metadata to send upstream (carries the caller's principal; placeholder until issue #5). */
export const CallMetadata = createParamDecorator((_data: unknown, ctx: ExecutionContext): Metadata =>
  callMetadataOf(headerOf(ctx, PRINCIPAL_HEADER)),
);
