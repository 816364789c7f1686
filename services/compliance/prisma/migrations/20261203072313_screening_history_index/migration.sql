-- Velocity/daily-limit history (ScreeningRepository.windowStats) becomes an index-only range scan: only APPROVE and
-- REVIEW rows, with the amount. Replaces the plain (owner_id, currency, decided_at) index, which nothing else used.

-- DropIndex
DROP INDEX "screenings_owner_id_currency_decided_at_idx";

-- CreateIndex
CREATE INDEX "screenings_history_idx" ON "screenings"("owner_id", "currency", "decided_at", "amount_minor") WHERE (decision = ANY (ARRAY['APPROVE'::screening_decision, 'REVIEW'::screening_decision]));
