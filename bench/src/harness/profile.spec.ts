import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { framesMarkdown, newestProfile, topFrames } from './profile';

const frame = (id: number, functionName: string, url: string, hitCount: number) => ({
  id,
  callFrame: { functionName, url, lineNumber: 9, columnNumber: 0, scriptId: '1' },
  hitCount,
});

describe('topFrames', () => {
  it('sums self hits per function and file, largest first, with node_modules paths shortened', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-profile-'));
    const file = join(dir, 'a.cpuprofile');
    writeFileSync(
      file,
      JSON.stringify({
        nodes: [
          frame(1, '(root)', '', 0),
          frame(2, 'parse', 'file:///app/node_modules/zod/v4/core/schemas.cjs', 30),
          frame(3, 'parse', 'file:///app/node_modules/zod/v4/core/schemas.cjs', 20), // same frame, other call path
          frame(4, '', '/app/x.js', 25),
          frame(5, '(idle)', '', 25),
        ],
      }),
    );
    expect(topFrames(file, 2)).toEqual([
      { frame: 'parse zod/v4/core/schemas.cjs:10', selfPercent: 50 },
      { frame: '(anonymous) /app/x.js:10', selfPercent: 25 },
    ]);
    expect(newestProfile(dir)).toBe(file);
    expect(framesMarkdown('gateway', topFrames(file, 1))).toContain('| 50 | `parse zod/v4/core/schemas.cjs:10` |');
  });

  it('finds no profile in a missing folder', () => {
    expect(newestProfile('/nonexistent/bench')).toBeUndefined();
  });
});
