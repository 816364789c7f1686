-- Chain a committing transaction's staged audit records in one pass (issue #10). The deferred trigger fires once per
-- staged row; each firing used to lock, read the head, hash and insert its own row and delete it from audit_pending:
-- a batch of 50 transfers (100 records) spent ~300 ms in its COMMIT while holding its account row locks, and the
-- batches behind it queued on those locks. Now the first firing of the commit takes the chain lock, reads the head
-- once, hashes every staged row of the transaction in staging order (`staged`) and moves them with one INSERT and
-- one DELETE; the later firings find their row gone and return. Same chain: same order, same prev_hash/hash rule
-- (sha256(prev_hash || body)), same lock, still inside the commit.
--
-- Only this transaction's staged rows are visible here: other transactions' rows are uncommitted, and a staged row
-- never commits (it is moved by the trigger of the commit that would commit it).
CREATE OR REPLACE FUNCTION "audit_chain_pending"() RETURNS trigger LANGUAGE plpgsql AS $$
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
  FOR r IN SELECT p.id, p.body FROM audit_pending p ORDER BY p.staged LOOP
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
