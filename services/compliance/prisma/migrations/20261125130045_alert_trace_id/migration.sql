-- AlterTable
ALTER TABLE "alerts" ADD COLUMN     "trace_id" TEXT NOT NULL DEFAULT '';
