import { Injectable } from '@nestjs/common';
import { paymentsV1 } from '@tessera/contracts';
import type { CallContext, UnaryImplementation } from '@tessera/grpc';
import { principalOf } from '@tessera/auth';
import { OwnershipChecks } from '../auth/ownership';
import { AuthorizeHoldHandler } from '../holds/authorize-hold/authorize-hold.handler';
import { CaptureHoldHandler } from '../holds/capture-hold/capture-hold.handler';
import { VoidHoldHandler } from '../holds/void-hold/void-hold.handler';
import type { Money } from '../ledger/ledger';
import type { TransferInstruction } from './transfer';
import { transferStatusFromProto, transferToProto } from './transfer.mapping';
import { CreateTransferBatchHandler } from './create-transfer-batch/create-transfer-batch.handler';
import { CreateTransferHandler } from './create-transfer/create-transfer.handler';
import { GetTransferHandler } from './get-transfer/get-transfer.handler';
import { ListTransfersHandler } from './list-transfers/list-transfers.handler';
import { ReverseTransferHandler } from './reverse-transfer/reverse-transfer.handler';
import { ReviewTransferHandler } from './review-transfer/review-transfer.handler';

type TransferServiceImpl = UnaryImplementation<typeof paymentsV1.TransferServiceService>;

/**
 * gRPC face of TransferService: protobuf in, domain commands to the handlers, stored protobuf responses out.
 * Calls arrive authorised by the CallGuard (transactions.policy.ts); customers are narrowed to their own accounts here.
 */
@Injectable()
export class TransfersGrpc {
  constructor(
    private readonly create: CreateTransferHandler,
    private readonly batch: CreateTransferBatchHandler,
    private readonly getTransfer: GetTransferHandler,
    private readonly listTransfers: ListTransfersHandler,
    private readonly authorizeHold: AuthorizeHoldHandler,
    private readonly captureHold: CaptureHoldHandler,
    private readonly voidHold: VoidHoldHandler,
    private readonly reverse: ReverseTransferHandler,
    private readonly review: ReviewTransferHandler,
    private readonly ownership: OwnershipChecks,
  ) {}

  implementation(): TransferServiceImpl {
    return {
      createTransfer: async (req, ctx: CallContext) => {
        const instruction = instructionFromProto(req.transfer);
        await this.ownership.assertDebitable(principalOf(ctx), [instruction.sourceAccountId]);
        return (await this.create.execute(req.idempotencyKey, instruction)).response;
      },
      createTransferBatch: async (req, ctx: CallContext) => {
        const instructions = req.transfers.map(instructionFromProto);
        await this.ownership.assertDebitable(
          principalOf(ctx),
          instructions.map((t) => t.sourceAccountId),
        );
        return (await this.batch.execute(req.idempotencyKey, instructions)).response;
      },
      getTransfer: async (req, ctx: CallContext) => {
        await this.ownership.assertReadableTransfer(principalOf(ctx), req.transferId);
        return { transfer: transferToProto(await this.getTransfer.execute(req.transferId)) };
      },
      listTransfers: async (req, ctx: CallContext) => {
        const status = transferStatusFromProto(req.status);
        const { customerId } = principalOf(ctx);
        if (req.accountId) await this.ownership.assertReadableAccount(principalOf(ctx), req.accountId);
        const page = await this.listTransfers.execute({
          // Without an account filter a customer still sees only transfers touching their accounts.
          ...(customerId !== undefined && !req.accountId ? { ownerId: customerId } : {}),
          pageSize: req.page?.pageSize ?? 0,
          pageToken: req.page?.pageToken ?? '',
          ...(req.accountId ? { accountId: req.accountId } : {}),
          ...(status ? { status } : {}),
          ...(req.batchId ? { batchId: req.batchId } : {}),
        });
        return { transfers: page.transfers.map(transferToProto), page: { nextPageToken: page.nextPageToken } };
      },
      authorizeHold: async (req) =>
        (
          await this.authorizeHold.execute({
            idempotencyKey: req.idempotencyKey,
            accountId: req.accountId,
            destinationAccountId: req.destinationAccountId,
            amount: moneyFromProto(req.amount),
            ttlMs: req.ttl ? Number(req.ttl.seconds) * 1000 + Math.floor(req.ttl.nanos / 1e6) : undefined,
            description: req.description,
            reference: req.reference,
          })
        ).response,
      captureHold: async (req) =>
        (await this.captureHold.execute({ idempotencyKey: req.idempotencyKey, holdId: req.holdId, amount: moneyFromProto(req.amount) }))
          .response,
      voidHold: async (req) =>
        (await this.voidHold.execute({ idempotencyKey: req.idempotencyKey, holdId: req.holdId, reason: req.reason })).response,
      reverseTransfer: async (req) =>
        (await this.reverse.execute({ idempotencyKey: req.idempotencyKey, transferId: req.transferId, reason: req.reason })).response,
      approveRelease: async (req) => ({
        approvedBy: await this.review.approve({ transferId: req.transferId, alertId: req.alertId, note: req.note }),
      }),
      releaseTransfer: async (req) =>
        (
          await this.review.release({
            idempotencyKey: req.idempotencyKey,
            transferId: req.transferId,
            approvedBy: req.approvedBy,
            note: req.note,
            alertId: req.alertId,
          })
        ).response,
      declineHeldTransfer: async (req) =>
        (
          await this.review.decline({
            idempotencyKey: req.idempotencyKey,
            transferId: req.transferId,
            declinedBy: req.declinedBy,
            note: req.note,
            alertId: req.alertId,
          })
        ).response,
    };
  }
}

function moneyFromProto(m: { amountMinor: bigint; currency: string } | undefined): Money | undefined {
  return m ? { amountMinor: m.amountMinor, currency: m.currency } : undefined;
}

function instructionFromProto(t: paymentsV1.TransferInstruction | undefined): TransferInstruction {
  return {
    sourceAccountId: t?.sourceAccountId ?? '',
    destinationAccountId: t?.destinationAccountId ?? '',
    amount: moneyFromProto(t?.amount),
    description: t?.description ?? '',
    reference: t?.reference ?? '',
    labels: t?.labels ?? {},
    counterparty: t?.counterparty ? { name: t.counterparty.name, country: t.counterparty.country } : undefined,
  };
}
