/** A telemetry environment variable holds a value the SDK cannot use; names the variable. */
export class TelemetryConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'TelemetryConfigError';
  }
}
