/** Server-Sent Events framing (WHATWG HTML, "event stream" format). */

/** One event; `data` is JSON on a single line, so no line splitting is needed. */
export function sseEvent(event: string, data: unknown, id?: string): string {
  const idLine = id ? `id: ${id.replace(/[\r\n]/g, '')}\n` : '';
  return `event: ${event}\n${idLine}data: ${JSON.stringify(data)}\n\n`;
}

/** A comment line: ignored by EventSource, but keeps proxies and load balancers from closing an idle stream. */
export function sseComment(text: string): string {
  return `: ${text.replace(/[\r\n]/g, ' ')}\n\n`;
}

/** Tells EventSource how long to wait before reconnecting after the stream ends. */
export function sseRetry(ms: number): string {
  return `retry: ${Math.round(ms)}\n\n`;
}
