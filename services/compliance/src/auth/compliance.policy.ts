import type { complianceV1 } from '@tessera/contracts';
import type { PolicyTable } from '@tessera/auth';

/**
 * Who may call what on compliance. Screen and ScreenBatch are a step of transactions' money movement, never a user
 * action. Deciding alerts needs both the scope and the officer role; four-eyes (two distinct officers) is then checked
 * on the principals' subjects by ResolveAlertHandler.
 */
export const COMPLIANCE_POLICY: PolicyTable<typeof complianceV1.ComplianceServiceService> = {
  screen: { services: ['transactions'] },
  screenBatch: { services: ['transactions'] },
  listAlerts: { scope: 'alerts:read' },
  assignAlert: { scope: 'alerts:decide', role: 'compliance-officer' },
  resolveAlert: { scope: 'alerts:decide', role: 'compliance-officer' },
};
