/** One unusable environment variable. */
export interface ConfigIssue {
  /** Environment variable name, e.g. `TRANSACTIONS_DATABASE_URL`. */
  variable: string;
  /** What is wrong; never contains the value, which may be a secret. */
  reason: string;
  /** A valid example value, when the schema declares one. */
  example?: string;
}

/**
 * Thrown by loadConfig when the environment does not satisfy the schema. The message lists every
 * problem at once, so an operator fixes the deployment in one round instead of one variable per restart.
 */
export class ConfigError extends Error {
  readonly service: string | undefined;
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], service?: string) {
    super(formatIssues(issues, service));
    this.name = 'ConfigError';
    this.service = service;
    this.issues = issues;
  }
}

function formatIssues(issues: readonly ConfigIssue[], service?: string): string {
  const who = service ? `${service}: invalid configuration` : 'Invalid configuration';
  const lines = issues.map(
    (i) => `  - ${i.variable}: ${i.reason}${i.example !== undefined ? ` (example: ${i.variable}=${i.example})` : ''}`,
  );
  const noun = issues.length === 1 ? 'variable' : 'variables';
  return [`${who}, ${issues.length} environment ${noun} to fix:`, ...lines].join('\n');
}
