import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

/** Minor units: YAML numbers for small values, digit strings beyond 2^53. */
const minor = z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform((v) => BigInt(v));
const currency = z.string().regex(/^[A-Z]{3}$/);
const country = z.string().regex(/^[A-Z]{2}$/);
const action = z.enum(['REVIEW', 'DECLINE']);

const velocityRule = z
  .object({
    id: z.string().regex(/^velocity\.[a-z_]+$/),
    windowSeconds: z
      .number()
      .int()
      .min(1)
      .max(31 * 86400),
    maxCount: z.number().int().min(1).optional(),
    maxAmount: z.record(currency, minor).optional(),
    action,
  })
  .strict()
  .refine((r) => (r.maxCount === undefined) !== (r.maxAmount === undefined), 'a velocity rule has exactly one of maxCount, maxAmount');

const ruleSetSchema = z
  .object({
    version: z.string().regex(/^v\d+$/),
    screening: z
      .object({
        currencies: z.record(currency, z.object({ perTransferReview: minor, perTransferMax: minor, dailyMax: minor }).strict()),
        velocity: z.array(velocityRule).default([]),
        countries: z.object({ blocked: z.array(country).default([]), highRisk: z.array(country).default([]) }).strict(),
        sanctions: z
          .object({ listFile: z.string().min(1), declineThreshold: z.number().min(0).max(1), reviewThreshold: z.number().min(0).max(1) })
          .strict()
          .refine((s) => s.reviewThreshold <= s.declineThreshold, 'reviewThreshold must not exceed declineThreshold'),
      })
      .strict(),
    monitoring: z
      .object({
        structuring: z
          .object({
            thresholds: z.record(currency, minor),
            bandPercent: z.number().int().min(1).max(50),
            minCount: z.number().int().min(2),
            windowSeconds: z.number().int().min(60),
          })
          .strict(),
        rapidInOut: z
          .object({
            windowSeconds: z.number().int().min(10),
            minOutRatioPercent: z.number().int().min(1).max(100),
            minInAmount: z.record(currency, minor),
          })
          .strict(),
        fanOut: z
          .object({
            windowSeconds: z.number().int().min(60),
            minNewCounterparties: z.number().int().min(2),
            lookbackDays: z.number().int().min(1),
          })
          .strict(),
      })
      .strict(),
  })
  .strict();

export type RuleSet = z.infer<typeof ruleSetSchema> & { /** Absolute path of the sanctions list. */ sanctionsListPath: string };
export type VelocityRule = RuleSet['screening']['velocity'][number];
export type MonitoringRules = RuleSet['monitoring'];

/** Thrown at boot for an invalid rules file: the service must not screen with rules it cannot read. */
export class RuleSetError extends Error {
  override readonly name = 'RuleSetError';
}

/** Parses and validates a rules file; `rules.v<N>.yaml` must declare `version: v<N>` so decisions name the file they used. */
export function parseRuleSet(text: string, filePath: string): RuleSet {
  const parsed = ruleSetSchema.safeParse(parse(text));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new RuleSetError(`${filePath}: ${issues}`);
  }
  const fileVersion = /rules\.(v\d+)\.ya?ml$/.exec(path.basename(filePath))?.[1];
  if (fileVersion && fileVersion !== parsed.data.version) {
    throw new RuleSetError(`${filePath}: declares version ${parsed.data.version} but the file name says ${fileVersion}`);
  }
  return { ...parsed.data, sanctionsListPath: path.resolve(path.dirname(filePath), parsed.data.screening.sanctions.listFile) };
}

export function loadRuleSet(filePath: string): RuleSet {
  return parseRuleSet(readFileSync(filePath, 'utf8'), filePath);
}

/** rules/rules.v1.yaml beside src/ or dist/. */
export const DEFAULT_RULES_FILE = path.resolve(__dirname, '..', '..', 'rules', 'rules.v1.yaml');
