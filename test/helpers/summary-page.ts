// Headless Chromium (Debian's `chromium`, installed by .ci/run) renders a job-summary page as a
// person's browser would, scripts and all, and hands back the DOM once Mermaid has drawn: what the
// tests look for the pictures in. Flags as this machine needs them: no sandbox (root), no GPU, no
// background networking (the network is closed), a fresh profile each time. The page is served
// from loopback rather than opened as a file: a confined Chromium (Ubuntu's snap, on GitHub's
// runners) has a /tmp of its own and cannot read ours.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { findElements, parseHtml, type HtmlElement, type HtmlNode } from '../../scripts/summary-page.js';

export const CHROMIUM = '/usr/bin/chromium';

/** The page's DOM after its scripts ran (virtual time lets Mermaid finish before the dump). */
export async function renderedDom(file: string, timeoutMs = 60_000): Promise<HtmlNode[]> {
  const body = await readFile(file);
  const server = createServer((_, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/${path.basename(file)}`;
  const profile = await mkdtemp(path.join(os.tmpdir(), 'chromium-profile-'));
  try {
    const html = await new Promise<string>((resolve, reject) => {
      const child = spawn(
        CHROMIUM,
        [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          `--user-data-dir=${profile}`,
          '--virtual-time-budget=20000',
          '--dump-dom',
          url,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`chromium did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        if (code === 0 && stdout) resolve(stdout);
        else reject(new Error(`chromium exited ${code}: ${stderr.split('\n').slice(-5).join('\n')}`));
      });
    });
    return parseHtml(html);
  } finally {
    server.close();
    await rm(profile, { recursive: true, force: true });
  }
}

/** What one drawn xychart holds: its title, lines (points per line), bars standing above the axis, legend. */
export interface DrawnChart {
  title: string;
  /** Per line plot, the number of points its path goes through. */
  linePoints: number[];
  /** Per bar plot, how many of its bars are drawn (a positive height). */
  barsDrawn: number[];
  /** The plots' colours, lines then bars, as drawn. */
  colours: string[];
  legend: string[];
}

/** Every Mermaid xychart drawn in the DOM, as <svg aria-roledescription="xychart">. */
export function drawnCharts(dom: HtmlNode[]): DrawnChart[] {
  return findElements(dom, (e) => e.tag === 'svg' && e.attrs['aria-roledescription'] === 'xychart').map(
    (svg) => {
      const plots = (kind: 'line' | 'bar') =>
        findElements(
          [svg],
          (e) => e.tag === 'g' && new RegExp(`^${kind}-plot-\\d+$`).test(e.attrs.class ?? ''),
        );
      const lines = plots('line');
      const bars = plots('bar');
      const texts = (e: HtmlElement | undefined) =>
        e ? findElements([e], (t) => t.tag === 'text').map(textOf) : [];
      const titleGroup = findElements([svg], (e) => e.tag === 'g' && e.attrs.class === 'chart-title')[0];
      const legendGroup = findElements([svg], (e) => e.tag === 'g' && e.attrs.class === 'legend')[0];
      return {
        title: texts(titleGroup).join(' '),
        linePoints: lines.map(
          (g) =>
            (findElements([g], (e) => e.tag === 'path')[0]?.attrs.d ?? '').split(/[ML]/).filter(Boolean)
              .length,
        ),
        barsDrawn: bars.map(
          (g) => findElements([g], (e) => e.tag === 'rect' && Number(e.attrs.height) > 0).length,
        ),
        colours: [
          ...lines.map((g) => findElements([g], (e) => e.tag === 'path')[0]?.attrs.stroke ?? ''),
          ...bars.map((g) => findElements([g], (e) => e.tag === 'rect')[0]?.attrs.fill ?? ''),
        ],
        legend: texts(legendGroup),
      };
    },
  );
}

function textOf(e: HtmlElement): string {
  return e.children.map((c) => (c.type === 'text' ? c.text : textOf(c))).join('');
}
