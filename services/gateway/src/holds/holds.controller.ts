import type { Metadata } from '@grpc/grpc-js';
import { Body, Controller, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { paymentsV1 } from '@tessera/contracts';
import { unaryCall } from '@tessera/grpc';
import type { z } from 'zod';
import { RequireScopes } from '../auth/auth.decorators';
import { required, uuid } from '../http/common.dto';
import { CallMetadata, IdempotencyKey } from '../http/request-context';
import { ZodPipe } from '../http/zod-body.pipe';
import { TRANSFERS_CLIENT } from '../peers/peers.module';
import { toTransferView } from '../transfers/transfer.dto';
import {
  authorizeHoldBody,
  type AuthorizeHoldBody,
  captureHoldBody,
  type CaptureHoldBody,
  type capturedHoldView,
  type HoldView,
  toAuthorizeHoldRequest,
  toCaptureHoldRequest,
  toHoldView,
  voidHoldBody,
  type VoidHoldBody,
} from './hold.dto';

const idPipe = () => new ZodPipe(uuid, 'HTTP.INVALID_ID', 'id');

/** Two-phase transfers: authorise (reserve funds), then capture (post) or void (release). */
@RequireScopes('holds:write')
@Controller('v1/holds')
export class HoldsController {
  constructor(@Inject(TRANSFERS_CLIENT) private readonly transfers: paymentsV1.TransferServiceClient) {}

  @Post()
  @HttpCode(201)
  async authorize(
    @IdempotencyKey() key: string,
    @Body(new ZodPipe(authorizeHoldBody)) body: AuthorizeHoldBody,
    @CallMetadata() metadata: Metadata,
  ): Promise<HoldView> {
    const { hold } = await unaryCall(this.transfers, 'authorizeHold', toAuthorizeHoldRequest(body, key), { metadata });
    return toHoldView(required(hold, 'hold'));
  }

  @Post(':id/capture')
  @HttpCode(200)
  async capture(
    @Param('id', idPipe()) id: string,
    @IdempotencyKey() key: string,
    @Body(new ZodPipe(captureHoldBody)) body: CaptureHoldBody,
    @CallMetadata() metadata: Metadata,
  ): Promise<z.infer<typeof capturedHoldView>> {
    const res = await unaryCall(this.transfers, 'captureHold', toCaptureHoldRequest(id, body, key), { metadata });
    return { hold: toHoldView(required(res.hold, 'hold')), transfer: res.transfer ? toTransferView(res.transfer) : null };
  }

  @Post(':id/void')
  @HttpCode(200)
  async void(
    @Param('id', idPipe()) id: string,
    @IdempotencyKey() key: string,
    @Body(new ZodPipe(voidHoldBody)) body: VoidHoldBody,
    @CallMetadata() metadata: Metadata,
  ): Promise<HoldView> {
    const { hold } = await unaryCall(
      this.transfers,
      'voidHold',
      { idempotencyKey: key, holdId: id, reason: body.reason ?? '' },
      { metadata },
    );
    return toHoldView(required(hold, 'hold'));
  }
}
