/**
 * A failure of the local infrastructure tooling that the operator can act on. `fix` names the command or
 * change that resolves it, so the CLI can print it instead of a stack trace.
 */
export class InfraError extends Error {
  constructor(
    message: string,
    readonly fix?: string,
    readonly details?: string,
  ) {
    super(message);
    this.name = 'InfraError';
  }
}

/** Raised when infra/topology.yaml is malformed or inconsistent; lists every problem, not just the first. */
export class TopologyError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid topology ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'TopologyError';
  }
}
