-- The commit trigger reads its own transaction's staged rows through an index (issue #10). It used to scan the whole of
-- audit_pending in `staged` order: the table is empty between commits, but every commit leaves its moved rows behind as
-- dead tuples until autovacuum, so under load that sequential scan read ~800 pages of dead rows, 1.3 ms per commit with
-- single transfers and 3.2 ms with batches (pg_stat_statements) -- inside the audit chain lock, which every commit
-- queues on. Rows now carry the staging transaction's id and the trigger reads them by (tx, staged): an index range
-- of its own rows, whatever the bloat. Same rows (a transaction only ever sees its own staged rows, see
-- 20261203090000), same order, same chain.
ALTER TABLE "audit_pending" ADD COLUMN "tx" BIGINT NOT NULL DEFAULT txid_current();
CREATE INDEX "audit_pending_tx_staged_idx" ON "audit_pending"("tx", "staged");

-- enable_seqscan off for this function only: PL/pgSQL keeps its plans for the session, and a plan made while the table
-- looked empty (a sequential scan) would stay in use as the dead rows pile up. Every statement here has an index to use.
CREATE OR REPLACE FUNCTION "audit_chain_pending"() RETURNS trigger LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
  prev CHAR(64);
  h CHAR(64);
  r RECORD;
  ids UUID[] := '{}';
  prevs CHAR(64)[] := '{}';
  hashes CHAR(64)[] := '{}';
BEGIN
  IF NOT EXISTS (SELECT 1 FROM audit_pending WHERE id = NEW.id) THEN
    RETURN NULL; -- moved by an earlier firing of this commit
  END IF;
  -- 0x41554454 "AUDT": AUDIT_CHAIN_LOCK_KEY in src/audit/audit-trail.ts
  PERFORM pg_advisory_xact_lock(1096107092);
  SELECT a.hash INTO prev FROM audit_records a ORDER BY a.seq DESC LIMIT 1;
  prev := COALESCE(prev, repeat('0', 64));
  FOR r IN SELECT p.id, p.body FROM audit_pending p WHERE p.tx = txid_current() ORDER BY p.staged LOOP
    h := encode(sha256(convert_to(prev || r.body, 'UTF8')), 'hex');
    ids := ids || r.id;
    prevs := prevs || prev;
    hashes := hashes || h;
    prev := h;
  END LOOP;
  INSERT INTO audit_records (id, occurred_at, actor, action, entity_type, entity_id, payload, prev_hash, hash)
    SELECT p.id, p.occurred_at, p.actor, p.action, p.entity_type, p.entity_id, p.payload, c.prev_hash, c.hash
    FROM unnest(ids, prevs, hashes) WITH ORDINALITY AS c(id, prev_hash, hash, ord)
    JOIN audit_pending p ON p.id = c.id
    ORDER BY c.ord;
  DELETE FROM audit_pending WHERE id = ANY (ids);
  RETURN NULL;
END;
$$;
