-- AlterTable
ALTER TABLE "window_aggregates" ADD COLUMN     "trace_id" TEXT NOT NULL DEFAULT '';
