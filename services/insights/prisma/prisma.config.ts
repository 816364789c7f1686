import path from 'node:path';
import { defineConfig } from 'prisma/config';

// Paths are relative to this file so `prisma --config services/insights/prisma/prisma.config.ts` works from the repo root.
export default defineConfig({
  schema: path.join(__dirname, 'schema.prisma'),
  migrations: { path: path.join(__dirname, 'migrations') },
  datasource: {
    url: process.env.INSIGHTS_DATABASE_URL ?? 'postgresql://tessera:tessera@127.0.0.1:55432/tessera_insights',
  },
});
