-- Screening's locked read in one round trip (issue #10). A screening transaction was BEGIN, lock the (owner,
-- currency) groups, read the keys already decided, read the groups' window stats, insert, COMMIT: six round trips,
-- and every one of them is paid twice on a busy box (a syscall on each side and a wait for the event loop). This
-- function takes the groups' transaction-scoped advisory locks (in lock-key order: concurrent calls never deadlock)
-- and only then reads, each read with a fresh snapshot (VOLATILE plpgsql, READ COMMITTED), so it sees every
-- screening committed by the holder it waited for: the same guarantee as separate statements after the lock.
CREATE FUNCTION "screening_lock_and_read"(p_groups TEXT[], p_keys TEXT[], p_owners TEXT[], p_currencies BPCHAR[], p_windows INT[],
  p_now TIMESTAMPTZ, p_since TIMESTAMPTZ) RETURNS JSONB LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  stored JSONB;
  stats JSONB;
BEGIN
  PERFORM pg_advisory_xact_lock(l.k) FROM (SELECT DISTINCT hashtextextended(g, 0) AS k FROM unnest(p_groups) AS g) AS l ORDER BY l.k;
  SELECT coalesce(jsonb_agg(jsonb_build_object('key', s.idempotency_key, 'requestHash', s.request_hash, 'response', encode(s.response, 'base64'))), '[]'::jsonb)
    INTO stored FROM screenings AS s WHERE s.idempotency_key = ANY (p_keys);
  -- Approved and held movements per group and rolling window (decided_at > now - window), one range scan of
  -- screenings_history_idx per group bounded by the longest window.
  SELECT coalesce(jsonb_agg(jsonb_build_object('g', x.g, 'secs', x.secs, 'count', x.n, 'amountMinor', x.amount_minor)), '[]'::jsonb) INTO stats
  FROM (
    SELECT g.i::int AS g, w.secs, count(s.amount_minor)::int AS n, coalesce(sum(s.amount_minor), 0)::text AS amount_minor
    FROM unnest(p_owners, p_currencies) WITH ORDINALITY AS g(owner_id, currency, i)
    CROSS JOIN unnest(p_windows) AS w(secs)
    LEFT JOIN screenings AS s ON s.owner_id = g.owner_id AND s.currency = g.currency AND s.decision IN ('APPROVE', 'REVIEW')
      AND s.decided_at > p_since AND s.decided_at > p_now - make_interval(secs => w.secs)
    GROUP BY g.i, w.secs
  ) AS x;
  RETURN jsonb_build_object('stored', stored, 'stats', stats);
END;
$$;
