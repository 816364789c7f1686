import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { paymentsV1 } from '@tessera/contracts';
import { AppError } from '@tessera/errors';
import { unaryCall } from '@tessera/grpc';
import { ZodPipe } from '../http/zod-body.pipe';
import { ACCOUNTS_CLIENT } from '../peers/peers.module';
import { accountIdParam, type AccountView, idempotencyKeyHeader, openAccountBody, type OpenAccountBody, toAccountView, toOpenAccountRequest } from './account.dto';

/** REST face of `tessera.payments.v1.AccountService`; validation here, rules in the transactions service. */
@Controller('v1/accounts')
export class AccountsController {
  constructor(@Inject(ACCOUNTS_CLIENT) private readonly accounts: paymentsV1.AccountServiceClient) {}

  @Post()
  @HttpCode(201)
  async open(
    @Headers('idempotency-key') rawKey: string | undefined,
    @Body(new ZodPipe(openAccountBody)) body: OpenAccountBody,
  ): Promise<AccountView> {
    // Checked before the pipe: ZodPipe reads a missing value as {} (right for bodies, wrong for a header).
    if (!rawKey) {
      throw new AppError({
        code: 'HTTP.IDEMPOTENCY_KEY_REQUIRED',
        kind: 'INVALID_ARGUMENT',
        message: 'Send an Idempotency-Key header (8-128 characters) with every POST',
        fieldViolations: [{ field: 'Idempotency-Key', description: 'required' }],
      });
    }
    const key = new ZodPipe(idempotencyKeyHeader, 'HTTP.INVALID_IDEMPOTENCY_KEY', 'Idempotency-Key').transform(rawKey);
    const { account } = await unaryCall(this.accounts, 'openAccount', toOpenAccountRequest(body, key));
    return toAccountView(required(account));
  }

  @Get(':id')
  async get(@Param('id', new ZodPipe(accountIdParam, 'HTTP.INVALID_ID', 'id')) id: string): Promise<AccountView> {
    const { account } = await unaryCall(this.accounts, 'getAccount', { accountId: id });
    return toAccountView(required(account));
  }
}

function required<T>(value: T | undefined): T {
  if (value === undefined) throw new AppError({ code: 'GATEWAY.EMPTY_RESPONSE', kind: 'INTERNAL', message: 'Upstream returned no account' });
  return value;
}
