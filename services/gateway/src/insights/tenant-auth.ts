import { Inject, Injectable } from '@nestjs/common';
import { ApiKeyRegistry } from '@tessera/auth';
import { type GatewayConfig, GATEWAY_CONFIG } from '../config';

/**
 * Tenant-scoped reads (insights and the live channel) check the caller's API key here, against the same
 * per-tenant keys ingest accepts (`INGEST_API_KEYS`; `demo:demo-key` outside production when unset).
 * The header wins over the `apiKey` query parameter, which exists only because EventSource cannot send headers.
 */
@Injectable()
export class TenantAuth {
  private readonly keys: ApiKeyRegistry;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.keys = ApiKeyRegistry.forEnvironment(config.INGEST_API_KEYS, config.NODE_ENV);
  }

  /** Throws UNAUTHENTICATED (401) or PERMISSION_DENIED (403) unless the key belongs to `tenantId`. */
  authorize(tenantId: string, header: string | string[] | undefined, queryKey: string | undefined): void {
    const key = (Array.isArray(header) ? header[0] : header) || queryKey;
    this.keys.authorizeTenant(key, tenantId);
  }
}
