import { ChannelCredentials, ServerCredentials } from '@grpc/grpc-js';

/** PEM material; strings or Buffers as read from files/secrets. */
export interface ServerTlsOptions {
  cert: string | Buffer;
  key: string | Buffer;
  /** CA that signs client certificates; required when `requireClientCert`. */
  ca?: string | Buffer;
  /** mTLS: reject clients without a certificate signed by `ca`. */
  requireClientCert?: boolean;
}

export interface ClientTlsOptions {
  /** CA that signed the server certificate. */
  ca: string | Buffer;
  /** Client certificate and key for mTLS. */
  cert?: string | Buffer;
  key?: string | Buffer;
}

const buf = (v: string | Buffer): Buffer => (typeof v === 'string' ? Buffer.from(v) : v);

/** Plaintext when no TLS is given: local/dev topology; production passes certs. */
export function serverCredentials(tls?: ServerTlsOptions): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  if (tls.requireClientCert && !tls.ca) throw new Error('requireClientCert needs the client CA (tls.ca)');
  return ServerCredentials.createSsl(
    tls.ca ? buf(tls.ca) : null,
    [{ cert_chain: buf(tls.cert), private_key: buf(tls.key) }],
    tls.requireClientCert ?? false,
  );
}

export function channelCredentials(tls?: ClientTlsOptions): ChannelCredentials {
  if (!tls) return ChannelCredentials.createInsecure();
  return ChannelCredentials.createSsl(buf(tls.ca), tls.key ? buf(tls.key) : null, tls.cert ? buf(tls.cert) : null);
}
