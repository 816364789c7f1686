export {
  AppError,
  type AppErrorOptions,
  ERROR_KINDS,
  type ErrorKind,
  type FieldViolation,
  INTERNAL_CODE,
  INTERNAL_MESSAGE,
  isAppError,
} from './app-error';
export { DATABASE_UNAVAILABLE_CODE, databaseUnavailable } from './database-unavailable';
export { ERROR_DOMAIN, fromGrpcError, grpcCodeOf, STATUS_DETAILS_KEY, toGrpcStatus } from './grpc-status';
export { httpStatusOf, PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE, type ProblemDetails, toProblem } from './problem';
