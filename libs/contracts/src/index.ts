/**
 * Tessera's wire contracts, generated from proto/ by ts-proto (see README.md; never edit src/gen).
 * One namespace per proto package and version, so `paymentsV1.Transfer` can coexist with a future
 * `paymentsV2.Transfer` during a migration.
 */
export * as commonV1 from './gen/index.tessera.common.v1';
export * as paymentsV1 from './gen/index.tessera.payments.v1';
export * as complianceV1 from './gen/index.tessera.compliance.v1';
export * as analyticsV1 from './gen/index.tessera.analytics.v1';
export * as googleRpc from './gen/index.google.rpc';
export * as googleProtobuf from './gen/index.google.protobuf';
export { descriptorSetPath, eventTypeName } from './descriptor';
