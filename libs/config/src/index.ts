export { ConfigError, type ConfigIssue } from './config.error';
export { bool, brokers, durationMs, hostPort, port, postgresUrl } from './env-schemas';
export { EX_CONFIG, loadConfig, loadConfigOrExit, type LoadConfigOptions } from './load-config';
