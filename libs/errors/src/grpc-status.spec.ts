import { Metadata, status as GrpcCode, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { googleRpc } from '@tessera/contracts';
import { AppError, type ErrorKind, ERROR_KINDS, INTERNAL_CODE, INTERNAL_MESSAGE } from './app-error';
import { ERROR_DOMAIN, fromGrpcError, STATUS_DETAILS_KEY, toGrpcStatus } from './grpc-status';

/** What a grpc-js client receives when the server answers with `status`. */
function asServiceError(status: StatusObject): ServiceError {
  return Object.assign(new Error(`${status.code} ${GrpcCode[status.code]}: ${status.details}`), status);
}

describe('toGrpcStatus', () => {
  it('maps each kind to its gRPC code', () => {
    const expected: Record<ErrorKind, GrpcCode> = {
      INVALID_ARGUMENT: GrpcCode.INVALID_ARGUMENT,
      NOT_FOUND: GrpcCode.NOT_FOUND,
      ALREADY_EXISTS: GrpcCode.ALREADY_EXISTS,
      FAILED_PRECONDITION: GrpcCode.FAILED_PRECONDITION,
      ABORTED: GrpcCode.ABORTED,
      PERMISSION_DENIED: GrpcCode.PERMISSION_DENIED,
      UNAUTHENTICATED: GrpcCode.UNAUTHENTICATED,
      RESOURCE_EXHAUSTED: GrpcCode.RESOURCE_EXHAUSTED,
      UNAVAILABLE: GrpcCode.UNAVAILABLE,
      DEADLINE_EXCEEDED: GrpcCode.DEADLINE_EXCEEDED,
      INTERNAL: GrpcCode.INTERNAL,
    };
    for (const kind of ERROR_KINDS) {
      expect(toGrpcStatus(new AppError({ code: 'T.X', kind, message: 'm' })).code).toBe(expected[kind]);
    }
  });

  it('carries ErrorInfo with the code as reason in grpc-status-details-bin', () => {
    const status = toGrpcStatus(
      new AppError({
        code: 'PAYMENTS.INSUFFICIENT_FUNDS',
        kind: 'FAILED_PRECONDITION',
        message: 'Not enough funds',
        metadata: { accountId: 'a-1' },
      }),
    );
    const [raw] = status.metadata.get(STATUS_DETAILS_KEY);
    const rich = googleRpc.Status.decode(raw as Buffer);
    expect(rich.code).toBe(GrpcCode.FAILED_PRECONDITION);
    expect(rich.message).toBe('Not enough funds');
    expect(rich.details.map((d) => d.typeUrl)).toEqual(['type.googleapis.com/google.rpc.ErrorInfo']);
    const info = googleRpc.ErrorInfo.decode(rich.details[0]!.value);
    expect(info).toEqual({ reason: 'PAYMENTS.INSUFFICIENT_FUNDS', domain: ERROR_DOMAIN, metadata: { accountId: 'a-1' } });
  });

  it('hides the message of errors that are not AppErrors', () => {
    const status = toGrpcStatus(new Error('connect ECONNREFUSED 10.0.0.7:5432 password=hunter2'));
    expect(status.code).toBe(GrpcCode.INTERNAL);
    expect(status.details).toBe(INTERNAL_MESSAGE);
    expect(JSON.stringify(fromGrpcError(asServiceError(status)))).not.toContain('hunter2');
    expect(fromGrpcError(asServiceError(status)).code).toBe(INTERNAL_CODE);
  });
});

describe('fromGrpcError', () => {
  it('round-trips code, kind, message, metadata and field violations', () => {
    const original = new AppError({
      code: 'PAYMENTS.INVALID_TRANSFER',
      kind: 'INVALID_ARGUMENT',
      message: 'The transfer is invalid',
      metadata: { sourceAccountId: 'a-1', limit: '100' },
      fieldViolations: [
        { field: 'amount.currency', description: 'must be an ISO 4217 code' },
        { field: 'amount.amountMinor', description: 'must be positive' },
      ],
    });
    const back = fromGrpcError(asServiceError(toGrpcStatus(original)));
    expect(back).toBeInstanceOf(AppError);
    expect({
      code: back.code,
      kind: back.kind,
      message: back.message,
      metadata: back.metadata,
      fieldViolations: back.fieldViolations,
    }).toEqual({
      code: original.code,
      kind: original.kind,
      message: original.message,
      metadata: original.metadata,
      fieldViolations: original.fieldViolations,
    });
  });

  it('round-trips every kind', () => {
    for (const kind of ERROR_KINDS) {
      expect(fromGrpcError(asServiceError(toGrpcStatus(new AppError({ code: 'T.X', kind, message: 'm' })))).kind).toBe(kind);
    }
  });

  it('maps a status without details to a GRPC.<STATUS> code of the matching kind', () => {
    const err = asServiceError({
      code: GrpcCode.UNAVAILABLE,
      details: 'No connection established. Last error: connect ECONNREFUSED 10.0.3.7:50051',
      metadata: new Metadata(),
    });
    const app = fromGrpcError(err);
    expect(app).toMatchObject({
      code: 'GRPC.UNAVAILABLE',
      kind: 'UNAVAILABLE',
      message: 'A service this request needs is unavailable; retry later',
    });
    expect(app.cause).toBe(err); // the raw text stays available to logs
    const serialization = fromGrpcError(
      asServiceError({ code: GrpcCode.INTERNAL, details: 'Request message serialization failure: bad int64', metadata: new Metadata() }),
    );
    expect(serialization).toMatchObject({ code: 'GRPC.INTERNAL', kind: 'INTERNAL', message: INTERNAL_MESSAGE });
    expect(fromGrpcError(asServiceError({ code: GrpcCode.UNIMPLEMENTED, details: '', metadata: new Metadata() })).kind).toBe('INTERNAL');
  });

  it('keeps the status code when the details trailer is corrupt', () => {
    const metadata = new Metadata();
    metadata.set(STATUS_DETAILS_KEY, Buffer.from([0xff, 0xff, 0xff]));
    const app = fromGrpcError(asServiceError({ code: GrpcCode.NOT_FOUND, details: 'gone', metadata }));
    expect(app).toMatchObject({ code: 'GRPC.NOT_FOUND', kind: 'NOT_FOUND' });
  });

  it('turns values that are not gRPC errors into a generic INTERNAL error', () => {
    expect(fromGrpcError('boom')).toMatchObject({ code: INTERNAL_CODE, kind: 'INTERNAL', message: INTERNAL_MESSAGE });
    expect(fromGrpcError(new TypeError('x is undefined'))).toMatchObject({ kind: 'INTERNAL', message: INTERNAL_MESSAGE });
  });

  it('returns AppErrors unchanged', () => {
    const err = new AppError({ code: 'T.X', kind: 'ABORTED', message: 'm' });
    expect(fromGrpcError(err)).toBe(err);
  });
});
