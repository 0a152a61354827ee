// Job summaries for people who are not on github.com: the demo writes every step's summary to one
// HTML page, rendered as GitHub renders a job summary, and shows the terminal a plain-text version.
//
// As GitHub does: the summary file is GitHub-flavored Markdown (with raw HTML in it, which is what
// core.summary writes), turned into HTML, then sanitized with an allowlist — the public one of
// html-pipeline's SanitizationFilter, where GitHub's began: no <svg>, <style>, <script>, class or
// style attributes — and ```mermaid fences drawn by Mermaid (loaded from node_modules into the page:
// no network). The plain text comes from the same sanitized HTML: headings underlined, tables as
// aligned columns, <details> collapsed to their title, code indented, no tags.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { marked } from 'marked';

// ---- a small HTML tree: enough for what marked, core.summary and Chromium's --dump-dom write

export type HtmlNode = HtmlText | HtmlElement;
export interface HtmlText {
  type: 'text';
  text: string;
}
export interface HtmlElement {
  type: 'element';
  tag: string;
  attrs: Record<string, string>;
  children: HtmlNode[];
}

const VOID = new Set([
  'area',
  'base',
  'br',
  'col',
  'embed',
  'hr',
  'img',
  'input',
  'link',
  'meta',
  'source',
  'wbr',
]);
const RAW_TEXT = new Set(['script', 'style', 'textarea', 'title']);
const TAG =
  /^<(\/?)([a-zA-Z][\w:-]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*(\/?)>/;
const ATTR = /([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;

/** Parses HTML into a tree; tolerant: stray end tags are ignored, open elements end at the end. */
export function parseHtml(html: string): HtmlNode[] {
  const root: HtmlElement = { type: 'element', tag: '#root', attrs: {}, children: [] };
  const stack: HtmlElement[] = [root];
  const top = () => stack.at(-1)!;
  let i = 0;
  const text = (s: string) => {
    if (s) top().children.push({ type: 'text', text: decodeEntities(s) });
  };
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    if (lt < 0) {
      text(html.slice(i));
      break;
    }
    text(html.slice(i, lt));
    i = lt;
    if (html.startsWith('<!--', i)) {
      const end = html.indexOf('-->', i + 4);
      i = end < 0 ? html.length : end + 3;
      continue;
    }
    if (html.startsWith('<!', i) || html.startsWith('<?', i)) {
      const end = html.indexOf('>', i);
      i = end < 0 ? html.length : end + 1;
      continue;
    }
    const m = TAG.exec(html.slice(i));
    if (!m) {
      text('<');
      i += 1;
      continue;
    }
    i += m[0].length;
    const [, closing, name = '', attrText = '', selfClosing] = m;
    const tag = name.toLowerCase();
    if (closing) {
      const at = stack.map((e) => e.tag).lastIndexOf(tag);
      if (at > 0) stack.length = at;
      continue;
    }
    const element: HtmlElement = { type: 'element', tag, attrs: parseAttributes(attrText), children: [] };
    top().children.push(element);
    if (RAW_TEXT.has(tag)) {
      const end = html.toLowerCase().indexOf(`</${tag}`, i);
      const body = html.slice(i, end < 0 ? html.length : end);
      if (body)
        element.children.push({
          type: 'text',
          text: tag === 'textarea' || tag === 'title' ? decodeEntities(body) : body,
        });
      i = end < 0 ? html.length : html.indexOf('>', end) + 1 || html.length;
      continue;
    }
    if (!selfClosing && !VOID.has(tag)) stack.push(element);
  }
  return root.children;
}

function parseAttributes(text: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const m of text.matchAll(ATTR)) {
    attrs[m[1]!.toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return attrs;
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-zA-Z]+);/g, (whole, name: string) => {
    if (name[0] === '#') {
      const code =
        name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED[name] ?? whole;
  });
}

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function serializeHtml(nodes: readonly HtmlNode[]): string {
  return nodes
    .map((n) => {
      if (n.type === 'text') return escapeText(n.text);
      const attrs = Object.entries(n.attrs)
        .map(([k, v]) => ` ${k}="${escapeText(v).replace(/"/g, '&quot;')}"`)
        .join('');
      if (VOID.has(n.tag)) return `<${n.tag}${attrs}>`;
      return `<${n.tag}${attrs}>${serializeHtml(n.children)}</${n.tag}>`;
    })
    .join('');
}

/** Every element, depth first, that `match` accepts. */
export function findElements(nodes: readonly HtmlNode[], match: (e: HtmlElement) => boolean): HtmlElement[] {
  const found: HtmlElement[] = [];
  const walk = (list: readonly HtmlNode[]) => {
    for (const n of list) {
      if (n.type !== 'element') continue;
      if (match(n)) found.push(n);
      walk(n.children);
    }
  };
  walk(nodes);
  return found;
}

export function textContent(nodes: readonly HtmlNode[]): string {
  return nodes.map((n) => (n.type === 'text' ? n.text : textContent(n.children))).join('');
}

// ---- GitHub's rendering: Markdown, sanitized, Mermaid fences marked for drawing

// html-pipeline's SanitizationFilter WHITELIST (github.com/gjtorikian/html-pipeline,
// lib/html/pipeline/sanitization_filter.rb): the elements, and the attributes that matter here.
const ALLOWED = new Set(
  (
    'h1 h2 h3 h4 h5 h6 h7 h8 br b i strong em a pre code img tt div ins del sup sub p ol ul table ' +
    'thead tbody tfoot blockquote dl dt dd kbd q samp var hr ruby rt rp li tr td th s strike summary details'
  ).split(' '),
);
/** Removed with everything inside them; any other element not allowed is removed but its text kept. */
const REMOVE_CONTENTS = new Set(['script', 'style']);
const ATTRIBUTES: Record<string, readonly string[]> = {
  a: ['href'],
  img: ['src', 'alt', 'title', 'width', 'height', 'align'],
  '*': ['align', 'alt', 'colspan', 'rowspan', 'lang', 'open', 'title', 'width', 'height', 'start', 'scope'],
};
const URL_ATTRIBUTES = new Set(['href', 'src']);

function sanitize(nodes: readonly HtmlNode[]): HtmlNode[] {
  return nodes.flatMap((n): HtmlNode[] => {
    if (n.type === 'text') return [n];
    if (REMOVE_CONTENTS.has(n.tag)) return [];
    const children = sanitize(n.children);
    // Mermaid's block survives as GitHub keeps it: it is drawn, not shown as code.
    if (n.tag === 'pre' && n.attrs.class === 'mermaid') return [{ ...n, children }];
    if (!ALLOWED.has(n.tag)) return children;
    const attrs: Record<string, string> = {};
    for (const [k, v] of Object.entries(n.attrs)) {
      if (!(ATTRIBUTES[n.tag] ?? []).includes(k) && !ATTRIBUTES['*']!.includes(k)) continue;
      if (URL_ATTRIBUTES.has(k) && !/^(?:https?:|mailto:|[^:]*$)/i.test(v.trim())) continue;
      attrs[k] = v;
    }
    return [{ ...n, attrs, children }];
  });
}

/** `<pre><code class="language-mermaid">` (marked's ```mermaid) becomes `<pre class="mermaid">`. */
function markMermaid(nodes: readonly HtmlNode[]): HtmlNode[] {
  return nodes.map((n) => {
    if (n.type === 'text') return n;
    const only = n.children.length === 1 ? n.children[0] : undefined;
    if (n.tag === 'pre' && only?.type === 'element' && only.attrs.class === 'language-mermaid') {
      return { type: 'element', tag: 'pre', attrs: { class: 'mermaid' }, children: [...only.children] };
    }
    return { ...n, children: markMermaid(n.children) };
  });
}

/** A summary file's content as GitHub shows it: the sanitized tree. */
export function summaryTree(markdown: string): HtmlNode[] {
  const html = marked.parse(markdown, { gfm: true, async: false });
  return sanitize(markMermaid(parseHtml(html)));
}

/** A summary file's content as the HTML GitHub shows (Mermaid blocks as `<pre class="mermaid">`). */
export function renderSummary(markdown: string): string {
  return serializeHtml(summaryTree(markdown));
}

// ---- plain text for the terminal

const HEADING_RULE: Record<string, string> = { h1: '═', h2: '─' };
const BLOCKS = new Set([
  ...'h1 h2 h3 h4 h5 h6 h7 h8 p table thead tbody tfoot tr pre ul ol li dl dt dd details blockquote hr div'.split(
    ' ',
  ),
]);

/** A summary file's content as plain text: headings, aligned tables, collapsed details, no tags. */
export function summaryText(markdown: string): string {
  return blocksOf(summaryTree(markdown)).join('\n\n');
}

function blocksOf(nodes: readonly HtmlNode[]): string[] {
  const blocks: string[] = [];
  let inline: HtmlNode[] = [];
  const flush = () => {
    const text = inlineText(inline);
    if (text) blocks.push(text);
    inline = [];
  };
  for (const n of nodes) {
    if (n.type === 'element' && BLOCKS.has(n.tag)) {
      flush();
      const block = blockText(n);
      if (block) blocks.push(block);
    } else {
      inline.push(n);
    }
  }
  flush();
  return blocks;
}

function blockText(e: HtmlElement): string {
  switch (e.tag) {
    case 'p':
    case 'dt':
    case 'dd':
      return inlineText(e.children);
    case 'pre': {
      const code = textContent(e.children).replace(/\n$/, '');
      if (e.attrs.class === 'mermaid') {
        const title = /^\s*title\s+"([^"]*)"/m.exec(code)?.[1];
        return `▸ chart${title ? `: ${title}` : ''} (drawn on the page)`;
      }
      return code
        .split('\n')
        .map((line) => `    ${line}`.trimEnd())
        .join('\n');
    }
    case 'details': {
      const summary = e.children.find((c): c is HtmlElement => c.type === 'element' && c.tag === 'summary');
      return `▸ ${summary ? inlineText(summary.children) : 'Details'}`;
    }
    case 'table':
      return tableText(e);
    case 'ul':
    case 'ol':
      return listItems(e)
        .map((item, i) => {
          const bullet = e.tag === 'ol' ? `${Number(e.attrs.start ?? 1) + i}. ` : '• ';
          return bullet + item.replace(/\n/g, `\n${' '.repeat(bullet.length)}`);
        })
        .join('\n');
    case 'blockquote':
      return blocksOf(e.children)
        .join('\n\n')
        .split('\n')
        .map((line) => `│ ${line}`)
        .join('\n');
    case 'hr':
      return '────────';
    default: {
      if (/^h\d$/.test(e.tag)) {
        const text = inlineText(e.children);
        const rule = HEADING_RULE[e.tag] ?? '┄';
        return `${text}\n${rule.repeat(Math.max(3, [...text].length))}`;
      }
      return blocksOf(e.children).join('\n\n');
    }
  }
}

function listItems(list: HtmlElement): string[] {
  return list.children
    .filter((c): c is HtmlElement => c.type === 'element' && c.tag === 'li')
    .map((li) => blocksOf(li.children).join('\n'));
}

function tableText(table: HtmlElement): string {
  const rows = findElements(table.children, (e) => e.tag === 'tr').map((tr) =>
    tr.children
      .filter((c): c is HtmlElement => c.type === 'element' && (c.tag === 'th' || c.tag === 'td'))
      .map((cell) => ({ header: cell.tag === 'th', text: inlineText(cell.children).replace(/\n/g, ' ') })),
  );
  if (rows.length === 0) return '';
  const columns = Math.max(...rows.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, c) =>
    Math.max(...rows.map((r) => [...(r[c]?.text ?? '')].length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (c === cells.length - 1 ? cell : cell + ' '.repeat(widths[c]! - [...cell].length)))
      .join('  ')
      .trimEnd();
  const out: string[] = [];
  rows.forEach((row, r) => {
    out.push(line(row.map((c) => c.text)));
    // A header row (all <th>) is ruled off; a facts table (a <th> label per row) is not.
    if (r === 0 && rows.length > 1 && row.every((c) => c.header)) {
      out.push(widths.map((w) => '─'.repeat(w)).join('  '));
    }
  });
  return out.join('\n');
}

function inlineText(nodes: readonly HtmlNode[]): string {
  const parts = nodes.map((n): string => {
    if (n.type === 'text') return n.text.replace(/\s+/g, ' ');
    if (n.tag === 'br') return '\n';
    if (n.tag === 'img') return n.attrs.alt ? `[${n.attrs.alt}]` : '';
    if (BLOCKS.has(n.tag)) return `\n${blockText(n)}\n`;
    const text = inlineText(n.children);
    if (n.tag === 'a' && n.attrs.href && n.attrs.href !== text) return `${text} (${n.attrs.href})`;
    return text;
  });
  return parts
    .join('')
    .split('\n')
    .map((line) => line.trim())
    .join('\n')
    .replace(/\n{2,}/g, '\n')
    .trim();
}

// ---- the page

export interface StepSummary {
  /** Shown above the step's summary (`2/4 Deploy …`). */
  title: string;
  /** The content of the step's GITHUB_STEP_SUMMARY file. */
  markdown: string;
}

const STYLE = `
body { font: 14px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif;
  color: #1f2328; background: #f6f8fa; margin: 0; padding: 24px; }
main { max-width: 1012px; margin: 0 auto; }
header h1 { font-size: 20px; margin: 0 0 4px; }
header p { color: #59636e; margin: 0 0 16px; }
.step { background: #fff; border: 1px solid #d1d9e0; border-radius: 6px; margin: 0 0 16px; }
.step-title { font-size: 14px; font-weight: 600; margin: 0; padding: 8px 16px; border-bottom: 1px solid #d1d9e0;
  background: #f6f8fa; border-radius: 6px 6px 0 0; }
.markdown-body { padding: 16px 24px; overflow-x: auto; }
.markdown-body h1, .markdown-body h2 { border-bottom: 1px solid #d1d9e0; padding-bottom: .3em; }
.markdown-body h2 { font-size: 1.5em; } .markdown-body h3 { font-size: 1.25em; }
.markdown-body table { border-collapse: collapse; margin: 0 0 16px; display: block; overflow: auto; }
.markdown-body th, .markdown-body td { border: 1px solid #d1d9e0; padding: 6px 13px; text-align: left; }
.markdown-body th { font-weight: 600; }
.markdown-body pre { background: #f6f8fa; border-radius: 6px; padding: 16px; overflow: auto; font-size: 85%; }
.markdown-body pre.mermaid { background: none; text-align: center; }
.markdown-body details summary { cursor: pointer; }
.empty { color: #59636e; font-style: italic; }
`;

/** The page: every step's summary in turn, Mermaid from node_modules inlined so it draws offline. */
export async function summaryPage(steps: readonly StepSummary[], heading: string): Promise<string> {
  const require = createRequire(import.meta.url);
  const mermaidJs = await readFile(require.resolve('mermaid/dist/mermaid.min.js'), 'utf8');
  const sections = steps
    .map(
      (step, i) =>
        `<section class="step" id="step-${i + 1}"><h2 class="step-title">${escapeText(step.title)}</h2>` +
        `<div class="markdown-body">${
          step.markdown.trim()
            ? renderSummary(step.markdown)
            : '<p class="empty">This step wrote no job summary.</p>'
        }</div></section>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeText(heading)}</title><style>${STYLE}</style></head>
<body data-mermaid="pending">
<main>
<header><h1>${escapeText(heading)}</h1><p>Each step's job summary, as GitHub renders it on the run's summary page.</p></header>
${sections}
</main>
<script>${mermaidJs.replace(/<\/script/gi, '<\\/script')}</script>
<script>
mermaid.initialize({ startOnLoad: false });
mermaid.run({ querySelector: 'pre.mermaid' }).then(
  () => { document.body.dataset.mermaid = 'rendered'; },
  (error) => { document.body.dataset.mermaid = 'failed: ' + error; },
);
</script>
</body>
</html>
`;
}

/** Writes the page to `file` (its folder created) and returns the file's absolute path. */
export async function writeSummaryPage(
  file: string,
  steps: readonly StepSummary[],
  heading: string,
): Promise<string> {
  const absolute = path.resolve(file);
  await mkdir(path.dirname(absolute), { recursive: true });
  await writeFile(absolute, await summaryPage(steps, heading));
  return absolute;
}
