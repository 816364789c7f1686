import { type PipeTransform } from '@nestjs/common';
import { AppError } from '@tessera/errors';
import type { z } from 'zod';

/** Validates a request part against a zod schema; violations become one INVALID_ARGUMENT with every field named. */
export class ZodPipe<S extends z.ZodType> implements PipeTransform<unknown, z.infer<S>> {
  /**
   * `rootField` names a violation of the value itself (a path parameter or header rather than a body field).
   * `options.refuseNul: false` leaves U+0000 to the schema: only for a body whose schema refuses it where it
   * matters and reports it its own way (POST /v1/events rejects such an event alone, not the batch).
   */
  constructor(
    private readonly schema: S,
    private readonly code = 'HTTP.INVALID_REQUEST',
    private readonly rootField = '(body)',
    private readonly options: { refuseNul?: boolean } = {},
  ) {}

  transform(value: unknown): z.infer<S> {
    const nul = this.options.refuseNul === false ? [] : pathsWithNul(value);
    if (nul.length > 0) {
      throw new AppError({
        code: this.code,
        kind: 'INVALID_ARGUMENT',
        message: 'The request is invalid',
        fieldViolations: nul.map((field) => ({
          field: field || this.rootField,
          description: 'must not contain the NUL character (U+0000)',
        })),
      });
    }
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

/**
 * Paths of strings (values or object keys) holding U+0000. No field has a use for it and PostgreSQL text cannot
 * store it, so it would otherwise fail deep in a service as a 500 (the fuzz e2e found that). Iterative, so a deeply
 * nested body cannot overflow the stack; at most 20 paths are reported.
 */
function pathsWithNul(value: unknown): string[] {
  const out: string[] = [];
  const stack: [unknown, string][] = [[value, '']];
  for (let next = stack.pop(); next !== undefined && out.length < 20; next = stack.pop()) {
    const [current, path] = next;
    if (typeof current === 'string') {
      if (current.includes('\u0000')) out.push(path);
    } else if (Array.isArray(current)) {
      current.forEach((item, i) => stack.push([item, path ? `${path}.${i}` : String(i)]));
    } else if (current !== null && typeof current === 'object') {
      for (const [key, item] of Object.entries(current)) {
        const child = path ? `${path}.${key}` : key;
        if (key.includes('\u0000')) out.push(child);
        stack.push([item, child]);
      }
    }
  }
  return out;
}
