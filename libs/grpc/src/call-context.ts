import { AsyncLocalStorage } from 'node:async_hooks';
import { InterceptingCall, Metadata, type Interceptor, type ServerUnaryCall } from '@grpc/grpc-js';
import type { TransportMode } from './transport';

/** The request-independent surface every served call has (grpc-js does not export its own name for it). */
export type ServedCall = Omit<ServerUnaryCall<unknown, unknown>, 'request'>;

/** Metadata keys carrying the caller's ORIGINAL credential between services (re-verified by every service). */
export const AUTHORIZATION_KEY = 'authorization';
export const API_KEY_KEY = 'x-api-key';

/** Per-call facts a handler may need; identity comes from metadata, never from the request body. */
export interface CallContext {
  /** Raw `authorization` value (e.g. "Bearer …"); forwarded, never logged. */
  authorization: string | undefined;
  /** Raw `x-api-key` value; forwarded, never logged. */
  apiKey: string | undefined;
  /**
   * Service identity of the caller: CN of the client certificate the TLS handshake verified against our CA.
   * Undefined on plaintext. Service-only methods authorise on it.
   */
  peer: string | undefined;
  /** 'mtls' when the call arrived over a verified mutual-TLS connection, else 'plaintext' (explicit dev mode). */
  transport: TransportMode;
  /** Full method path, e.g. `/tessera.payments.v1.AccountService/GetAccount`. */
  method: string;
  /** Absolute deadline, if the caller set one. */
  deadline: Date | undefined;
  /** Aborted when the client cancels or the deadline passes. */
  signal: AbortSignal;
  metadata: Metadata;
}

const storage = new AsyncLocalStorage<CallContext>();

/** The context of the gRPC call being served, anywhere below its handler; undefined outside one. */
export function currentCallContext(): CallContext | undefined {
  return storage.getStore();
}

/** Runs `fn` with `ctx` as the current call context (used by the handler wrappers). */
export function runWithCallContext<R>(ctx: CallContext, fn: () => R): R {
  return storage.run(ctx, fn);
}

function first(metadata: Metadata, key: string): string | undefined {
  const [value] = metadata.get(key);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** What the TLS layer proved about the caller: `peer` is the verified client certificate's CN. */
export interface TransportFacts {
  transport: TransportMode;
  peer?: string;
}

/**
 * Transport facts of a served call, from grpc-js's auth context. grpc-js only reports a peer certificate for
 * an authorised (CA-verified) TLS socket, and our TLS servers always require one (see grpcTransportFromEnv), so
 * "no verified certificate" means the call came over plaintext.
 *
 * Read once per HTTP/2 connection: grpc-js builds the peer certificate object anew on every getAuthContext()
 * (TLSSocket.getPeerCertificate parses the X.509 certificate: 6-8% of transactions' CPU on the read path, issue #12),
 * and a connection's certificate cannot change, since Node forbids TLS renegotiation on HTTP/2 sockets
 * (ERR_HTTP2_SOCKET_TLS_RENEGOTIATION_FORBIDDEN, as RFC 9113 §9.2.1 requires). The session is found through grpc-js
 * internals ({@link sessionOf}); when they change shape the facts are read per call, as before (the mTLS
 * integration spec fails then, so the saving is not lost silently).
 */
export function transportFactsOf(call: Pick<ServedCall, 'getAuthContext'>): TransportFacts {
  let facts = transportFacts.get(call);
  if (facts) return facts;
  const session = sessionOf(call);
  facts = (session && transportFacts.get(session)) ?? readTransportFacts(call);
  transportFacts.set(call, facts);
  if (session) transportFacts.set(session, facts);
  return facts;
}

/** Facts per served call and per HTTP/2 session (weak: gone with the call or the connection). */
const transportFacts = new WeakMap<object, TransportFacts>();

/**
 * The HTTP/2 session a served call arrived on: grpc-js wraps it as ServerUnaryCallImpl.call -> ServerInterceptingCall
 * (.nextCall per interceptor) -> BaseServerInterceptingCall.stream.session. Undefined when that shape is not found.
 */
export function sessionOf(call: object): object | undefined {
  let at: unknown = (call as { call?: unknown }).call;
  for (let depth = 0; at !== null && typeof at === 'object' && depth < 8; depth++) {
    const stream = (at as { stream?: { session?: unknown } }).stream;
    if (stream !== undefined)
      return stream !== null && typeof stream.session === 'object' && stream.session !== null ? stream.session : undefined;
    at = (at as { nextCall?: unknown }).nextCall;
  }
  return undefined;
}

function readTransportFacts(call: Pick<ServedCall, 'getAuthContext'>): TransportFacts {
  const auth = call.getAuthContext();
  const cert = auth?.sslPeerCertificate;
  if (auth?.transportSecurityType !== 'ssl' || !cert) return { transport: 'plaintext' };
  const cn = cert.subject?.CN;
  // Node types CN as string, but a certificate with several CNs yields an array: take none rather than guess.
  return { transport: 'mtls', peer: typeof cn === 'string' && cn !== '' ? cn : undefined };
}

/** Reads identity metadata (and, when given, the transport facts) of an incoming call. */
export function callContextFromMetadata(
  metadata: Metadata,
  method: string,
  deadline: Date | number | undefined,
  signal: AbortSignal,
  facts: TransportFacts = { transport: 'plaintext' },
): CallContext {
  const when = deadline === undefined || deadline === Infinity ? undefined : new Date(deadline);
  return {
    authorization: first(metadata, AUTHORIZATION_KEY),
    apiKey: first(metadata, API_KEY_KEY),
    peer: facts.peer,
    transport: facts.transport,
    method,
    deadline: when && Number.isFinite(when.getTime()) ? when : undefined,
    signal,
    metadata,
  };
}

/**
 * The context of a call served by grpc-js directly (streaming methods, which wrapUnary does not cover):
 * metadata, deadline, transport facts, and a signal aborted when the client cancels.
 */
export function callContextOf(call: ServedCall, signal?: AbortSignal): CallContext {
  let abortSignal = signal;
  if (!abortSignal) {
    const abort = new AbortController();
    call.on('cancelled', () => abort.abort());
    abortSignal = abort.signal;
  }
  return callContextFromMetadata(call.metadata, call.getPath(), call.getDeadline(), abortSignal, transportFactsOf(call));
}

/** The end-user credential a hop forwards: exactly what the edge received, re-verified by every service. */
export interface Credentials {
  authorization?: string;
  apiKey?: string;
}

/**
 * Client interceptor that attaches `authorization` (bearer JWT) and `x-api-key`. By default it forwards the
 * credential of the call currently being served, so service-to-service hops keep the end user and each
 * service re-authenticates it. Values already present on the outgoing metadata win. `x-tessera-principal`
 * is never forwarded (it was an unverifiable claim).
 */
export function authClientInterceptor(credentials: () => Credentials | undefined = () => currentCallContext()): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        const creds = credentials();
        if (creds?.authorization && metadata.get(AUTHORIZATION_KEY).length === 0) {
          metadata.set(AUTHORIZATION_KEY, creds.authorization);
        }
        if (creds?.apiKey && metadata.get(API_KEY_KEY).length === 0) {
          metadata.set(API_KEY_KEY, creds.apiKey);
        }
        next(metadata, listener);
      },
    });
}
