-- CreateEnum
CREATE TYPE "screening_decision" AS ENUM ('APPROVE', 'REVIEW', 'DECLINE');

-- CreateEnum
CREATE TYPE "alert_status" AS ENUM ('OPEN', 'ASSIGNED', 'AWAITING_SECOND_APPROVAL', 'RESOLVED');

-- CreateEnum
CREATE TYPE "alert_severity" AS ENUM ('LOW', 'MEDIUM', 'HIGH');

-- CreateEnum
CREATE TYPE "alert_resolution" AS ENUM ('FALSE_POSITIVE', 'REPORTED', 'ESCALATED', 'RELEASE', 'DECLINE');

-- CreateTable
CREATE TABLE "screenings" (
    "id" UUID NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "request_hash" CHAR(64) NOT NULL,
    "reference_id" TEXT NOT NULL,
    "movement_kind" TEXT NOT NULL,
    "owner_id" TEXT NOT NULL,
    "source_account_id" TEXT NOT NULL,
    "destination_account_id" TEXT NOT NULL,
    "amount_minor" BIGINT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "counterparty_country" TEXT NOT NULL DEFAULT '',
    "decision" "screening_decision" NOT NULL,
    "reasons" JSONB NOT NULL,
    "rule_version" TEXT NOT NULL,
    "risk_score" INTEGER NOT NULL,
    "actor" TEXT NOT NULL,
    "decided_at" TIMESTAMPTZ(6) NOT NULL,
    "latency_micros" INTEGER NOT NULL,
    "response" BYTEA NOT NULL,

    CONSTRAINT "screenings_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "observed_transfers" (
    "transfer_id" TEXT NOT NULL,
    "source_account_id" TEXT NOT NULL,
    "destination_account_id" TEXT NOT NULL,
    "amount_minor" BIGINT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "status" TEXT NOT NULL,
    "occurred_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "observed_transfers_pkey" PRIMARY KEY ("transfer_id")
);

-- CreateTable
CREATE TABLE "processed_events" (
    "event_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "processed_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "processed_events_pkey" PRIMARY KEY ("event_id")
);

-- CreateTable
CREATE TABLE "alerts" (
    "id" UUID NOT NULL,
    "dedupe_key" TEXT NOT NULL,
    "rule_id" TEXT NOT NULL,
    "rule_version" TEXT NOT NULL,
    "severity" "alert_severity" NOT NULL,
    "status" "alert_status" NOT NULL DEFAULT 'OPEN',
    "account_id" TEXT NOT NULL,
    "transfer_ids" TEXT[],
    "reasons" JSONB NOT NULL,
    "assignee" TEXT,
    "resolution" "alert_resolution",
    "resolution_note" TEXT,
    "release_approvals" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "held_transfer_id" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "alerts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "alert_actions" (
    "id" BIGSERIAL NOT NULL,
    "alert_id" UUID NOT NULL,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "note" TEXT NOT NULL DEFAULT '',
    "idempotency_key" TEXT,
    "request_hash" CHAR(64),
    "at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "alert_actions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "outbox_events" (
    "seq" BIGSERIAL NOT NULL,
    "id" UUID NOT NULL,
    "topic" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "payload" BYTEA NOT NULL,
    "traceparent" TEXT NOT NULL DEFAULT '',
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sent_at" TIMESTAMPTZ(6),

    CONSTRAINT "outbox_events_pkey" PRIMARY KEY ("seq")
);

-- CreateIndex
CREATE UNIQUE INDEX "screenings_idempotency_key_key" ON "screenings"("idempotency_key");

-- CreateIndex
CREATE INDEX "screenings_owner_id_currency_decided_at_idx" ON "screenings"("owner_id", "currency", "decided_at");

-- CreateIndex
CREATE INDEX "screenings_reference_id_idx" ON "screenings"("reference_id");

-- CreateIndex
CREATE INDEX "observed_transfers_source_account_id_occurred_at_idx" ON "observed_transfers"("source_account_id", "occurred_at");

-- CreateIndex
CREATE INDEX "observed_transfers_destination_account_id_occurred_at_idx" ON "observed_transfers"("destination_account_id", "occurred_at");

-- CreateIndex
CREATE UNIQUE INDEX "alerts_dedupe_key_key" ON "alerts"("dedupe_key");

-- CreateIndex
CREATE UNIQUE INDEX "alerts_held_transfer_id_key" ON "alerts"("held_transfer_id");

-- CreateIndex
CREATE INDEX "alerts_created_at_id_idx" ON "alerts"("created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "alerts_account_id_rule_id_created_at_idx" ON "alerts"("account_id", "rule_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "alert_actions_idempotency_key_key" ON "alert_actions"("idempotency_key");

-- CreateIndex
CREATE INDEX "alert_actions_alert_id_id_idx" ON "alert_actions"("alert_id", "id");

-- CreateIndex
CREATE UNIQUE INDEX "outbox_events_id_key" ON "outbox_events"("id");

-- CreateIndex
CREATE INDEX "outbox_events_unsent_idx" ON "outbox_events"("seq") WHERE (sent_at IS NULL);

-- AddForeignKey
ALTER TABLE "alert_actions" ADD CONSTRAINT "alert_actions_alert_id_fkey" FOREIGN KEY ("alert_id") REFERENCES "alerts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
