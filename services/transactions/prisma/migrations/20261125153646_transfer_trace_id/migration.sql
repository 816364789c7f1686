-- AlterTable
ALTER TABLE "transfers" ADD COLUMN     "trace_id" TEXT;
