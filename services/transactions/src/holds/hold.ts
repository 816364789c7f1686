/** Holds (two-phase transfers): the reservation and its life. No framework or Prisma imports. */
export type HoldStatus = 'AUTHORIZED' | 'CAPTURED' | 'VOIDED' | 'EXPIRED';

export interface Hold {
  id: string;
  accountId: string;
  destinationAccountId: string;
  amountMinor: bigint;
  capturedMinor: bigint;
  currency: string;
  status: HoldStatus;
  description: string;
  reference: string;
  expiresAt: Date;
  captureTransferId: string | undefined;
  createdAt: Date;
  updatedAt: Date;
}
