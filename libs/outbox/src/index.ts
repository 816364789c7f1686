/**
 * The transactional outbox of every Tessera service that publishes through one (issue #16): one table schema
 * (`outbox_events`, see OutboxStore), one way to write rows (`outboxRows`: the envelope built in the writing
 * transaction) and one relay (`OutboxRelay`: a leader per database, batches in seq order, backoff, retention, metrics
 * `tessera.outbox.*` under the scope `tessera.<service>.outbox`).
 */
export { OutboxRelay, type EnvelopePublisher, type OutboxRelayOptions, type OutboxRelaySettings } from './outbox.relay';
export { OUTBOX_RELAY_LOCK_KEY, OutboxStore, type OutboxRow } from './outbox.store';
export { outboxRows, type OutboxEventInput, type OutboxRowInput } from './outbox.rows';
