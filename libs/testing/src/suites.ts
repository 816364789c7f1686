import type { DynamicModule, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { startTestAuth, type TestAuth } from '@tessera/auth';
import { frameworkImports, type LayerRules, layerViolations, unlayered } from './layers';

/**
 * A service's `src/architecture.spec.ts` in one call: its dependency rules (docs/architecture.md) hold for every import
 * under src/, every top-level folder has a layer, and (with `domain`) the domain models and rules import neither the
 * framework nor Prisma.
 */
export function describeArchitecture(service: string, rules: LayerRules, domain?: { files: RegExp; atLeast: number }): void {
  describe(`${service} dependency rules (docs/architecture.md)`, () => {
    if (domain) {
      it('keeps the framework and Prisma out of the domain models and rules', () => {
        const { files, leaks } = frameworkImports(rules.src, domain.files);
        expect(files.length).toBeGreaterThanOrEqual(domain.atLeast);
        expect(leaks).toEqual([]);
      });
    }

    it('holds for every import under src/', () => {
      expect(layerViolations(rules)).toEqual([]);
    });

    it('knows every top-level folder (a new one needs a layer)', () => {
      expect(unlayered(rules)).toEqual([]);
    });
  });
}

/**
 * A service's `src/app.module.spec.ts` in one call: its Nest module resolves every provider (`@nestjs/testing` compile
 * runs the constructors only: nothing connects, no lifecycle hook runs), so a provider a refactor forgot fails a unit
 * test instead of first an integration test. `module` gets a throwaway issuer's auth environment.
 */
export function describeModuleWiring(module: (authEnv: Record<string, string>) => DynamicModule, probe: Type<unknown>): void {
  describe('AppModule', () => {
    let auth: TestAuth;
    const plaintext = process.env['TESSERA_GRPC_PLAINTEXT'];

    beforeAll(async () => {
      auth = await startTestAuth();
      // The peers' clients read their mTLS certificates when constructed; wiring is not about transport, and a fresh
      // clone has no certificates before `npm run infra -- certs`: the explicit plaintext dev mode.
      process.env['TESSERA_GRPC_PLAINTEXT'] = 'true';
    });

    afterAll(() => {
      auth.close();
      if (plaintext === undefined) delete process.env['TESSERA_GRPC_PLAINTEXT'];
      else process.env['TESSERA_GRPC_PLAINTEXT'] = plaintext;
    });

    it('resolves every provider', async () => {
      const compiled = await Test.createTestingModule({ imports: [module(auth.env)] }).compile();
      expect(compiled.get(probe)).toBeInstanceOf(probe);
    });
  });
}
