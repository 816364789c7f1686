import type { Metadata } from '@grpc/grpc-js';
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { paymentsV1 } from '@tessera/contracts';
import { unaryCall } from '@tessera/grpc';
import { RequireScopes } from '../auth/auth.decorators';
import { nextPageTokenOf, required } from '../http/common.dto';
import { CallMetadata, IdempotencyKey } from '../http/request-context';
import { ZodPipe } from '../http/zod-body.pipe';
import { ACCOUNTS_CLIENT } from '../peers/peers.module';
import {
  accountIdParam,
  type AccountView,
  type BalanceView,
  changeAccountStatusBody,
  type ChangeAccountStatusBody,
  listAccountsQuery,
  type ListAccountsQuery,
  openAccountBody,
  type OpenAccountBody,
  toAccountView,
  toBalanceView,
  toChangeStatusRequest,
  toListAccountsRequest,
  toOpenAccountRequest,
} from './account.dto';

const idPipe = () => new ZodPipe(accountIdParam, 'HTTP.INVALID_ID', 'id');

/** REST face of `tessera.payments.v1.AccountService`; validation here, rules in the transactions service. */
@Controller('v1/accounts')
export class AccountsController {
  constructor(@Inject(ACCOUNTS_CLIENT) private readonly accounts: paymentsV1.AccountServiceClient) {}

  @Post()
  @HttpCode(201)
  @RequireScopes('accounts:write')
  async open(
    @IdempotencyKey() key: string,
    @Body(new ZodPipe(openAccountBody)) body: OpenAccountBody,
    @CallMetadata() metadata: Metadata,
  ): Promise<AccountView> {
    const { account } = await unaryCall(this.accounts, 'openAccount', toOpenAccountRequest(body, key), { metadata });
    return toAccountView(required(account, 'account'));
  }

  @Get()
  @RequireScopes('accounts:read')
  async list(
    @Query(new ZodPipe(listAccountsQuery, 'HTTP.INVALID_QUERY')) query: ListAccountsQuery,
    @CallMetadata() metadata: Metadata,
  ): Promise<{ items: AccountView[]; nextPageToken: string | null }> {
    const res = await unaryCall(this.accounts, 'listAccounts', toListAccountsRequest(query), { metadata });
    return { items: res.accounts.map(toAccountView), nextPageToken: nextPageTokenOf(res.page) };
  }

  @Get(':id')
  @RequireScopes('accounts:read')
  async get(@Param('id', idPipe()) id: string, @CallMetadata() metadata: Metadata): Promise<AccountView> {
    const { account } = await unaryCall(this.accounts, 'getAccount', { accountId: id }, { metadata });
    return toAccountView(required(account, 'account'));
  }

  @Get(':id/balance')
  @RequireScopes('accounts:read')
  async balance(@Param('id', idPipe()) id: string, @CallMetadata() metadata: Metadata): Promise<BalanceView> {
    const { balance } = await unaryCall(this.accounts, 'getBalance', { accountId: id }, { metadata });
    return toBalanceView(required(balance, 'balance'));
  }

  @Post(':id/freeze')
  @HttpCode(200)
  @RequireScopes('accounts:write')
  async freeze(
    @Param('id', idPipe()) id: string,
    @IdempotencyKey() key: string,
    @Body(new ZodPipe(changeAccountStatusBody)) body: ChangeAccountStatusBody,
    @CallMetadata() metadata: Metadata,
  ): Promise<AccountView> {
    const { account } = await unaryCall(this.accounts, 'freezeAccount', toChangeStatusRequest(id, body, key), { metadata });
    return toAccountView(required(account, 'account'));
  }

  @Post(':id/close')
  @HttpCode(200)
  @RequireScopes('accounts:write')
  async close(
    @Param('id', idPipe()) id: string,
    @IdempotencyKey() key: string,
    @Body(new ZodPipe(changeAccountStatusBody)) body: ChangeAccountStatusBody,
    @CallMetadata() metadata: Metadata,
  ): Promise<AccountView> {
    const { account } = await unaryCall(this.accounts, 'closeAccount', toChangeStatusRequest(id, body, key), { metadata });
    return toAccountView(required(account, 'account'));
  }
}
