// Bundles the console into dist/ (index.html + assets/app.js + assets/app.css) for the gateway to serve at
// /console. esbuild only strips types; `tsc -p services/console` type-checks first (see project.json).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const require = createRequire(import.meta.url);
rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, 'assets'), { recursive: true });
await build({
  entryPoints: [join(root, 'src/main.ts')],
  outfile: join(dist, 'assets/app.js'),
  bundle: true,
  minify: true,
  sourcemap: true,
  format: 'iife',
  target: ['chrome110', 'firefox110', 'safari16'],
  logLevel: 'warning',
});
const uplotCss = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
writeFileSync(join(dist, 'assets/app.css'), `${uplotCss}\n${readFileSync(join(root, 'src/styles.css'), 'utf8')}`);
copyFileSync(join(root, 'src/index.html'), join(dist, 'index.html'));
