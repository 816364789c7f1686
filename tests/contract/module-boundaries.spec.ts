import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * The Nx boundary rule is only worth something if it fires. These lint in-memory files placed inside
 * real projects, so they exercise the real flat config, tags and project graph.
 */
const ROOT = join(__dirname, '../..');
const ESLINT = join(ROOT, 'node_modules/eslint/bin/eslint.js');

interface LintResult {
  messages: { ruleId: string | null; message: string }[];
}

/** Runs the ESLint CLI (ESM config loading needs a real Node process, not Jest's VM) on stdin. */
async function boundaryErrors(filePath: string, code: string, rule = '@nx/enforce-module-boundaries'): Promise<string[]> {
  let output: string;
  try {
    output = execFileSync(process.execPath, [ESLINT, '--format', 'json', '--stdin', '--stdin-filename', filePath], {
      cwd: ROOT,
      input: code,
      encoding: 'utf8',
    });
  } catch (err) {
    output = (err as { stdout: string }).stdout; // exit 1 = lint errors found; the JSON is still on stdout
  }
  const [result] = JSON.parse(output) as LintResult[];
  return (result?.messages ?? []).filter((m) => m.ruleId === rule).map((m) => m.message);
}

jest.setTimeout(60_000);

describe('module boundaries', () => {
  it('rejects a service importing another service, by package or by path', async () => {
    expect(
      await boundaryErrors(
        'services/gateway/src/boundary-probe.ts',
        "import { AppModule } from '@tessera/transactions';\nexport const x = AppModule;\n",
      ),
    ).toEqual(['Imports of apps are forbidden']);
    const byPath = await boundaryErrors(
      'services/gateway/src/boundary-probe.ts',
      "import { AppModule } from '../../transactions/src/app.module';\nexport const x = AppModule;\n",
    );
    expect(byPath).toEqual([expect.stringContaining('cannot be imported by a relative or absolute path')]);
  });

  it('keeps @tessera/testing out of production code, and allows it in tests', async () => {
    const code = "import { freePort } from '@tessera/testing';\nexport const x = freePort;\n";
    expect(await boundaryErrors('services/gateway/src/boundary-probe.ts', code, 'no-restricted-imports')).toEqual([
      expect.stringContaining('test support only'),
    ]);
    expect(await boundaryErrors('services/gateway/test/boundary-probe.int-spec.ts', code, 'no-restricted-imports')).toEqual([]);
    expect(await boundaryErrors('services/gateway/src/boundary-probe.spec.ts', code, 'no-restricted-imports')).toEqual([]);
  });

  it('rejects a lib importing a service', async () => {
    // From a lib the gateway does not reach (it reaches auth, and db through @tessera/testing in its specs, so a probe
    // in those would also report the cycle the import makes).
    const errors = await boundaryErrors(
      'libs/outbox/src/boundary-probe.ts',
      "import { AppModule } from '@tessera/gateway';\nexport const x = AppModule;\n",
    );
    expect(errors).toEqual(['Imports of apps are forbidden']);
  });

  it('keeps contracts free of libs (type tags)', async () => {
    const errors = await boundaryErrors(
      'libs/contracts/src/boundary-probe.ts',
      "import { loadConfig } from '@tessera/config';\nexport const x = loadConfig;\n",
    );
    expect(errors).toEqual([expect.stringContaining('type:contract')]);
  });

  it('allows a service importing a lib', async () => {
    const errors = await boundaryErrors(
      'services/gateway/src/boundary-probe.ts',
      "import { loadConfig } from '@tessera/config';\nexport const x = loadConfig;\n",
    );
    expect(errors).toEqual([]);
  });
});
