import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, type ConfigIssue } from './config.error';

/** Exit status for a configuration error (sysexits.h EX_CONFIG), so supervisors can tell it from a crash. */
export const EX_CONFIG = 78;

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** Service name, shown in the error message. */
  service: string;
}

/**
 * Validates the environment against a schema whose keys are variable names and returns the typed
 * config. Empty variables count as unset, so `FOO=` in an env file falls back to the default.
 * Any variable may instead be given as `<NAME>_FILE=<path>` (the Docker/Kubernetes secrets convention): the
 * file's content, without its trailing newline, is the value, so secrets need not sit in the environment.
 * Setting both `<NAME>` and `<NAME>_FILE` is an error.
 * @throws ConfigError listing every missing or invalid variable (values are never echoed: they may be secrets).
 */
export function loadConfig<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv = process.env, opts?: LoadConfigOptions): z.output<S> {
  const input: Record<string, string> = {};
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    const file = env[`${key}_FILE`];
    if (file !== undefined && file !== '') {
      seen.add(key);
      if (value !== undefined && value !== '') {
        issues.push({ variable: key, reason: `is set both directly and as ${key}_FILE; set only one` });
        continue;
      }
      try {
        input[key] = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
        seen.delete(key);
      } catch (err) {
        issues.push({ variable: key, reason: `${key}_FILE=${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})` });
      }
      continue;
    }
    if (value !== undefined && value !== '') input[key] = value;
  }
  const result = schema.safeParse(input);
  if (result.success && issues.length === 0) return result.data;

  for (const issue of result.success ? [] : result.error.issues) {
    const variable = String(issue.path[0] ?? '(config)');
    if (seen.has(variable)) continue;
    seen.add(variable);
    const fieldSchema = (schema.shape as Record<string, z.ZodType | undefined>)[variable];
    const missing = input[variable] === undefined;
    const example = fieldSchema ? exampleOf(fieldSchema) : undefined;
    issues.push({
      variable,
      reason: missing ? 'is required but not set' : issue.message,
      ...(example !== undefined ? { example } : {}),
    });
  }
  throw new ConfigError(issues, opts?.service);
}

/**
 * {@link loadConfig} for `main.ts`: on a ConfigError prints the message to stderr and exits with
 * {@link EX_CONFIG}, instead of a stack trace that buries the variable names.
 */
export function loadConfigOrExit<S extends z.ZodObject>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
  opts?: LoadConfigOptions,
): z.output<S> {
  try {
    return loadConfig(schema, env, opts);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return process.exit(EX_CONFIG);
  }
}

/** First declared example, looking through wrappers like .default() and .optional() that hide the inner meta. */
function exampleOf(schema: z.ZodType): string | undefined {
  let current: z.ZodType | undefined = schema;
  for (let depth = 0; current && depth < 10; depth++) {
    const meta = current.meta() as { examples?: unknown[]; example?: unknown } | undefined;
    const example = meta?.examples?.[0] ?? meta?.example;
    if (example !== undefined) return Array.isArray(example) ? example.join(',') : String(example);
    const def = current._zod.def as { innerType?: z.ZodType; in?: z.ZodType };
    current = def.innerType ?? def.in;
  }
  return undefined;
}
