import * as path from 'node:path';

/**
 * Absolute path of the FileDescriptorSet (all protos + imports) written by scripts/generate.sh.
 * gRPC reflection serves it: `protoLoader.loadFileDescriptorSetFromBuffer(readFileSync(descriptorSetPath))`.
 * Resolved from the package root so it works from both src/ (tests, tsx) and dist/ (tsc does not copy it).
 */
export const descriptorSetPath: string = path.resolve(__dirname, '..', 'src', 'gen', 'descriptor.binpb');

/**
 * Fully qualified protobuf names of every event payload, for `EventEnvelope.type`.
 * Kept by hand because ts-proto does not emit type names; event-types.spec.ts checks each one
 * against the descriptor set, so a renamed message fails the build instead of a consumer.
 */
export const eventTypeName = {
  Ping: 'tessera.common.v1.Ping',
  AccountOpened: 'tessera.payments.v1.AccountOpened',
  AccountFrozen: 'tessera.payments.v1.AccountFrozen',
  AccountClosed: 'tessera.payments.v1.AccountClosed',
  TransferCreated: 'tessera.payments.v1.TransferCreated',
  HoldAuthorized: 'tessera.payments.v1.HoldAuthorized',
  HoldCaptured: 'tessera.payments.v1.HoldCaptured',
  HoldVoided: 'tessera.payments.v1.HoldVoided',
  TransferReversed: 'tessera.payments.v1.TransferReversed',
  ComplianceAlert: 'tessera.compliance.v1.ComplianceAlert',
  AnalyticsEvent: 'tessera.analytics.v1.AnalyticsEvent',
  WindowAggregate: 'tessera.analytics.v1.WindowAggregate',
  DeadLetter: 'tessera.analytics.v1.DeadLetter',
} as const;

/** One of the event payload names above. */
export type EventTypeName = (typeof eventTypeName)[keyof typeof eventTypeName];
