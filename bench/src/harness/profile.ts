import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '../../../infra/local/topology';

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export interface ProfileFrame {
  frame: string;
  selfPercent: number;
}

/**
 * The top self-time frames of a V8 `.cpuprofile` (what `node --cpu-prof` writes): hitCount summed per
 * function + file, as BENCHMARKING.md describes. "(idle)"/"(program)"/"(garbage collector)" stay in, since
 * they say where the rest of the time went.
 */
export function topFrames(file: string, n = 12): ProfileFrame[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: CpuProfileNode[] };
  const hits = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const count = node.hitCount ?? 0;
    if (count === 0) continue;
    total += count;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${shorten(url)}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
    hits.set(key, (hits.get(key) ?? 0) + count);
  }
  return [...hits.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([frame, count]) => ({ frame, selfPercent: Math.round((count / total) * 1000) / 10 }));
}

function shorten(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) return path.slice(nm + '/node_modules/'.length);
  return path.startsWith(`${REPO_ROOT}/`) ? relative(REPO_ROOT, path) : path;
}

/** The newest .cpuprofile in a folder (a process writes one at exit). */
export function newestProfile(dir: string): string | undefined {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  } catch {
    return undefined;
  }
  return files
    .sort()
    .map((f) => join(dir, f))
    .pop();
}

/** Markdown lines for the results notes. */
export function framesMarkdown(process: string, frames: ProfileFrame[]): string[] {
  return [
    `Top self-time frames of ${process} (V8 CPU profile over the load only, 1 ms sampling; same format as node --cpu-prof):`,
    '',
    '| self % | frame |',
    '| ---: | --- |',
    ...frames.map((f) => `| ${f.selfPercent} | \`${f.frame.replace(/\|/g, '\\|')}\` |`),
  ];
}

/**
 * A CPU profile of a running Node process over exactly `load`, through the V8 inspector: SIGUSR1 makes Node
 * open its inspector on 127.0.0.1:9229 (its documented default), then Profiler.start/stop over the DevTools
 * protocol (Node's built-in WebSocket client). No restart, no start-up frames in the profile. The inspector stays
 * open on loopback until the process restarts (`restore` restarts every service the bench touched).
 */
async function inspectorProfile(pid: number, load: () => Promise<unknown>): Promise<unknown> {
  process.kill(pid, 'SIGUSR1');
  let wsUrl: string | undefined;
  for (let i = 0; i < 40 && !wsUrl; i++) {
    await new Promise((r) => setTimeout(r, 100));
    try {
      const targets = (await (await fetch('http://127.0.0.1:9229/json/list')).json()) as { webSocketDebuggerUrl: string }[];
      wsUrl = targets[0]?.webSocketDebuggerUrl;
    } catch {
      /* not listening yet */
    }
  }
  if (!wsUrl) throw new Error(`pid ${pid} opened no inspector on 127.0.0.1:9229`);
  const ws = new WebSocket(wsUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error(`inspector websocket ${wsUrl} failed`));
  });
  let nextId = 1;
  const pending = new Map<number, (result: unknown) => void>();
  ws.onmessage = (ev: MessageEvent) => {
    const msg = JSON.parse(String(ev.data)) as { id?: number; result?: unknown };
    if (msg.id !== undefined) pending.get(msg.id)?.(msg.result);
  };
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  try {
    await call('Profiler.enable');
    await call('Profiler.setSamplingInterval', { interval: 1000 });
    await call('Profiler.start');
    await load();
    const { profile } = (await call('Profiler.stop')) as { profile: unknown };
    await call('Profiler.disable');
    return profile;
  } finally {
    ws.close();
  }
}

/**
 * The CPU profile of one running service over `load`, written to `dir` as a `.cpuprofile`, with its top frames
 * as markdown lines for the results notes.
 */
export async function profileService(
  platform: { pid(name: string): number | undefined; markAltered?(name: string): void },
  service: string,
  dir: string,
  load: () => Promise<unknown>,
): Promise<{ file?: string; notes: string[] }> {
  const pid = platform.pid(service);
  if (pid === undefined) return { notes: [`(no CPU profile: ${service} is not running)`] };
  platform.markAltered?.(service); // restarted at the end: closes the inspector
  const profile = await inspectorProfile(pid, load);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${service}.${pid}.${Date.now()}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  return {
    file,
    notes: [
      ...framesMarkdown(service, topFrames(file)),
      '',
      `Profile: \`${relative(REPO_ROOT, file)}\` (open in Chrome DevTools or speedscope).`,
    ],
  };
}
