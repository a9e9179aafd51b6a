/**
 * HTML built so that data cannot become markup: the `html` template tag escapes every
 * interpolated value (service and span names are whatever a traced process sent) unless it is
 * itself `Html` built by this tag, so a forgotten escape is not possible by construction.
 * Escaping covers text and quoted attribute values of HTML and of SVG inside it
 * (& < > " ' → character references). URLs in attributes are built with URLSearchParams and
 * then escaped the same way; only relative or http(s) URLs are ever built.
 */

export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

export type HtmlValue = Html | string | number | undefined | null | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === undefined || value === null) return '';
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(render).join('');
  return escapeHtml(String(value));
}

/** `html\`<td>${name}</td>\``: the literal parts as written, every value escaped (Html values as they are). */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}
