-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "account_type" AS ENUM ('ASSET', 'LIABILITY', 'REVENUE', 'EXPENSE');

-- CreateEnum
CREATE TYPE "account_status" AS ENUM ('ACTIVE', 'FROZEN', 'CLOSED');

-- CreateEnum
CREATE TYPE "transfer_status" AS ENUM ('COMPLETED', 'REJECTED');

-- CreateEnum
CREATE TYPE "posting_direction" AS ENUM ('DEBIT', 'CREDIT');

-- CreateTable
CREATE TABLE "accounts" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "owner_id" TEXT NOT NULL,
    "name" TEXT NOT NULL DEFAULT '',
    "currency" CHAR(3) NOT NULL,
    "type" "account_type" NOT NULL,
    "status" "account_status" NOT NULL DEFAULT 'ACTIVE',
    "overdraft_limit_minor" BIGINT NOT NULL DEFAULT 0,
    "balance_minor" BIGINT NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "version" BIGINT NOT NULL DEFAULT 0,
    "labels" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "accounts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "transfers" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "source_account_id" UUID NOT NULL,
    "destination_account_id" UUID NOT NULL,
    "amount_minor" BIGINT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "status" "transfer_status" NOT NULL,
    "rejection_code" TEXT,
    "reference" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "transfers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "postings" (
    "id" BIGSERIAL NOT NULL,
    "transfer_id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "direction" "posting_direction" NOT NULL,
    "amount_minor" BIGINT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "postings_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "idempotency_keys" (
    "scope" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "request_hash" CHAR(64) NOT NULL,
    "transfer_id" UUID,
    "resource_id" UUID,
    "response" BYTEA,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY ("scope","key")
);

-- CreateTable
CREATE TABLE "audit_records" (
    "seq" BIGSERIAL NOT NULL,
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "occurred_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "entity_type" TEXT NOT NULL,
    "entity_id" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "prev_hash" CHAR(64) NOT NULL,
    "hash" CHAR(64) NOT NULL,

    CONSTRAINT "audit_records_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE "outbox_events" (
    "seq" BIGSERIAL NOT NULL,
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "topic" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "payload" BYTEA NOT NULL,
    "headers" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sent_at" TIMESTAMPTZ(6),
    "attempts" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "outbox_events_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE "ping_receipts" (
    "event_id" UUID NOT NULL,
    "message" TEXT NOT NULL,
    "sent_at" TIMESTAMPTZ(6) NOT NULL,
    "received_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "trace_id" TEXT,

    CONSTRAINT "ping_receipts_pkey" PRIMARY KEY ("event_id")
);

-- CreateIndex
CREATE INDEX "accounts_owner_id_idx" ON "accounts"("owner_id");

-- CreateIndex
CREATE INDEX "accounts_created_at_id_idx" ON "accounts"("created_at", "id");

-- CreateIndex
CREATE UNIQUE INDEX "accounts_id_currency_key" ON "accounts"("id", "currency");

-- CreateIndex
CREATE INDEX "transfers_source_account_id_created_at_idx" ON "transfers"("source_account_id", "created_at");

-- CreateIndex
CREATE INDEX "transfers_destination_account_id_created_at_idx" ON "transfers"("destination_account_id", "created_at");

-- CreateIndex
CREATE INDEX "postings_transfer_id_idx" ON "postings"("transfer_id");

-- CreateIndex
CREATE INDEX "postings_account_id_id_idx" ON "postings"("account_id", "id");

-- CreateIndex
CREATE INDEX "idempotency_keys_expires_at_idx" ON "idempotency_keys"("expires_at");

-- CreateIndex
CREATE UNIQUE INDEX "audit_records_id_key" ON "audit_records"("id");

-- CreateIndex
CREATE UNIQUE INDEX "audit_records_prev_hash_key" ON "audit_records"("prev_hash");

-- CreateIndex
CREATE UNIQUE INDEX "audit_records_hash_key" ON "audit_records"("hash");

-- CreateIndex
CREATE INDEX "audit_records_entity_type_entity_id_idx" ON "audit_records"("entity_type", "entity_id");

-- CreateIndex
CREATE UNIQUE INDEX "outbox_events_id_key" ON "outbox_events"("id");

-- CreateIndex
CREATE INDEX "outbox_events_unsent_idx" ON "outbox_events"("seq") WHERE (sent_at IS NULL);

-- AddForeignKey
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_source_account_id_fkey" FOREIGN KEY ("source_account_id") REFERENCES "accounts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_destination_account_id_fkey" FOREIGN KEY ("destination_account_id") REFERENCES "accounts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "postings" ADD CONSTRAINT "postings_transfer_id_fkey" FOREIGN KEY ("transfer_id") REFERENCES "transfers"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "postings" ADD CONSTRAINT "postings_account_id_currency_fkey" FOREIGN KEY ("account_id", "currency") REFERENCES "accounts"("id", "currency") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "idempotency_keys" ADD CONSTRAINT "idempotency_keys_transfer_id_fkey" FOREIGN KEY ("transfer_id") REFERENCES "transfers"("id") ON DELETE SET NULL ON UPDATE CASCADE;


-- ---------------------------------------------------------------------------------------------------------------
-- Hand-written: invariants Prisma's schema language cannot express. Prisma's diff ignores CHECKs, functions and
-- triggers, so they never show up as drift; change them only in new migrations.
-- ---------------------------------------------------------------------------------------------------------------

-- AddCheckConstraints
ALTER TABLE "accounts"
    ADD CONSTRAINT "accounts_currency_iso4217_chk" CHECK ("currency" ~ '^[A-Z]{3}$'),
    ADD CONSTRAINT "accounts_overdraft_limit_nonneg_chk" CHECK ("overdraft_limit_minor" >= 0),
    ADD CONSTRAINT "accounts_balance_within_overdraft_chk" CHECK ("balance_minor" >= -"overdraft_limit_minor"),
    ADD CONSTRAINT "accounts_version_nonneg_chk" CHECK ("version" >= 0);

ALTER TABLE "transfers"
    ADD CONSTRAINT "transfers_amount_positive_chk" CHECK ("amount_minor" > 0),
    ADD CONSTRAINT "transfers_currency_iso4217_chk" CHECK ("currency" ~ '^[A-Z]{3}$'),
    ADD CONSTRAINT "transfers_distinct_accounts_chk" CHECK ("source_account_id" <> "destination_account_id"),
    ADD CONSTRAINT "transfers_rejection_code_chk" CHECK (("status" = 'REJECTED') = ("rejection_code" IS NOT NULL));

ALTER TABLE "postings"
    ADD CONSTRAINT "postings_amount_positive_chk" CHECK ("amount_minor" > 0);

ALTER TABLE "idempotency_keys"
    ADD CONSTRAINT "idempotency_keys_request_hash_hex_chk" CHECK ("request_hash" ~ '^[0-9a-f]{64}$'),
    ADD CONSTRAINT "idempotency_keys_expiry_chk" CHECK ("expires_at" > "created_at");

ALTER TABLE "audit_records"
    ADD CONSTRAINT "audit_records_prev_hash_hex_chk" CHECK ("prev_hash" ~ '^[0-9a-f]{64}$'),
    ADD CONSTRAINT "audit_records_hash_hex_chk" CHECK ("hash" ~ '^[0-9a-f]{64}$');

ALTER TABLE "outbox_events"
    ADD CONSTRAINT "outbox_events_attempts_nonneg_chk" CHECK ("attempts" >= 0);

-- Double entry: per transfer, credits minus debits is zero at COMMIT (deferred, so legs can be inserted one by one).
CREATE FUNCTION "ledger_assert_transfer_balanced"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    imbalance numeric;
BEGIN
    SELECT COALESCE(SUM(CASE "direction" WHEN 'CREDIT' THEN "amount_minor" ELSE -"amount_minor" END), 0)
      INTO imbalance
      FROM "postings"
     WHERE "transfer_id" = NEW."transfer_id";
    IF imbalance <> 0 THEN
        RAISE EXCEPTION 'postings of transfer % do not balance (credits - debits = %)', NEW."transfer_id", imbalance
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER "postings_balanced_per_transfer"
    AFTER INSERT ON "postings"
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION "ledger_assert_transfer_balanced"();

-- The ledger and the audit chain are append-only: corrections are new rows, never edits.
CREATE FUNCTION "forbid_update_delete"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER "postings_append_only" BEFORE UPDATE OR DELETE ON "postings"
    FOR EACH ROW EXECUTE FUNCTION "forbid_update_delete"();

CREATE TRIGGER "audit_records_append_only" BEFORE UPDATE OR DELETE ON "audit_records"
    FOR EACH ROW EXECUTE FUNCTION "forbid_update_delete"();
