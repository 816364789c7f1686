import { AppError } from '@tessera/errors';
import { z } from 'zod';
import { ZodPipe } from './zod-body.pipe';

const schema = z.object({ name: z.string().min(1), amount: z.number().int(), nested: z.object({ code: z.string().length(3) }) }).strict();

function violationsOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected the pipe to throw');
}

describe('ZodPipe', () => {
  describe('transform', () => {
    it('returns the parsed value when valid', () => {
      expect(new ZodPipe(schema).transform({ name: 'a', amount: 1, nested: { code: 'EUR' } })).toEqual({
        name: 'a',
        amount: 1,
        nested: { code: 'EUR' },
      });
    });

    it('lists every violation at once, with dotted paths', () => {
      const error = violationsOf(() => new ZodPipe(schema).transform({ name: '', amount: 1.5, nested: { code: 'EURO' }, extra: true }));
      expect(error).toMatchObject({ code: 'HTTP.INVALID_REQUEST', kind: 'INVALID_ARGUMENT' });
      expect(error.fieldViolations?.map((v) => v.field).sort()).toEqual(['(body)', 'amount', 'name', 'nested.code']);
      expect(error.fieldViolations?.every((v) => v.description.length > 0)).toBe(true);
    });

    it('refuses NUL characters anywhere (values, keys, arrays) before PostgreSQL would fail on them', () => {
      const labels = z.object({ name: z.string(), labels: z.record(z.string(), z.string()), tags: z.array(z.string()) });
      const error = violationsOf(() =>
        new ZodPipe(labels).transform({ name: 'a\u0000b', labels: { 'k\u0000': 'v', ok: 'x\u0000' }, tags: ['fine', '\u0000'] }),
      );
      expect(error).toMatchObject({ code: 'HTTP.INVALID_REQUEST', kind: 'INVALID_ARGUMENT' });
      expect(error.fieldViolations?.map((v) => v.field).sort()).toEqual(['labels.k\u0000', 'labels.ok', 'name', 'tags.1']);
      expect(violationsOf(() => new ZodPipe(z.string(), 'HTTP.INVALID_ID', 'id').transform('\u0000')).fieldViolations).toEqual([
        { field: 'id', description: 'must not contain the NUL character (U+0000)' },
      ]);
    });

    it('treats a missing body as an empty object so required fields are named', () => {
      const error = violationsOf(() => new ZodPipe(schema).transform(undefined));
      expect(error.fieldViolations?.map((v) => v.field).sort()).toEqual(['amount', 'name', 'nested']);
    });

    it('uses the code it was built with', () => {
      const error = violationsOf(() => new ZodPipe(z.string().uuid(), 'HTTP.INVALID_ID').transform('x'));
      expect(error).toMatchObject({ code: 'HTTP.INVALID_ID', fieldViolations: [{ field: '(body)' }] });
    });

    it('names a violation of the value itself after the part it validates', () => {
      const error = violationsOf(() => new ZodPipe(z.string().uuid(), 'HTTP.INVALID_ID', 'id').transform('x'));
      expect(error.fieldViolations).toEqual([{ field: 'id', description: expect.any(String) }]);
    });
  });
});
