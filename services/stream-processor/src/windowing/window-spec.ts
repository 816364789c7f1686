/** A window family: tumbling when slide == size, hopping when slide < size (both in ms). */
export interface WindowSpec {
  sizeMs: number;
  slideMs: number;
}

/** Parses "10s,60s,60s/10s" (size[/slide], units ms|s|m) into specs; throws on anything else. */
export function parseWindowSpecs(text: string): WindowSpec[] {
  const seen = new Set<string>();
  return text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const [size, slide] = part.split('/');
      const sizeMs = parseDuration(size ?? '');
      const slideMs = slide === undefined ? sizeMs : parseDuration(slide);
      if (slideMs > sizeMs || sizeMs % slideMs !== 0) throw new Error(`window "${part}": slide must divide size`);
      if (sizeMs % 1000 !== 0 || slideMs % 1000 !== 0) throw new Error(`window "${part}": whole seconds only`);
      if (seen.has(`${sizeMs}/${slideMs}`)) throw new Error(`window "${part}" is listed twice`);
      seen.add(`${sizeMs}/${slideMs}`);
      return { sizeMs, slideMs };
    });
}

function parseDuration(text: string): number {
  const m = /^(\d+)(ms|s|m)$/.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not a duration like 10s`);
  const n = Number(m[1]);
  const ms = m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
  if (ms <= 0) throw new Error(`"${text}" must be positive`);
  return ms;
}

/** Start times (epoch ms) of every window of `spec` that contains event time `t`, oldest first. */
export function windowStartsFor(spec: WindowSpec, t: number): number[] {
  const lastStart = Math.floor(t / spec.slideMs) * spec.slideMs;
  const starts: number[] = [];
  for (let start = lastStart - spec.sizeMs + spec.slideMs; start <= lastStart; start += spec.slideMs) {
    if (t >= start && t < start + spec.sizeMs) starts.push(start);
  }
  return starts;
}
