-- Hand-written first: this CHECK names the old enum labels, so it must go before the enum is replaced.
ALTER TABLE "transfers" DROP CONSTRAINT "transfers_rejection_code_chk";

-- CreateEnum
CREATE TYPE "transfer_kind" AS ENUM ('DIRECT', 'HOLD_CAPTURE', 'REVERSAL');

-- CreateEnum
CREATE TYPE "hold_status" AS ENUM ('AUTHORIZED', 'CAPTURED', 'VOIDED', 'EXPIRED');

-- AlterEnum
CREATE TYPE "transfer_status_new" AS ENUM ('PENDING', 'POSTED', 'DECLINED', 'REVERSED');
ALTER TABLE "transfers" ALTER COLUMN "status" TYPE "transfer_status_new" USING ("status"::text::"transfer_status_new");
ALTER TYPE "transfer_status" RENAME TO "transfer_status_old";
ALTER TYPE "transfer_status_new" RENAME TO "transfer_status";
DROP TYPE "public"."transfer_status_old";

-- AlterTable
ALTER TABLE "accounts" ADD COLUMN     "held_minor" BIGINT NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "transfers" ADD COLUMN     "batch_id" UUID,
ADD COLUMN     "counterparty_ciphertext" BYTEA,
ADD COLUMN     "counterparty_kek_id" TEXT,
ADD COLUMN     "counterparty_wrapped_dek" BYTEA,
ADD COLUMN     "description" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "hold_id" UUID,
ADD COLUMN     "kind" "transfer_kind" NOT NULL DEFAULT 'DIRECT',
ADD COLUMN     "labels" JSONB NOT NULL DEFAULT '{}',
ADD COLUMN     "posted_at" TIMESTAMPTZ(6),
ADD COLUMN     "reverses_transfer_id" UUID,
ADD COLUMN     "screening_id" TEXT,
ADD COLUMN     "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- CreateTable
CREATE TABLE "holds" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "account_id" UUID NOT NULL,
    "destination_account_id" UUID NOT NULL,
    "amount_minor" BIGINT NOT NULL,
    "captured_minor" BIGINT NOT NULL DEFAULT 0,
    "currency" CHAR(3) NOT NULL,
    "status" "hold_status" NOT NULL DEFAULT 'AUTHORIZED',
    "description" TEXT NOT NULL DEFAULT '',
    "reference" TEXT,
    "screening_id" TEXT,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "holds_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "account_holders" (
    "account_id" UUID NOT NULL,
    "kek_id" TEXT NOT NULL,
    "wrapped_dek" BYTEA NOT NULL,
    "ciphertext" BYTEA NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "account_holders_pkey" PRIMARY KEY ("account_id")
);

-- CreateIndex
CREATE INDEX "holds_account_id_status_idx" ON "holds"("account_id", "status");

-- CreateIndex
CREATE INDEX "holds_authorized_expiry_idx" ON "holds"("expires_at") WHERE (status = 'AUTHORIZED');

-- CreateIndex
CREATE UNIQUE INDEX "transfers_reverses_transfer_id_key" ON "transfers"("reverses_transfer_id");

-- CreateIndex
CREATE UNIQUE INDEX "transfers_hold_id_key" ON "transfers"("hold_id");

-- CreateIndex
CREATE INDEX "transfers_created_at_id_idx" ON "transfers"("created_at", "id");

-- CreateIndex
CREATE INDEX "transfers_batch_id_idx" ON "transfers"("batch_id");

-- AddForeignKey
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_reverses_transfer_id_fkey" FOREIGN KEY ("reverses_transfer_id") REFERENCES "transfers"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_hold_id_fkey" FOREIGN KEY ("hold_id") REFERENCES "holds"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "holds" ADD CONSTRAINT "holds_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "holds" ADD CONSTRAINT "holds_destination_account_id_fkey" FOREIGN KEY ("destination_account_id") REFERENCES "accounts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "account_holders" ADD CONSTRAINT "account_holders_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;


-- ---------------------------------------------------------------------------------------------------------------
-- Hand-written: invariants Prisma's schema language cannot express (see the init migration).
-- ---------------------------------------------------------------------------------------------------------------

-- A rejection code exactly when DECLINED.
ALTER TABLE "transfers"
    ADD CONSTRAINT "transfers_rejection_code_chk" CHECK (("status" = 'DECLINED') = ("rejection_code" IS NOT NULL)),
    -- A reversal is kind REVERSAL and points at its original; a capture is kind HOLD_CAPTURE and points at its hold.
    ADD CONSTRAINT "transfers_reversal_link_chk" CHECK (("kind" = 'REVERSAL') = ("reverses_transfer_id" IS NOT NULL)),
    ADD CONSTRAINT "transfers_capture_link_chk" CHECK (("kind" = 'HOLD_CAPTURE') = ("hold_id" IS NOT NULL)),
    ADD CONSTRAINT "transfers_posted_at_chk" CHECK (("status" IN ('POSTED', 'REVERSED')) = ("posted_at" IS NOT NULL)),
    -- The sealed counterparty is all three columns or none.
    ADD CONSTRAINT "transfers_counterparty_sealed_chk" CHECK (
        ("counterparty_kek_id" IS NULL) = ("counterparty_wrapped_dek" IS NULL)
        AND ("counterparty_kek_id" IS NULL) = ("counterparty_ciphertext" IS NULL));

-- Reserved funds: never negative, and what is left to spend never below the overdraft (numeric: no bigint overflow).
ALTER TABLE "accounts"
    ADD CONSTRAINT "accounts_held_nonneg_chk" CHECK ("held_minor" >= 0),
    ADD CONSTRAINT "accounts_available_within_overdraft_chk"
        CHECK ("balance_minor"::numeric - "held_minor"::numeric >= -"overdraft_limit_minor"::numeric);

ALTER TABLE "holds"
    ADD CONSTRAINT "holds_amount_positive_chk" CHECK ("amount_minor" > 0),
    ADD CONSTRAINT "holds_captured_range_chk" CHECK ("captured_minor" >= 0 AND "captured_minor" <= "amount_minor"),
    ADD CONSTRAINT "holds_captured_status_chk" CHECK (("status" = 'CAPTURED') = ("captured_minor" > 0)),
    ADD CONSTRAINT "holds_currency_iso4217_chk" CHECK ("currency" ~ '^[A-Z]{3}$'),
    ADD CONSTRAINT "holds_distinct_accounts_chk" CHECK ("account_id" <> "destination_account_id");

-- Postings are in the transfer's currency and only on its two accounts (a posting can't be redirected).
CREATE FUNCTION "ledger_assert_posting_matches_transfer"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    t RECORD;
BEGIN
    SELECT "source_account_id", "destination_account_id", "currency" INTO t FROM "transfers" WHERE "id" = NEW."transfer_id";
    IF NEW."currency" <> t."currency"
       OR (NEW."direction" = 'DEBIT' AND NEW."account_id" <> t."source_account_id")
       OR (NEW."direction" = 'CREDIT' AND NEW."account_id" <> t."destination_account_id") THEN
        RAISE EXCEPTION 'posting does not match transfer %', NEW."transfer_id" USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER "postings_match_transfer" BEFORE INSERT ON "postings"
    FOR EACH ROW EXECUTE FUNCTION "ledger_assert_posting_matches_transfer"();
