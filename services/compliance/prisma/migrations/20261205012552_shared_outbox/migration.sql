-- One outbox schema for every service (@tessera/outbox, issue #16): payload becomes the encoded EventEnvelope, built
-- when the row is written, with the relay's headers and attempts. Rows written before this (bare payload + type,
-- subject, traceparent) keep those columns until the relay re-encodes them at start (src/outbox/legacy-rows.ts).
-- AlterTable
ALTER TABLE "outbox_events" ADD COLUMN     "attempts" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "headers" JSONB NOT NULL DEFAULT '{}',
ALTER COLUMN "type" DROP NOT NULL,
ALTER COLUMN "subject" DROP NOT NULL;
