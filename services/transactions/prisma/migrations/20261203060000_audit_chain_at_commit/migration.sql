-- Chain audit records at COMMIT, not mid-transaction (issue #10). pg_stat_statements under the transfers bench:
-- audit_append averaged 61 ms, nearly all of it queueing for the chain's advisory lock, because each holder kept it
-- across a round trip to its (busy) Node process before sending COMMIT: the whole payments path ran one transfer
-- at a time (~16/s).
--
-- A transaction now stages its records in audit_pending (no lock). A deferred constraint trigger runs at COMMIT,
-- inside the committing transaction: it takes the chain lock, reads the head, hashes and moves each staged record
-- into audit_records. The lock is held from there to the end of the commit only, with no client round trip in
-- between; a record still exists exactly when its transaction committed, and the chain order is the commit order.
CREATE TABLE "audit_pending" (
    "id" UUID NOT NULL,
    "occurred_at" TIMESTAMPTZ(6) NOT NULL,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "entity_type" TEXT NOT NULL,
    "entity_id" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    -- The record's canonical JSON as the service hashes it (src/audit/canonical-json.ts).
    "body" TEXT NOT NULL,
    "staged" BIGSERIAL NOT NULL,
    CONSTRAINT "audit_pending_pkey" PRIMARY KEY ("id")
);

CREATE FUNCTION "audit_chain_pending"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  prev CHAR(64);
  h CHAR(64);
BEGIN
  -- Still staged? (an earlier row's trigger in this commit may have moved it already)
  IF NOT EXISTS (SELECT 1 FROM audit_pending WHERE id = NEW.id) THEN
    RETURN NULL;
  END IF;
  PERFORM pg_advisory_xact_lock(1096107092); -- 0x41554454 "AUDT", AUDIT_CHAIN_LOCK_KEY in src/audit/audit-trail.ts
  SELECT a.hash INTO prev FROM audit_records a ORDER BY a.seq DESC LIMIT 1;
  prev := COALESCE(prev, repeat('0', 64));
  h := encode(sha256(convert_to(prev || NEW.body, 'UTF8')), 'hex');
  INSERT INTO audit_records (id, occurred_at, actor, action, entity_type, entity_id, payload, prev_hash, hash)
    VALUES (NEW.id, NEW.occurred_at, NEW.actor, NEW.action, NEW.entity_type, NEW.entity_id, NEW.payload, prev, h);
  DELETE FROM audit_pending WHERE id = NEW.id;
  RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER "audit_pending_chain_at_commit" AFTER INSERT ON "audit_pending"
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "audit_chain_pending"();
