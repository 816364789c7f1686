import type { paymentsV1 } from '@tessera/contracts';
import type { PolicyTable } from '@tessera/auth';

/**
 * Who may call what on transactions. Customers (principals with `customerId`) are further limited to their own
 * accounts by {@link OwnershipChecks}; staff roles see everything their scopes allow.
 */
export const ACCOUNT_POLICY: PolicyTable<typeof paymentsV1.AccountServiceService> = {
  openAccount: { scope: 'accounts:write' },
  getAccount: { scope: 'accounts:read' },
  listAccounts: { scope: 'accounts:read' },
  freezeAccount: { scope: 'accounts:write' },
  closeAccount: { scope: 'accounts:write' },
  getBalance: { scope: 'accounts:read' },
};

export const TRANSFER_POLICY: PolicyTable<typeof paymentsV1.TransferServiceService> = {
  createTransfer: { scope: 'transfers:write' },
  createTransferBatch: { scope: 'transfers:write' },
  getTransfer: { scope: 'transfers:read' },
  listTransfers: { scope: 'transfers:read' },
  authorizeHold: { scope: 'holds:write' },
  captureHold: { scope: 'holds:write' },
  voidHold: { scope: 'holds:write' },
  // Customers hold transfers:write for their own payments; undoing a posted transfer is back-office work.
  reverseTransfer: { scope: 'transfers:write', role: 'operator' },
  // Four-eyes, proven here (issue #13): each approval carries the reviewing officer's own token (forwarded by
  // compliance), verified by this service; the release, driven by compliance, counts only recorded approvals.
  approveRelease: { scope: 'alerts:decide', role: 'compliance-officer' },
  releaseTransfer: { services: ['compliance'] },
  declineHeldTransfer: { services: ['compliance'] },
};

export const AUDIT_POLICY: PolicyTable<typeof paymentsV1.AuditServiceService> = {
  verifyAuditChain: { scope: 'audit:read' },
  listAuditRecords: { scope: 'audit:read' },
};
