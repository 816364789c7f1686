/**
 * One Jest config, three layers (select with --selectProjects):
 *  - unit:        *.spec.ts beside the code, no I/O
 *  - integration: services/<svc>/test/*.int-spec.ts and libs/<lib>/test/*.int-spec.ts against real Postgres/Kafka
 *  - e2e:         tests/e2e/*.e2e-spec.ts with every service as a real process
 *  - chaos:       tests/chaos/*.chaos-spec.ts, faults injected into real processes, ending with invariants
 * @swc/jest compiles TypeScript (with decorator metadata for NestJS) without type-checking; `tsc -b` does that.
 * `@tessera/*` resolves to the libs' TypeScript sources, so tests never need a prior build.
 */
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];
// NestJS 12 (and a few of its dependencies) ship ESM only; Jest's CommonJS runtime cannot require ESM before
// Node 24.9, so those packages go through swc like our own sources. Everything else in node_modules stays untouched.
const ESM_ONLY = [
  '@nestjs',
  'set-cookie-parser',
  'cookie',
  'toad-cache',
  'file-type',
  'uint8array-extras',
  'token-types',
  '@borewit',
  'strtok3',
  '@tokenizer',
  '@standard-schema',
  'jose',
  'content-disposition',
];
const common = {
  rootDir: __dirname,
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY.join('|')})/)`],
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j)s$': swc },
  moduleNameMapper: {
    '^@tessera/loadgen$': '<rootDir>/tools/loadgen/src/index.ts',
    '^@tessera/([a-z-]+)$': '<rootDir>/libs/$1/src/index.ts',
  },
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/.cache/', '/.tessera/'],
  modulePathIgnorePatterns: ['<rootDir>/.*/dist/'],
};
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{libs,services,tools,infra,bench,tests/contract}/**/*.spec.ts'] },
    // Kafka: tests connect as tessera-admin over SASL_SSL (tests/support/kafka-client.setup.ts).
    // In-process integration tests run gRPC in the explicit plaintext dev mode (see the setup file); e2e runs mTLS.
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/{libs,services,tools}/**/test/**/*.int-spec.ts', '<rootDir>/tests/integration/**/*.int-spec.ts'],
      setupFiles: ['<rootDir>/libs/grpc/test/plaintext.setup.ts', '<rootDir>/tests/support/kafka-client.setup.ts'],
      slowTestThreshold: 30,
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/tests/e2e/**/*.e2e-spec.ts'],
      setupFiles: ['<rootDir>/tests/support/kafka-client.setup.ts'],
      slowTestThreshold: 60,
    },
    // Fault scenarios on real processes with invariants (issue #14); `npm run chaos` runs them and writes the report.
    {
      ...common,
      displayName: 'chaos',
      testMatch: ['<rootDir>/tests/chaos/**/*.chaos-spec.ts'],
      setupFiles: ['<rootDir>/tests/support/kafka-client.setup.ts'],
      slowTestThreshold: 120,
    },
  ],
};
