/**
 * `npm run chaos` runs every scenario (TESSERA_CHAOS_FULL=1); `npm test` a CI-sized subset: the scenarios marked
 * `fullOnly` (the Go stage's kill -9 under load, the pipeline through a broker loss; ~4 minutes together) are skipped
 * there, their ground covered in CI by the Go kill -9 / rebalance specs and the payments broker-loss scenario.
 * Its own module: report.ts is also loaded outside Jest (the renderer), where `it` does not exist.
 */
export const CHAOS_FULL = process.env['TESSERA_CHAOS_FULL'] === '1';
export const fullOnly = CHAOS_FULL ? it : it.skip;
