/**
 * The back half of the edge benchmark's "bare two hops" baseline: a bare @grpc/grpc-js server with mTLS (the
 * transactions certificate of .tessera/tls, client certificates required) and one unary method that reads the
 * account row with `pg` (pool of 10, the same SELECT as bare-fastify.server.ts) and answers the gateway's JSON bytes.
 * No protobuf (JSON buffers), no NestJS, no auth, no validation, no tracing, no Prisma: the floor of the platform's
 * shape (HTTP -> gRPC over mTLS -> service -> PostgreSQL) without any of its framework.
 * Prints "listening <port>" when ready.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Pool } from 'pg';
import { ACCOUNT_SQL, accountJson, BARE_GET_ACCOUNT } from './bare-account';

const tls = process.env['BARE_TLS_DIR'] ?? '.tessera/tls';
const pool = new Pool({ connectionString: process.env['BARE_DATABASE_URL'], max: 10 });
const server = new grpc.Server();
const identity = (b: Buffer) => b;

server.addService(
  {
    getAccount: {
      path: BARE_GET_ACCOUNT,
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    },
  },
  {
    getAccount: (call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) => {
      pool.query({ name: 'account-by-id', text: ACCOUNT_SQL, values: [call.request.toString('utf8')] }).then(
        ({ rows }) => {
          const row = rows[0] as Record<string, unknown> | undefined;
          if (!row) done({ code: grpc.status.NOT_FOUND, details: 'no such account' });
          else done(null, Buffer.from(JSON.stringify(accountJson(row))));
        },
        (err: Error) => done({ code: grpc.status.UNAVAILABLE, details: err.message }),
      );
    },
  },
);

const credentials = grpc.ServerCredentials.createSsl(
  readFileSync(join(tls, 'ca.crt')),
  [{ cert_chain: readFileSync(join(tls, 'transactions.crt')), private_key: readFileSync(join(tls, 'transactions.key')) }],
  true,
);
server.bindAsync('127.0.0.1:0', credentials, (err, port) => {
  if (err) {
    console.error(err);
    process.exit(1);
  }
  console.log(`listening ${port}`);
});
process.on('SIGTERM', () => server.tryShutdown(() => void pool.end().then(() => process.exit(0))));
