-- Issue #10, eighth session: a direct transfer has no hold, reverses nothing and most belong to no batch, yet each of
-- these three B-tree indexes took an entry (a NULL) for every transfer, three of the seven index inserts a transfer
-- costs. Partial indexes keep only the rows that have a value. Uniqueness is unchanged (NULLs never conflicted), and
-- every query that uses these columns filters on a value (`= $1` implies IS NOT NULL), so the planner still uses them.
-- Measured on the dev database (465k transfers): the three indexes went from ~10-20 MB each to 8 kB, 8 kB and 2.5 MB.
-- WAL per transfer did not change measurably: NULLs sort last, so their entries all went to one right-most leaf.
DROP INDEX "transfers_hold_id_key";
CREATE UNIQUE INDEX "transfers_hold_id_key" ON "transfers"("hold_id") WHERE "hold_id" IS NOT NULL;
DROP INDEX "transfers_reverses_transfer_id_key";
CREATE UNIQUE INDEX "transfers_reverses_transfer_id_key" ON "transfers"("reverses_transfer_id") WHERE "reverses_transfer_id" IS NOT NULL;
DROP INDEX "transfers_batch_id_idx";
CREATE INDEX "transfers_batch_id_idx" ON "transfers"("batch_id") WHERE "batch_id" IS NOT NULL;
