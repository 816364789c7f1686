import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { paymentsV1 } from '@tessera/contracts';
import { createGrpcClient, grpcTransportFromEnv, unaryCall } from '@tessera/grpc';
import { type ComplianceConfig, COMPLIANCE_CONFIG } from '../config';

/**
 * transactions' TransferService for the calls compliance makes. Release and decline carry idempotency keys derived
 * from the alert id, so the channel may retry them and a re-driven resolution never posts twice; ApproveRelease is
 * idempotent per reviewer. Every call forwards the reviewing officer's credential (the client's default auth
 * forwarding): transactions records an approval only under the officer's own verified token (issue #13).
 */
@Injectable()
export class TransactionsClient implements OnApplicationShutdown {
  private readonly client: paymentsV1.TransferServiceClient;

  constructor(@Inject(COMPLIANCE_CONFIG) config: ComplianceConfig) {
    this.client = createGrpcClient(paymentsV1.TransferServiceClient, config.TRANSACTIONS_ADDR, {
      transport: grpcTransportFromEnv('compliance'),
      retry: 'idempotent',
      idempotentMethods: ['approveRelease', 'releaseTransfer', 'declineHeldTransfer'],
      defaultDeadlineMs: config.COMPLIANCE_TRANSACTIONS_DEADLINE_MS,
    });
  }

  /** Records the calling officer's approval in transactions; call it in the officer's request (credential forwarded). */
  approveRelease(req: paymentsV1.ApproveReleaseRequest): Promise<paymentsV1.ApproveReleaseResponse> {
    return unaryCall(this.client, 'approveRelease', req);
  }

  releaseTransfer(req: paymentsV1.ReleaseTransferRequest): Promise<paymentsV1.ReleaseTransferResponse> {
    return unaryCall(this.client, 'releaseTransfer', req);
  }

  declineHeldTransfer(req: paymentsV1.DeclineHeldTransferRequest): Promise<paymentsV1.DeclineHeldTransferResponse> {
    return unaryCall(this.client, 'declineHeldTransfer', req);
  }

  onApplicationShutdown(): void {
    this.client.close();
  }
}
