import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/**
 * The patterns catalogue, the decision records, the workshops and the architecture note point at code and tests; this keeps them
 * pointing at something: every relative link resolves to a file or folder, and a link whose text is a `symbol` names
 * something that file contains (a renamed class or a moved file fails here until the page follows).
 */
const ROOT = join(__dirname, '../..');
const DOCS = ['docs/patterns', 'docs/adr', 'docs/workshops', 'docs/architecture.md'].map((d) => join(ROOT, d));

function markdownFiles(path: string): string[] {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .flatMap((n) => markdownFiles(join(path, n)))
    .filter((f) => f.endsWith('.md'));
}

interface Link {
  file: string;
  text: string;
  target: string;
}

function links(file: string): Link[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/\[([^\]]+)\]\(([^)\s]+)\)/g)]
    .map((m) => ({ file, text: m[1] as string, target: m[2] as string }))
    .filter((l) => !/^(https?:|mailto:|#)/.test(l.target));
}

const all = DOCS.flatMap(markdownFiles).flatMap(links);

describe('links in docs/patterns, docs/adr, docs/workshops and docs/architecture.md', () => {
  it('exist: the catalogue covers the ten patterns and each page links its code and its proof', () => {
    const pages = markdownFiles(join(ROOT, 'docs/patterns')).filter((f) => !f.endsWith('README.md'));
    expect(pages.length).toBe(10);
    for (const page of pages) {
      const body = readFileSync(page, 'utf8');
      expect({
        page: relative(ROOT, page),
        proof: body.includes('**Proof.**'),
        tests: /\.(int-spec|e2e-spec|chaos-spec|spec)\.ts\)/.test(body),
      }).toEqual({
        page: relative(ROOT, page),
        proof: true,
        tests: true,
      });
    }
    expect(all.length).toBeGreaterThan(60);
  });

  it('resolve to a file or folder of the repository', () => {
    const broken = all.filter((l) => !existsSync(join(dirname(l.file), l.target.split('#')[0] as string)));
    expect(broken.map((l) => `${relative(ROOT, l.file)}: ${l.target}`)).toEqual([]);
  });

  it('name, when the text is a `symbol`, something the linked file contains', () => {
    const wrong = all
      .filter((l) => /^`[A-Za-z_][\w.]*`$/.test(l.text))
      .filter((l) => {
        const path = join(dirname(l.file), l.target.split('#')[0] as string);
        return !existsSync(path) || statSync(path).isDirectory() || !readFileSync(path, 'utf8').includes(l.text.slice(1, -1));
      });
    expect(wrong.map((l) => `${relative(ROOT, l.file)}: ${l.text} in ${l.target}`)).toEqual([]);
  });
});
