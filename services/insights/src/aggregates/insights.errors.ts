import { AppError, type FieldViolation } from '@tessera/errors';

export const InsightsErrorCodes = {
  invalidRequest: 'INSIGHTS.INVALID_REQUEST',
  invalidPageToken: 'INSIGHTS.INVALID_PAGE_TOKEN',
} as const;

/** One INVALID_ARGUMENT listing every bad field, so a caller fixes them all at once. */
export function invalidRequest(violations: FieldViolation[]): AppError {
  return new AppError({
    code: InsightsErrorCodes.invalidRequest,
    kind: 'INVALID_ARGUMENT',
    message: 'The request is invalid',
    fieldViolations: violations,
  });
}

export function invalidPageToken(): AppError {
  return new AppError({
    code: InsightsErrorCodes.invalidPageToken,
    kind: 'INVALID_ARGUMENT',
    message: 'The page token is malformed or belongs to a different query',
    fieldViolations: [{ field: 'page.page_token', description: 'use the next_page_token of the same query' }],
  });
}
