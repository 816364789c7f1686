type Child = Node | string | number | null | undefined | false;

/** Tiny element builder: text is always set as text, never parsed as HTML (values come from the network). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(typeof c === 'number' ? String(c) : c);
  return el;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from index.html`);
  return el as T;
}

/** A table body from rows of cells; an empty list shows `empty`. */
export function fillTable(tbody: HTMLElement, rows: Child[][], empty: string): void {
  const columns = tbody.closest('table')?.querySelectorAll('thead th').length ?? 1;
  tbody.replaceChildren(
    ...(rows.length === 0
      ? [h('tr', {}, h('td', { colspan: String(columns), class: 'empty' }, empty))]
      : rows.map((cells) =>
          h('tr', {}, ...cells.map((c) => (c instanceof HTMLTableCellElement ? c : h('td', typeof c === 'string' ? { title: c } : {}, c)))),
        )),
  );
}
