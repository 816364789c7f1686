-- Issue #13: the ledger and the audit chain are append-only through row triggers (forbid_update_delete, init
-- migration), but TRUNCATE fires no row trigger: `TRUNCATE audit_records` emptied the chain, and an empty chain
-- verified as valid. Statement-level triggers refuse TRUNCATE the same way (SQLSTATE 42501). A table owner can still
-- disable triggers; the chain's signed checkpoints (issue #13, not done yet) are what detects that.
CREATE TRIGGER "audit_records_no_truncate" BEFORE TRUNCATE ON "audit_records"
    FOR EACH STATEMENT EXECUTE FUNCTION "forbid_update_delete"();

CREATE TRIGGER "postings_no_truncate" BEFORE TRUNCATE ON "postings"
    FOR EACH STATEMENT EXECUTE FUNCTION "forbid_update_delete"();
