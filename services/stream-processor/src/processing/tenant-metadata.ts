import { z } from 'zod';

const schema = z.record(z.string(), z.record(z.string(), z.string()));

/**
 * Enrichment with per-tenant metadata from config (a small JSON map, e.g.
 * `{"demo":{"tenant_tier":"free","tenant_region":"eu"}}`). Added attributes never override the
 * event's own, and can be used as dimensions like any attribute.
 */
export class TenantMetadata {
  private constructor(private readonly byTenant: Record<string, Record<string, string>>) {}

  static parse(json: string): TenantMetadata {
    return new TenantMetadata(schema.parse(JSON.parse(json || '{}')));
  }

  enrich(tenantId: string, attributes: Record<string, string>): Record<string, string> {
    const meta = this.byTenant[tenantId];
    return meta ? { ...meta, ...attributes } : attributes;
  }
}
