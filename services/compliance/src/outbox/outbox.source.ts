/** `source` of every envelope this service writes (its outbox events). */
export const OUTBOX_SOURCE = 'compliance';
