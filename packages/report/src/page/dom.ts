/** The few DOM and SVG helpers the page draws with. */
const SVG = 'http://www.w3.org/2000/svg';

type Attrs = Readonly<Record<string, string | number | boolean | undefined>>;
type Child = Node | string | null | undefined | false;

function fill<T extends Element>(node: T, attrs: Attrs, children: readonly Child[]): T {
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== false) node.setAttribute(k, v === true ? '' : String(v));
  for (const c of children) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

/** An HTML element. */
export const h = <K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] => fill(document.createElement(tag), attrs, children);

/** An SVG element. */
export const s = (tag: string, attrs: Attrs = {}, ...children: Child[]): SVGElement => fill(document.createElementNS(SVG, tag), attrs, children);

/** Where a device's own view is (the live console: `#device=ID`); none in a report file, which holds one view. */
let deviceHref: ((id: string) => string) | undefined;
export const linkDevices = (href: ((id: string) => string) | undefined): void => void (deviceHref = href);
export const hrefOfDevice = (id: string): string | undefined => deviceHref?.(id);

/** A device named in a table: a link to its view where there is one (the console), else its id. */
export const deviceCell = (id: string): Node | string => {
  const href = deviceHref?.(id);
  return href === undefined ? id : h('a', { href, class: 'device-link', 'data-device-link': id }, id);
};

/**
 * The most characters a table cell shows of a text. A pause's reason is any text: laid out whole in a cell that wraps
 * anywhere, 100 KB of it keeps Chromium busy for seconds (1 MB, minutes). A longer one shows its start and says how
 * much more there is; the whole is in the page's data.
 */
const CELL_TEXT = 400;
export const cellText = (text: string): string => {
  if (text.length <= CELL_TEXT) return text;
  const cut = /[\ud800-\udbff]/.test(text[CELL_TEXT - 1]!) ? CELL_TEXT - 1 : CELL_TEXT;
  return `${text.slice(0, cut)}… (${text.length - cut} more characters)`;
};

/** A table of facts: the text of a chart, for a screen reader or a search. */
export function table(caption: string, head: readonly string[], rows: ReadonlyArray<readonly (string | number | Node)[]>, rowAttrs?: (i: number) => Attrs): HTMLTableElement {
  return h(
    'table',
    {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, ...head.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, ...rows.map((r, i) => h('tr', rowAttrs?.(i) ?? {}, ...r.map((c) => h('td', {}, typeof c === 'object' ? c : cellText(String(c))))))),
  );
}

/** A table under its chart, folded away until asked for. */
export const factsTable = (summary: string, t: HTMLTableElement): HTMLDetailsElement => h('details', { class: 'facts' }, h('summary', {}, summary), t);
