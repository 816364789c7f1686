import { names } from '@nx/devkit';

/** The options every generator of this plugin takes (schema.json). */
export interface ServiceOptions {
  name: string;
  grpc?: boolean;
  kafka?: boolean;
  db?: boolean;
}

/** Lower-case kebab, as infra/local/topology.ts names services (and proto packages can be derived from it). */
export const SERVICE_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** Every name a service's files and wiring derive from `name`, e.g. `fraud-score`. */
export interface ServiceNames {
  /** `fraud-score`: folder, Nx project, topology entry, Kafka principal, mTLS identity. */
  name: string;
  /** `FraudScore`: class and type names. */
  className: string;
  /** `fraudScore`: values, e.g. `fraudScoreConfigSchema`. */
  propertyName: string;
  /** `FRAUD_SCORE`: env prefix (infra/local/topology.ts envPrefix) and error-code domain. */
  constantName: string;
  /** `fraud_score`: proto package segment and file name, database suffix. */
  snake: string;
  /** `tessera.fraud_score.v1`. */
  protoPackage: string;
  /** `proto/tessera/fraud_score/v1/fraud_score.proto`. */
  protoFile: string;
  /** `fraudScoreV1`: the @tessera/contracts namespace. */
  contractsNs: string;
  /** `FraudScoreService`: the gRPC service. */
  serviceName: string;
  /** `tessera_fraud_score`. */
  database: string;
  requestsTopic: string;
  eventsTopic: string;
  dlqTopic: string;
  consumerGroup: string;
}

export function serviceNames(name: string): ServiceNames {
  if (!SERVICE_NAME.test(name)) throw new Error(`service name "${name}" must be lower-case kebab (e.g. loyalty, fraud-score)`);
  const n = names(name);
  const snake = name.replace(/-/g, '_');
  return {
    name,
    className: n.className,
    propertyName: n.propertyName,
    constantName: n.constantName,
    snake,
    protoPackage: `tessera.${snake}.v1`,
    protoFile: `proto/tessera/${snake}/v1/${snake}.proto`,
    contractsNs: `${n.propertyName}V1`,
    serviceName: `${n.className}Service`,
    database: `tessera_${snake}`,
    requestsTopic: `${name}.item.requests.v1`,
    eventsTopic: `${name}.item.events.v1`,
    dlqTopic: `${name}.item.requests.v1.dlq`,
    consumerGroup: `${name}.item-requests`,
  };
}

/** `--grpc --kafka --db` default to true (schema.json); the outbox comes with Kafka and a database together. */
export function features(options: ServiceOptions): { grpc: boolean; kafka: boolean; db: boolean; outbox: boolean } {
  const grpc = options.grpc ?? true;
  const kafka = options.kafka ?? true;
  const db = options.db ?? true;
  return { grpc, kafka, db, outbox: kafka && db };
}
