import type { Logger } from 'pino';

/** Pino's levels, lowest to highest; `silent` turns a logger off. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}

/**
 * Every logger made by `createLogger` in this process, so one call changes them all at runtime (an operator
 * turns on `debug` while a problem is happening, without a restart that would make it go away). Weak
 * references: a logger created per request or per test must not be kept alive by this registry.
 */
const loggers = new Set<WeakRef<Logger>>();
let override: LogLevel | undefined;

/** Called by createLogger; applies a level set earlier at runtime so late loggers follow it too. */
export function registerLogger(logger: Logger): void {
  if (override) logger.level = override;
  loggers.add(new WeakRef(logger));
}

/** The level set at runtime, or undefined while every logger keeps the level it was created with. */
export function runtimeLogLevel(): LogLevel | undefined {
  return override;
}

/** Sets the level of every registered logger (and of loggers created later); returns how many changed. */
export function setLogLevel(level: LogLevel): number {
  override = level;
  let changed = 0;
  for (const ref of loggers) {
    const logger = ref.deref();
    if (!logger) {
      loggers.delete(ref);
      continue;
    }
    logger.level = level;
    changed += 1;
  }
  return changed;
}

/** The effective level: the runtime one, else LOG_LEVEL, else `info` (what createLogger defaults to). */
export function currentLogLevel(env: NodeJS.ProcessEnv = process.env): string {
  return override ?? env['LOG_LEVEL'] ?? 'info';
}
