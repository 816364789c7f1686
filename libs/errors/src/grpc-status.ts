import { Metadata, status as GrpcCode, type StatusObject } from '@grpc/grpc-js';
import { googleProtobuf, googleRpc } from '@tessera/contracts';
import { databaseUnavailable } from './database-unavailable';
import { AppError, type ErrorKind, type FieldViolation, INTERNAL_CODE, INTERNAL_MESSAGE, isAppError } from './app-error';

/** google.rpc.ErrorInfo.domain of every Tessera error. */
export const ERROR_DOMAIN = 'tessera';
/** Trailer carrying the binary google.rpc.Status (the gRPC "richer error model"). */
export const STATUS_DETAILS_KEY = 'grpc-status-details-bin';

const ERROR_INFO_TYPE = 'type.googleapis.com/google.rpc.ErrorInfo';
const BAD_REQUEST_TYPE = 'type.googleapis.com/google.rpc.BadRequest';

const KIND_TO_GRPC: Record<ErrorKind, GrpcCode> = {
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

/** gRPC codes with no ErrorKind of their own fold into the nearest one. */
const GRPC_TO_KIND: Record<number, ErrorKind> = {
  ...Object.fromEntries(Object.entries(KIND_TO_GRPC).map(([kind, code]) => [code, kind as ErrorKind])),
  [GrpcCode.CANCELLED]: 'ABORTED',
  [GrpcCode.OUT_OF_RANGE]: 'INVALID_ARGUMENT',
  [GrpcCode.UNKNOWN]: 'INTERNAL',
  [GrpcCode.UNIMPLEMENTED]: 'INTERNAL',
  [GrpcCode.DATA_LOSS]: 'INTERNAL',
};

/** The gRPC status code of an error kind. */
export function grpcCodeOf(kind: ErrorKind): GrpcCode {
  return KIND_TO_GRPC[kind];
}

/**
 * Converts anything thrown by a handler into the gRPC status to send. AppErrors keep their code (as
 * ErrorInfo.reason), metadata and field violations (as BadRequest) in the `grpc-status-details-bin`
 * trailer; a database that could not serve in time becomes UNAVAILABLE `DB.UNAVAILABLE` (databaseUnavailable); any
 * other error becomes a generic INTERNAL so internals never cross the wire.
 */
export function toGrpcStatus(err: unknown): StatusObject {
  const app = isAppError(err)
    ? err
    : (databaseUnavailable(err) ?? new AppError({ code: INTERNAL_CODE, kind: 'INTERNAL', message: INTERNAL_MESSAGE }));
  const code = KIND_TO_GRPC[app.kind];
  const details: googleProtobuf.Any[] = [
    {
      typeUrl: ERROR_INFO_TYPE,
      value: googleRpc.ErrorInfo.encode({ reason: app.code, domain: ERROR_DOMAIN, metadata: app.metadata }).finish(),
    },
  ];
  if (app.fieldViolations?.length) {
    const badRequest = googleRpc.BadRequest.fromPartial({
      fieldViolations: app.fieldViolations.map((v) => ({ field: v.field, description: v.description })),
    });
    details.push({ typeUrl: BAD_REQUEST_TYPE, value: googleRpc.BadRequest.encode(badRequest).finish() });
  }
  const metadata = new Metadata();
  const richStatus = googleRpc.Status.encode({ code, message: app.message, details }).finish();
  metadata.set(STATUS_DETAILS_KEY, Buffer.from(richStatus));
  return { code, details: app.message, metadata };
}

/** Safe messages for failures that carry no Tessera error details (transport errors, foreign servers). */
const TRANSPORT_MESSAGES: Partial<Record<ErrorKind, string>> = {
  UNAVAILABLE: 'A service this request needs is unavailable; retry later',
  DEADLINE_EXCEEDED: 'A service this request needs did not answer in time; retry later',
  RESOURCE_EXHAUSTED: 'A service this request needs is overloaded; retry later',
  UNAUTHENTICATED: 'The service refused the call: not authenticated',
  PERMISSION_DENIED: 'The service refused the call: not allowed',
  NOT_FOUND: 'Not found',
};

/**
 * Converts a failed gRPC call (a grpc-js ServiceError) back into the AppError the server threw, so
 * clients handle remote and local failures alike. Errors without Tessera details (network failures,
 * deadlines, foreign servers) become `GRPC.<STATUS>` codes of the matching kind.
 */
export function fromGrpcError(err: unknown): AppError {
  if (isAppError(err)) return err;
  const grpcCode = readGrpcCode(err);
  if (grpcCode === undefined) {
    return new AppError({ code: INTERNAL_CODE, kind: 'INTERNAL', message: INTERNAL_MESSAGE, cause: err });
  }
  const kind = GRPC_TO_KIND[grpcCode] ?? 'INTERNAL';
  const rich = readRichStatus(err);
  if (!rich) {
    // No Tessera details: the text comes from grpc-js or a foreign server ("No connection established. Last
    // error: connect ECONNREFUSED 10.0.3.7:50051", "Request message serialization failure: ..."), which names
    // internal addresses and code paths. Callers get a fixed message per kind; the original stays in `cause` for logs.
    return new AppError({
      code: `GRPC.${GrpcCode[grpcCode] ?? 'UNKNOWN'}`,
      kind,
      message: TRANSPORT_MESSAGES[kind] ?? INTERNAL_MESSAGE,
      cause: err,
    });
  }
  const message = readString(err, 'details') || GrpcCode[grpcCode] || 'gRPC call failed';
  let code = `GRPC.${GrpcCode[grpcCode] ?? 'UNKNOWN'}`;
  let metadata: Record<string, string> = {};
  let fieldViolations: FieldViolation[] | undefined;
  for (const detail of rich.details) {
    if (detail.typeUrl === ERROR_INFO_TYPE) {
      const info = googleRpc.ErrorInfo.decode(detail.value);
      if (info.reason) code = info.reason;
      metadata = { ...info.metadata };
    } else if (detail.typeUrl === BAD_REQUEST_TYPE) {
      fieldViolations = googleRpc.BadRequest.decode(detail.value).fieldViolations.map((v) => ({
        field: v.field,
        description: v.description,
      }));
    }
  }
  return new AppError({ code, kind, message: rich.message || message, metadata, fieldViolations, cause: err });
}

function readGrpcCode(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' && Number.isInteger(code) && code > 0 && code <= 16 ? code : undefined;
}

function readString(err: unknown, key: string): string {
  const value = (err as Record<string, unknown>)[key];
  return typeof value === 'string' ? value : '';
}

function readRichStatus(err: unknown): googleRpc.Status | undefined {
  const metadata = (err as { metadata?: unknown }).metadata;
  if (!(metadata instanceof Metadata)) return undefined;
  const [raw] = metadata.get(STATUS_DETAILS_KEY);
  if (!raw || typeof raw === 'string') return undefined;
  try {
    return googleRpc.Status.decode(raw);
  } catch {
    // A corrupt trailer must not hide the status code we already have.
    return undefined;
  }
}
