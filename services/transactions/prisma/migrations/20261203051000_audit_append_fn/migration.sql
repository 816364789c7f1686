-- Appends audit records to the hash chain in ONE statement (issue #10): takes the chain's advisory lock, reads the
-- committed head with a fresh snapshot (PL/pgSQL statements each get one under READ COMMITTED, which a single
-- SQL statement taking the lock would not), hashes each record as sha256(prev_hash || body) and inserts it.
-- `body` is the record's canonical JSON, computed by the service (src/audit/canonical-json.ts), so the
-- verifier's recomputation from the stored columns stays the one definition of the hash.
-- Before: lock, head read and insert were three round trips per record, the lock taken mid-transaction and
-- held through every later statement; callers now append last, just before COMMIT.
CREATE FUNCTION "audit_append"(lock_key BIGINT, records JSONB) RETURNS TABLE (seq BIGINT, hash CHAR(64))
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  prev CHAR(64);
  rec JSONB;
  h CHAR(64);
BEGIN
  PERFORM pg_advisory_xact_lock(lock_key);
  SELECT a.hash INTO prev FROM audit_records a ORDER BY a.seq DESC LIMIT 1;
  prev := COALESCE(prev, repeat('0', 64));
  FOR rec IN SELECT value FROM jsonb_array_elements(records) LOOP
    h := encode(sha256(convert_to(prev || (rec->>'body'), 'UTF8')), 'hex');
    INSERT INTO audit_records (id, occurred_at, actor, action, entity_type, entity_id, payload, prev_hash, hash)
      VALUES ((rec->>'id')::uuid, (rec->>'occurredAt')::timestamptz, rec->>'actor', rec->>'action', rec->>'entityType',
              rec->>'entityId', rec->'payload', prev, h)
      RETURNING audit_records.seq, audit_records.hash INTO seq, hash;
    prev := h;
    RETURN NEXT;
  END LOOP;
END;
$$;
