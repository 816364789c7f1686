import type { Metadata } from '@grpc/grpc-js';
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { paymentsV1 } from '@tessera/contracts';
import { unaryCall } from '@tessera/grpc';
import type { z } from 'zod';
import { RequireScopes } from '../auth/auth.decorators';
import { nextPageTokenOf, required, uuid } from '../http/common.dto';
import { CallMetadata, IdempotencyKey } from '../http/request-context';
import { ZodPipe } from '../http/zod-body.pipe';
import { type GatewayConfig, GATEWAY_CONFIG } from '../config';
import { TRANSFERS_CLIENT } from '../peers/peers.module';
import {
  createTransferBatchBody,
  type CreateTransferBatchBody,
  createTransferBody,
  listTransfersQuery,
  type ListTransfersQuery,
  type reversalView,
  reverseTransferBody,
  type ReverseTransferBody,
  type transferBatchView,
  type TransferInstructionBody,
  type TransferView,
  toListTransfersRequest,
  toTransferInstruction,
  toTransferView,
} from './transfer.dto';

const idPipe = () => new ZodPipe(uuid, 'HTTP.INVALID_ID', 'id');

/**
 * REST face of `tessera.payments.v1.TransferService` (transfers). A created transfer answers 201 whatever its
 * status: POSTED, PENDING (held for compliance review) or DECLINED are all outcomes the caller reads from `status`.
 */
@Controller('v1/transfers')
export class TransfersController {
  constructor(
    @Inject(TRANSFERS_CLIENT) private readonly transfers: paymentsV1.TransferServiceClient,
    @Inject(GATEWAY_CONFIG) private readonly config: Pick<GatewayConfig, 'GATEWAY_BATCH_DEADLINE_MS'>,
  ) {}

  @Post()
  @HttpCode(201)
  @RequireScopes('transfers:write')
  async create(
    @IdempotencyKey() key: string,
    @Body(new ZodPipe(createTransferBody)) body: TransferInstructionBody,
    @CallMetadata() metadata: Metadata,
  ): Promise<TransferView> {
    const request = { idempotencyKey: key, transfer: toTransferInstruction(body) };
    const { transfer } = await unaryCall(this.transfers, 'createTransfer', request, { metadata });
    return toTransferView(required(transfer, 'transfer'));
  }

  @Post('batch')
  @HttpCode(201)
  @RequireScopes('transfers:write')
  async createBatch(
    @IdempotencyKey() key: string,
    @Body(new ZodPipe(createTransferBatchBody)) body: CreateTransferBatchBody,
    @CallMetadata() metadata: Metadata,
  ): Promise<z.infer<typeof transferBatchView>> {
    const request = { idempotencyKey: key, transfers: body.transfers.map(toTransferInstruction) };
    const res = await unaryCall(this.transfers, 'createTransferBatch', request, {
      metadata,
      deadlineMs: this.config.GATEWAY_BATCH_DEADLINE_MS,
    });
    return { batchId: res.batchId, transfers: res.transfers.map(toTransferView) };
  }

  @Get()
  @RequireScopes('transfers:read')
  async list(
    @Query(new ZodPipe(listTransfersQuery, 'HTTP.INVALID_QUERY')) query: ListTransfersQuery,
    @CallMetadata() metadata: Metadata,
  ): Promise<{ items: TransferView[]; nextPageToken: string | null }> {
    const res = await unaryCall(this.transfers, 'listTransfers', toListTransfersRequest(query), { metadata });
    return { items: res.transfers.map(toTransferView), nextPageToken: nextPageTokenOf(res.page) };
  }

  @Get(':id')
  @RequireScopes('transfers:read')
  async get(@Param('id', idPipe()) id: string, @CallMetadata() metadata: Metadata): Promise<TransferView> {
    const { transfer } = await unaryCall(this.transfers, 'getTransfer', { transferId: id }, { metadata });
    return toTransferView(required(transfer, 'transfer'));
  }

  @Post(':id/reverse')
  @HttpCode(201)
  @RequireScopes('transfers:write')
  async reverse(
    @Param('id', idPipe()) id: string,
    @IdempotencyKey() key: string,
    @Body(new ZodPipe(reverseTransferBody)) body: ReverseTransferBody,
    @CallMetadata() metadata: Metadata,
  ): Promise<z.infer<typeof reversalView>> {
    const res = await unaryCall(
      this.transfers,
      'reverseTransfer',
      { idempotencyKey: key, transferId: id, reason: body.reason ?? '' },
      { metadata },
    );
    return { original: res.original ? toTransferView(res.original) : null, reversal: res.reversal ? toTransferView(res.reversal) : null };
  }
}
