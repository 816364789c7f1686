import { type PipeTransform } from '@nestjs/common';
import { AppError } from '@tessera/errors';
import type { z } from 'zod';

/** Validates a request part against a zod schema; violations become one INVALID_ARGUMENT with every field named. */
export class ZodPipe<S extends z.ZodType> implements PipeTransform<unknown, z.infer<S>> {
  /** `rootField` names a violation of the value itself (a path parameter or header rather than a body field). */
  constructor(private readonly schema: S, private readonly code = 'HTTP.INVALID_REQUEST', private readonly rootField = '(body)') {}

  transform(value: unknown): z.infer<S> {
    const result = this.schema.safeParse(value ?? {});
    if (result.success) return result.data;
    throw new AppError({
      code: this.code,
      kind: 'INVALID_ARGUMENT',
      message: 'The request is invalid',
      fieldViolations: result.error.issues.map((issue) => ({
        field: issue.path.join('.') || this.rootField,
        description: issue.message,
      })),
    });
  }
}
