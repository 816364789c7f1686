-- Issue #13: four-eyes proven, not asserted. Each reviewer's approval to release a held transfer is recorded here by
-- TransferService.ApproveRelease with the reviewer's own verified credential; ReleaseTransfer counts only these rows.

-- CreateTable
CREATE TABLE "release_approvals" (
    "transfer_id" UUID NOT NULL,
    "approver" TEXT NOT NULL,
    "alert_id" TEXT NOT NULL,
    "note" TEXT NOT NULL DEFAULT '',
    "approved_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "release_approvals_pkey" PRIMARY KEY ("transfer_id","approver")
);

-- AddForeignKey
ALTER TABLE "release_approvals" ADD CONSTRAINT "release_approvals_transfer_id_fkey" FOREIGN KEY ("transfer_id") REFERENCES "transfers"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
