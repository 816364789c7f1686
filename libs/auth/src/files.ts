import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Writes through a temporary file and rename, so a reader polling the file (JWKS, API key store) sees the old or
 * the new content, never a half-written one.
 */
export function writeFileAtomic(path: string, content: string, mode = 0o644): void {
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  writeFileSync(tmp, content, { mode });
  renameSync(tmp, path);
}

/**
 * Identity of a file version: mtime alone can miss two writes within the clock's resolution, and a rename
 * (our atomic writes) always changes the inode.
 */
export function fileVersion(stats: Stats): string {
  return `${stats.mtimeMs}:${stats.size}:${stats.ino}`;
}

export function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8')) as unknown;
}

/**
 * The checkout's root (the folder whose package.json is named `tessera`), for dev defaults like
 * `<repo>/.tessera/auth`. Falls back to the working directory (e.g. inside a container image).
 */
export function repoRoot(start: string = __dirname): string {
  let dir = start;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((readJson(pkg) as { name?: unknown }).name === 'tessera') return dir;
      } catch {
        // not our package.json; keep walking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

/** `<repo>/.tessera/auth`: where `npm run auth -- init` puts the dev issuer's keys and the API key store. */
export function defaultAuthDir(): string {
  return join(repoRoot(), '.tessera', 'auth');
}
