// `npm run demo` end to end: scripts/demo.ts as a person runs it (tsx, local-aws in its process,
// the bundled actions through the runner protocol). It must succeed, print each step's outputs and
// summary (as plain text), show the rollout and the rollback, write every summary to one page whose
// path it prints (drawn by headless Chromium here), and stay well under its one-minute goal.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { jest } from '@jest/globals';
import path from 'node:path';
import { findElements, parseHtml, textContent, type HtmlElement } from '../scripts/summary-page.js';
import { repoRoot } from './helpers/action-runner.js';
import { CHROMIUM, drawnCharts, renderedDom } from './helpers/summary-page.js';
import { requireTool } from './helpers/tools.js';

jest.setTimeout(90_000);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function runDemo(): Promise<Run> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts', 'demo.ts')], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? repoRoot, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 80_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    }),
  );
}

let run: Run;
/** The page the demo printed the path of. */
let page: string | undefined;

beforeAll(async () => {
  run = await runDemo();
  page = /^Job summaries, as GitHub renders them.*\n {3}(\/\S+\.html)$/m.exec(run.stdout)?.[1];
});

afterAll(async () => {
  if (page) await rm(path.dirname(page), { recursive: true, force: true });
});

test('exits 0, says everything behaved as expected, within its one-minute goal', () => {
  if (run.code !== 0) console.log(run.stdout, run.stderr);
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/demo: everything behaved as expected, in [\d.]+ s/);
  expect(run.stdout).not.toMatch(/✖ expected/);
  expect(run.ms).toBeLessThan(60_000);
});

test('prints a heading, the outputs and the job summary of each step', () => {
  const headings = run.stdout.match(/^━━ \d\/4 .*$/gm) ?? [];
  expect(headings).toHaveLength(4);
  expect(run.stdout.match(/^ {2}outputs$/gm)).toHaveLength(3);
  expect(run.stdout.match(/^ {2}job summary$/gm)).toHaveLength(3);
  expect(run.stdout).toMatch(/^ {4}image-uri = 127\.0\.0\.1:\d+\/demo\/web@sha256:[0-9a-f]{64}$/m);
  expect(run.stdout).toMatch(/^ {4}rollout-state = COMPLETED$/m);
  // The broken deploy runs with default inputs: the breaker or max-failed-tasks decides first.
  expect(run.stdout).toMatch(/^ {4}rollout-state = (?:ROLLED_BACK|FAILED)$/m);
  expect(run.stdout).toMatch(/^ {4}rollback-state = COMPLETED$/m);
  expect(run.stdout).toMatch(/^ {4}rolled-back = true$/m);
  expect(run.stdout).toMatch(/│ .*ecs-deploy-fargate: demo-web/);
});

test('streams the rollout, the fast failure with its reason and the rollback; no workflow-command noise', () => {
  expect(run.stdout).toMatch(/▸ Deploy web/);
  expect(run.stdout).toMatch(/\(service web\) \(deployment ecs-svc\/\d+\) deployment completed\./);
  expect(run.stdout).toMatch(
    /✖ error: Deployment ecs-svc\/\d+(?: failed|: \d+ tasks? failed| was rolled back)/,
  );
  expect(run.stdout).toMatch(/CannotPullContainerError/);
  // The error comes first, then the rollback (ECS's or the step's) is followed to its end.
  const error = run.stdout.search(/✖ error: /);
  const rolledBack = run.stdout.search(
    /Rolled back to \S+demo-web:1 by (?:ECS|this step) \(deployment ecs-svc\/\d+\): COMPLETED/,
  );
  expect(error).toBeGreaterThan(0);
  expect(rolledBack).toBeGreaterThan(error);
  expect(run.stdout).toMatch(/✔ expected: the service runs demo-web:1 again/);
  expect(run.stdout).not.toMatch(/^\s*(?:[\d.]+s\s+)?::/m);
});

test('the terminal shows each job summary as plain text: headings, aligned tables, details collapsed, no tags', () => {
  const summaries = run.stdout.match(/^ {2}job summary\n((?: {4}│.*\n)+)/gm) ?? [];
  expect(summaries).toHaveLength(3);
  for (const summary of summaries) expect(summary).not.toMatch(/<\/?[a-z][a-z0-9]*[\s>/]/);
  expect(run.stdout).toMatch(/^ {4}│ ecs-deploy-fargate: demo-web\n {4}│ ─{28}$/m);
  expect(run.stdout).toMatch(/^ {4}│ Service +Deployment +Rollout +Rollback +Rolled back$/m);
  expect(run.stdout).toMatch(/^ {4}│ ▸ Task definition changes from demo-web:1 \(1\)$/m);
  expect(run.stdout).toMatch(/^ {4}│ ▸ chart: web: tasks per deployment \(drawn on the page\)$/m);
  expect(run.stdout).toMatch(/^ {4}│ • ✖ [\d.]+ s: deployment ecs-svc\/\d+ \(demo-web:2\) failed/m);
  expect(run.stdout).toMatch(
    /^ {4}│ • ↩ [\d.]+ s: rollback to demo-web:1 \(deployment ecs-svc\/\d+\): COMPLETED at [\d.]+ s$/m,
  );
});

test("prints the page's path; the page holds each step's summary in turn, each deploy's rollout as Mermaid", async () => {
  expect(page).toBeDefined();
  expect(existsSync(page!)).toBe(true);
  const dom = parseHtml(await readFile(page!, 'utf8'));
  const steps = findElements(dom, (e) => e.tag === 'section' && e.attrs.class === 'step');
  const title = (step: HtmlElement) =>
    textContent(findElements([step], (e) => e.attrs.class === 'step-title')[0]?.children ?? []);
  // The three steps that ran an action, titled as the terminal's headings.
  const headings = (run.stdout.match(/^━━ [123]\/4 .*$/gm) ?? []).map((h) => h.slice(3));
  expect(steps.map(title)).toEqual(headings);
  const heading = (step: HtmlElement) =>
    textContent(findElements([step], (e) => e.tag === 'h2')[1]?.children ?? []);
  expect(steps.map(heading)).toEqual([
    expect.stringMatching(/^ecr-push: 127\.0\.0\.1:\d+\/demo\/web$/),
    'ecs-deploy-fargate: demo-web',
    'ecs-deploy-fargate: demo-web',
  ]);
  const charts = steps.map((step) =>
    findElements([step], (e) => e.tag === 'pre' && e.attrs.class === 'mermaid').map((e) =>
      textContent(e.children),
    ),
  );
  expect(charts[0]).toEqual([]);
  expect(charts[1]).toEqual([expect.stringMatching(/^xychart-beta$/m)]);
  expect(charts[1]?.[0]).not.toMatch(/^ {2}bar /m);
  expect(charts[2]).toEqual([expect.stringMatching(/^ {2}bar "failure" .*\n {2}bar "rollback" /m)]);
});

requireTool('chromium', CHROMIUM)(
  "the page in headless Chromium: both rollouts drawn, the failed one's failure and rollback marked",
  async () => {
    const dom = await renderedDom(page!);
    expect(findElements(dom, (e) => e.tag === 'body')[0]?.attrs['data-mermaid']).toBe('rendered');
    const [good, bad] = drawnCharts(dom);
    expect(drawnCharts(dom)).toHaveLength(2);
    expect(good?.title).toBe('web: tasks per deployment');
    expect(good?.barsDrawn).toEqual([]);
    expect(good?.linePoints.length).toBeGreaterThan(0);
    expect(bad?.barsDrawn).toEqual([1, 1]);
    expect(bad?.legend).toEqual(
      expect.arrayContaining([
        'demo-web:2 rollout failed',
        'demo-web:1 rollback running',
        'failure',
        'rollback',
      ]),
    );
  },
  60_000,
);
