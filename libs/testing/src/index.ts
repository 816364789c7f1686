/**
 * Test support shared by every suite (issue #16): free ports, throwaway databases and topics, polling, a fake compliance service, a service's folder rules. Test code only: nothing
 * under a project's src/ (other than specs) may import it (tests/contract/module-boundaries.spec.ts checks).
 */
export { freePort } from './ports';
export { databaseUrl, PG_ADMIN_URL, throwawayDatabase, type ThrowawayDatabase } from './databases';
export { eventually, waitFor, type WaitOptions } from './wait';
export { approvingCompliance } from './fake-compliance';
export { throwawayTopics, type ThrowawayTopics } from './topics';
export { describeArchitecture, describeModuleWiring } from './suites';
export { frameworkImports, layerViolations, type LayerRules, sourceFiles, unlayered } from './layers';
