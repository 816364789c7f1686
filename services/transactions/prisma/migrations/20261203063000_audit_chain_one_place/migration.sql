-- One definition of "append one record to the chain" (lock, head with a fresh snapshot, sha256(prev_hash || body),
-- insert), used by both audit_append (records appended mid-transaction) and the commit-time trigger for staged
-- records (audit_pending); they each spelled it out before.
CREATE FUNCTION "audit_chain_insert"(lock_key BIGINT, p_id UUID, p_occurred_at TIMESTAMPTZ, p_actor TEXT, p_action TEXT,
  p_entity_type TEXT, p_entity_id TEXT, p_payload JSONB, p_body TEXT, OUT new_seq BIGINT, OUT new_hash CHAR(64))
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  prev CHAR(64);
BEGIN
  PERFORM pg_advisory_xact_lock(lock_key);
  SELECT a.hash INTO prev FROM audit_records a ORDER BY a.seq DESC LIMIT 1;
  prev := COALESCE(prev, repeat('0', 64));
  new_hash := encode(sha256(convert_to(prev || p_body, 'UTF8')), 'hex');
  INSERT INTO audit_records (id, occurred_at, actor, action, entity_type, entity_id, payload, prev_hash, hash)
    VALUES (p_id, p_occurred_at, p_actor, p_action, p_entity_type, p_entity_id, p_payload, prev, new_hash)
    RETURNING audit_records.seq INTO new_seq;
END;
$$;

CREATE OR REPLACE FUNCTION "audit_append"(lock_key BIGINT, records JSONB) RETURNS TABLE (seq BIGINT, hash CHAR(64))
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  rec JSONB;
BEGIN
  FOR rec IN SELECT value FROM jsonb_array_elements(records) LOOP
    SELECT c.new_seq, c.new_hash INTO seq, hash
      FROM audit_chain_insert(lock_key, (rec->>'id')::uuid, (rec->>'occurredAt')::timestamptz, rec->>'actor', rec->>'action',
        rec->>'entityType', rec->>'entityId', rec->'payload', rec->>'body') c;
    RETURN NEXT;
  END LOOP;
END;
$$;

CREATE OR REPLACE FUNCTION "audit_chain_pending"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- 0x41554454 "AUDT": AUDIT_CHAIN_LOCK_KEY in src/audit/audit-trail.ts
  PERFORM audit_chain_insert(1096107092, NEW.id, NEW.occurred_at, NEW.actor, NEW.action, NEW.entity_type, NEW.entity_id, NEW.payload, NEW.body);
  DELETE FROM audit_pending WHERE id = NEW.id;
  RETURN NULL;
END;
$$;
