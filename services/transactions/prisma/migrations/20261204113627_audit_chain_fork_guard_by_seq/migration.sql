-- Issue #10, tenth session: the audit chain's fork guard, without two random-key indexes.
--
-- Two UNIQUE B-tree indexes on char(64) sha256 hex values (hash, prev_hash) made every audit record two inserts at
-- random places in two large indexes. Measured with pg_walinspect over a batch load (6,600 transfers, 13,200 records):
-- 23,557 of its 60,941 full-page images (39%) were pages of these two indexes, ~29 KB of WAL per transfer, plus their
-- B-tree descents on the commit path, inside the chain's lock. Nothing reads by hash or prev_hash: both indexes
-- existed only to refuse a fork (two records chaining from the same predecessor) at write time.
--
-- The same guard, on a key that only grows: each record stores the seq of the record it chains from (`prev_seq`, 0 for
-- the first) and `prev_seq` is UNIQUE, so two records can never follow the same one; appends go to the right edge of
-- a small index. `hash` needed no guard of its own: two equal hashes mean an equal prev_hash and body, a fork, which
-- `prev_seq` refuses (short of a sha256 collision). The chain itself is unchanged: the same prev_hash and hash, computed
-- the same way, verified the same way (AuditChainVerifier: edits and deletions are found by hashes, not by indexes).
-- Records written before this migration keep prev_seq NULL (outside the partial index); they were guarded by the unique
-- prev_hash index when written.

-- DropIndex
DROP INDEX "audit_records_hash_key";

-- DropIndex
DROP INDEX "audit_records_prev_hash_key";

-- AlterTable
ALTER TABLE "audit_records" ADD COLUMN     "prev_seq" BIGINT;

-- CreateIndex
CREATE UNIQUE INDEX "audit_records_prev_seq_key" ON "audit_records"("prev_seq") WHERE (prev_seq IS NOT NULL);

-- A record chains from an earlier one (NOT VALID: the old rows are NULL anyway; no scan of the table).
ALTER TABLE "audit_records" ADD CONSTRAINT "audit_records_prev_seq_chk" CHECK ("prev_seq" >= 0 AND "prev_seq" < "seq") NOT VALID;

-- Append one record (audit_append, mid-transaction): the head's seq beside its hash.
CREATE OR REPLACE FUNCTION "audit_chain_insert"(lock_key BIGINT, p_id UUID, p_occurred_at TIMESTAMPTZ, p_actor TEXT, p_action TEXT,
  p_entity_type TEXT, p_entity_id TEXT, p_payload JSONB, p_body TEXT, OUT new_seq BIGINT, OUT new_hash CHAR(64))
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  prev CHAR(64);
  prev_s BIGINT;
BEGIN
  PERFORM pg_advisory_xact_lock(lock_key);
  SELECT a.seq, a.hash INTO prev_s, prev FROM audit_records a ORDER BY a.seq DESC LIMIT 1;
  prev := COALESCE(prev, repeat('0', 64));
  new_hash := encode(sha256(convert_to(prev || p_body, 'UTF8')), 'hex');
  INSERT INTO audit_records (id, occurred_at, actor, action, entity_type, entity_id, payload, prev_hash, hash, prev_seq)
    VALUES (p_id, p_occurred_at, p_actor, p_action, p_entity_type, p_entity_id, p_payload, prev, new_hash, COALESCE(prev_s, 0))
    RETURNING audit_records.seq INTO new_seq;
END;
$$;

-- The commit-time chaining of a transaction's staged records (20261203190000), now numbering them itself: under the
-- chain's lock each record takes the next seq and names the one before it as prev_seq.
CREATE OR REPLACE FUNCTION "audit_chain_pending"() RETURNS trigger LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
  prev CHAR(64);
  prev_s BIGINT;
  h CHAR(64);
  s BIGINT;
  r RECORD;
  ids UUID[] := '{}';
  prevs CHAR(64)[] := '{}';
  hashes CHAR(64)[] := '{}';
  seqs BIGINT[] := '{}';
  prev_seqs BIGINT[] := '{}';
BEGIN
  IF NOT EXISTS (SELECT 1 FROM audit_pending WHERE id = NEW.id) THEN
    RETURN NULL; -- moved by an earlier firing of this commit
  END IF;
  -- 0x41554454 "AUDT": AUDIT_CHAIN_LOCK_KEY in src/audit/audit-trail.ts
  PERFORM pg_advisory_xact_lock(1096107092);
  SELECT a.seq, a.hash INTO prev_s, prev FROM audit_records a ORDER BY a.seq DESC LIMIT 1;
  prev := COALESCE(prev, repeat('0', 64));
  prev_s := COALESCE(prev_s, 0);
  FOR r IN SELECT p.id, p.body FROM audit_pending p WHERE p.tx = txid_current() ORDER BY p.staged LOOP
    h := encode(sha256(convert_to(prev || r.body, 'UTF8')), 'hex');
    s := nextval('audit_records_seq_seq');
    ids := ids || r.id;
    prevs := prevs || prev;
    hashes := hashes || h;
    seqs := seqs || s;
    prev_seqs := prev_seqs || prev_s;
    prev := h;
    prev_s := s;
  END LOOP;
  INSERT INTO audit_records (seq, id, occurred_at, actor, action, entity_type, entity_id, payload, prev_hash, hash, prev_seq)
    SELECT c.seq, p.id, p.occurred_at, p.actor, p.action, p.entity_type, p.entity_id, p.payload, c.prev_hash, c.hash, c.prev_seq
    FROM unnest(ids, prevs, hashes, seqs, prev_seqs) WITH ORDINALITY AS c(id, prev_hash, hash, seq, prev_seq, ord)
    JOIN audit_pending p ON p.id = c.id
    ORDER BY c.ord;
  DELETE FROM audit_pending WHERE id = ANY (ids);
  RETURN NULL;
END;
$$;
