/**
 * DOM from nodes and text only. The page runs under Trusted Types with no policy
 * (`require-trusted-types-for 'script'; trusted-types 'none'`): any string handed to an HTML or
 * script sink (innerHTML, script src, eval) throws. So every value the coordinator sends becomes a
 * text node, never markup, and these helpers are the only way pages build elements.
 */

/** What may be a child: nodes, text (numbers as text), and nothing (null, undefined, false). */
export type Child = Node | string | number | null | undefined | false;
type Listener = (event: Event) => void;
/** Attributes (strings, numbers, true for present) and `on<event>` listeners. */
export type Attrs = Record<string, string | number | boolean | null | undefined | Listener>;

function apply(el: Element, attrs: Attrs | null | undefined, children: readonly (Child | readonly Child[])[]): void {
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') {
      el.addEventListener(name.slice(2).toLowerCase(), value);
      continue;
    }
    if (name.startsWith('on')) throw new Error(`attribute ${name}: event handlers are functions, never strings`);
    el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'number' ? String(c) : c);
  }
}

/** An HTML element. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: (Child | readonly Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  apply(el, attrs, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element (charts). */
export function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: (Child | readonly Child[])[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, attrs, children);
  return el;
}

/** Replaces everything in `el` with `children`. */
export function fill(el: Element, ...children: (Child | readonly Child[])[]): void {
  el.replaceChildren();
  apply(el, null, children);
}

/**
 * A link that saves `make()` as a file named `name`: the blob URL is made at the click and revoked
 * straight after, so the file exists only in the download (no `data:` URL, which the CSP refuses).
 */
export function saveLink(id: string, name: string, label: string, make: () => Blob): HTMLAnchorElement {
  const a = h('a', { id, class: 'button', download: name }, label);
  a.addEventListener('click', () => {
    const url = URL.createObjectURL(make());
    a.setAttribute('href', url);
    setTimeout(() => URL.revokeObjectURL(url), 0);
  });
  return a;
}
