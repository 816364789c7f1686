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

    beforeAll(async () => {
      auth = await startTestAuth();
    });

    afterAll(() => auth.close());

    it('resolves every provider', async () => {
      const compiled = await Test.createTestingModule({ imports: [module(auth.env)] }).compile();
      expect(compiled.get(probe)).toBeInstanceOf(probe);
    });
  });
}
