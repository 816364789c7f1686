-- A money-path request refused for good (insufficient funds, a frozen account, ...) keeps its key: retries with the
-- same key and body replay the refusal instead of running again (issue #10).
ALTER TABLE "idempotency_keys" ADD COLUMN "refusal" JSONB;
