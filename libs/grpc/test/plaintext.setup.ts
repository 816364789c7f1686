/**
 * Jest setupFile of the `integration` project: in-process service tests talk to their server over plaintext,
 * explicitly (design: mTLS is proven by libs/grpc/test/mtls.int-spec.ts and the e2e platform, which run with
 * certificates). Child processes the tests spawn inherit it. A test that wants mTLS passes its own env to
 * grpcTransportFromEnv, or sets TESSERA_GRPC_PLAINTEXT=false before this runs.
 */
process.env['TESSERA_GRPC_PLAINTEXT'] ??= 'true';
