-- AlterTable
ALTER TABLE "window_aggregates" ADD COLUMN     "max_event_time" TIMESTAMPTZ(3);
