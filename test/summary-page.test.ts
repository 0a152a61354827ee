// The job-summary page and its plain-text twin (scripts/summary-page.ts): the text a terminal
// shows, the HTML GitHub would show (its sanitizer, Mermaid fences), and the page drawn by headless
// Chromium with the rollout picture found in its DOM.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Deployment, Service } from '@aws-sdk/client-ecs';
import { JobSummary } from '@aws-containers/core';
import { newTimeline, recordSample, type RolloutTimeline } from '../actions/ecs-deploy-fargate/src/follow.js';
import { rolloutChart } from '../actions/ecs-deploy-fargate/src/rollout-chart.js';
import { buildSummary, emptyReport } from '../actions/ecs-deploy-fargate/src/summary.js';
import {
  findElements,
  parseHtml,
  renderSummary,
  summaryText,
  textContent,
  writeSummaryPage,
} from '../scripts/summary-page.js';
import { CHROMIUM, drawnCharts, renderedDom } from './helpers/summary-page.js';
import { requireTool } from './helpers/tools.js';

describe('summaryText: a job summary as plain text for the terminal', () => {
  test.each<[string, string, string]>([
    [
      'a heading is underlined',
      '<h2>ecs-deploy-fargate: web</h2>\n',
      'ecs-deploy-fargate: web\n───────────────────────',
    ],
    [
      'a smaller heading too, more lightly',
      '<h3>web: the rollout</h3>\n',
      'web: the rollout\n┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄',
    ],
    [
      'a facts table (labels as row headers): two aligned columns, no rule',
      '<table><tr><th>Image</th><td>web@sha256:abc</td></tr><tr><th>Tags</th><td>v1, latest</td></tr></table>\n',
      'Image  web@sha256:abc\nTags   v1, latest',
    ],
    [
      'a table with a header row: aligned columns, the header ruled off, empty cells kept',
      '<table><tr><th>Service</th><th>Rollout</th><th>Note</th></tr><tr><td>web</td><td>COMPLETED</td><td></td></tr><tr><td>api-gateway</td><td>FAILED</td><td>x</td></tr></table>\n',
      'Service      Rollout    Note\n───────────  ─────────  ────\nweb          COMPLETED\napi-gateway  FAILED     x',
    ],
    [
      'details collapsed to their title: the content is not shown',
      '<details><summary>Task definition changes (2)</summary><pre><code>+ image: web:2\n- image: web:1</code></pre></details>\n',
      '▸ Task definition changes (2)',
    ],
    [
      'entities decoded, tags gone',
      '<p>a &lt;b&gt; &amp; &quot;c&quot; &#39;d&#39; <strong>bold</strong></p>\n',
      'a <b> & "c" \'d\' bold',
    ],
    ['a list', '<ul><li>one</li><li>two <em>2</em></li></ul>\n', '• one\n• two 2'],
    ['a numbered list', '<ol><li>one</li><li>two</li></ol>\n', '1. one\n2. two'],
    ['a code block, indented', '<pre><code>line 1\n  line 2\n</code></pre>\n', '    line 1\n      line 2'],
    [
      'a link keeps its address',
      '<p><a href="https://example.com/run">the run</a></p>\n',
      'the run (https://example.com/run)',
    ],
    [
      'Markdown as a step writes it: heading, GFM table, emphasis',
      '## Deploy\n\n| Service | State |\n|---|---|\n| web | **COMPLETED** |\n',
      'Deploy\n──────\n\nService  State\n───────  ─────────\nweb      COMPLETED',
    ],
    [
      'a Mermaid chart: its title, and where to see it',
      '<h3>web</h3>\n\n```mermaid\nxychart-beta\n  title "web: tasks per deployment"\n  line [1, 2]\n```\n',
      'web\n┄┄┄\n\n▸ chart: web: tasks per deployment (drawn on the page)',
    ],
    [
      'a script is dropped with its content',
      '<p>before</p><script>alert(1)</script><p>after</p>\n',
      'before\n\nafter',
    ],
    [
      'blocks are separated by one blank line',
      '<h2>A</h2>\n<p>one</p>\n<p>two</p>\n',
      'A\n───\n\none\n\ntwo',
    ],
  ])('%s', (_, markdown, text) => {
    expect(summaryText(markdown)).toBe(text);
  });

  test('a whole deploy summary, as buildSummary writes it, has no tag left', () => {
    const text = summaryText(buildSummary(failedDeploy()).toString());
    expect(text).not.toMatch(/<\/?[a-z][^>]*>/i);
    expect(text).toMatch(/^ecs-deploy-fargate: web\n─+$/m);
    expect(text).toMatch(/^Service +Deployment +Rollout +Rollback +Rolled back$/m);
    expect(text).toContain('▸ chart: web: tasks per deployment (drawn on the page)');
    expect(text).toMatch(/^• ✖ \d+ s: deployment ecs-svc\/1+ \(web:7\) failed; ECS rolled it back$/m);
    expect(text).not.toMatch(/xychart|```/);
  });
});

describe('renderSummary: the HTML GitHub shows for a summary file', () => {
  test('a Mermaid fence after HTML (JobSummary.mermaid) is a diagram; without the blank line it would be text', () => {
    const summary = new JobSummary()
      .heading('web', 3)
      .mermaid('xychart-beta\n  title "a <b> & c"')
      .paragraph('after');
    const tree = parseHtml(renderSummary(summary.toString()));
    const diagrams = findElements(tree, (e) => e.tag === 'pre' && e.attrs.class === 'mermaid');
    expect(diagrams.map((d) => textContent(d.children))).toEqual(['xychart-beta\n  title "a <b> & c"\n']);
    expect(findElements(tree, (e) => e.tag === 'p').map((p) => textContent(p.children))).toEqual(['after']);
    const glued = parseHtml(renderSummary('<h3>web</h3>\n```mermaid\nxychart-beta\n```\n'));
    expect(findElements(glued, (e) => e.tag === 'pre')).toHaveLength(0);
  });

  test("GitHub's sanitizer: no inline <svg>, <style>, scripts, event handlers, classes or javascript: links", () => {
    const html = renderSummary(
      '<p class="x" style="color:red" onclick="alert(1)">text</p>\n' +
        '<svg width="100" height="100"><circle cx="50" cy="50" r="40"></circle></svg>\n' +
        '<style>p { color: red }</style><script>alert(2)</script>\n' +
        '<p><a href="javascript:alert(3)">bad</a> <a href="https://github.com/acme/app">good</a></p>\n' +
        '<details open><summary>more</summary><table><tr><td colspan="2">cell</td></tr></table></details>\n',
    );
    expect(html).toBe(
      '<p>text</p>\n\n\n<p><a>bad</a> <a href="https://github.com/acme/app">good</a></p>\n' +
        '<details open=""><summary>more</summary><table><tr><td colspan="2">cell</td></tr></table></details>\n',
    );
  });
});

// ---- the page in a browser

const withChromium = requireTool('chromium', CHROMIUM);

const TD = (revision: number) => `arn:aws:ecs:eu-west-1:123456789012:task-definition/web:${revision}`;
const OURS = 'ecs-svc/1111111111111111111';
const OLD = 'ecs-svc/2222222222222222222';
const ROLLBACK = 'ecs-svc/3333333333333333333';

function deployment(id: string, revision: number, counts: Partial<Deployment>): Deployment {
  return {
    id,
    status: 'PRIMARY',
    taskDefinition: TD(revision),
    desiredCount: 2,
    runningCount: 0,
    pendingCount: 0,
    failedTasks: 0,
    ...counts,
  };
}

/** What the follow loop records for a rollout the circuit breaker rolls back, checked every 5 s. */
function breakerTimeline(): RolloutTimeline {
  const timeline = newTimeline();
  timeline.originMs = 0;
  const old = deployment(OLD, 6, { status: 'ACTIVE', runningCount: 2 });
  const checks: [number, Deployment[]][] = [
    [0, [deployment(OURS, 7, { pendingCount: 2 }), old]],
    [5000, [deployment(OURS, 7, { pendingCount: 2, failedTasks: 1 }), old]],
    [10_000, [deployment(OURS, 7, { pendingCount: 1, failedTasks: 2 }), old]],
    [
      15_000,
      [
        deployment(ROLLBACK, 6, { pendingCount: 2 }),
        deployment(OURS, 7, { status: 'ACTIVE', failedTasks: 3 }),
        old,
      ],
    ],
    [20_000, [deployment(ROLLBACK, 6, { runningCount: 2 }), { ...old, runningCount: 0, desiredCount: 0 }]],
    [25_000, [deployment(ROLLBACK, 6, { runningCount: 2 })]],
  ];
  for (const [at, deployments] of checks) recordSample(timeline, at, { deployments } as Service);
  timeline.follows = [
    { deploymentId: OURS, startedAtMs: 0, endedAtMs: 15_010, status: 'rolled-back' },
    { deploymentId: ROLLBACK, startedAtMs: 15_020, endedAtMs: 25_010, status: 'completed' },
  ];
  return timeline;
}

function failedDeploy() {
  return {
    ...emptyReport(),
    family: 'web',
    taskDefinitionArn: TD(7),
    registered: true,
    services: [
      {
        service: 'web',
        serviceArn: 'arn:aws:ecs:eu-west-1:123456789012:service/prod/web',
        deploymentId: OURS,
        rolloutState: 'ROLLED_BACK' as const,
        rollbackState: 'COMPLETED' as const,
        rolledBack: true,
        message: `Deployment ${OURS} failed`,
        events: [],
        timeline: breakerTimeline(),
      },
    ],
  };
}

describe('the page, drawn by headless Chromium', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'summary-page-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  withChromium(
    'each step in turn; the rollout drawn as an xychart with its lines and both marks; inline SVG not drawn',
    async () => {
      const deploy = buildSummary(failedDeploy()).toString();
      const chart = rolloutChart('web', breakerTimeline())!;
      const file = await writeSummaryPage(
        path.join(dir, 'page.html'),
        [
          {
            title: '1/3 push',
            markdown: new JobSummary()
              .heading('ecr-push: web')
              .facts([['Tags', 'v1']])
              .toString(),
          },
          { title: '2/3 deploy', markdown: deploy },
          {
            title: '3/3 a step that tries inline SVG',
            markdown: '<p>svg:</p>\n<svg><circle r="40"></circle></svg>\n',
          },
        ],
        'a test page',
      );
      const dom = await renderedDom(file);
      const body = findElements(dom, (e) => e.tag === 'body')[0];
      expect(body?.attrs['data-mermaid']).toBe('rendered');
      expect(
        findElements(dom, (e) => e.attrs.class === 'step-title').map((e) => textContent(e.children)),
      ).toEqual(['1/3 push', '2/3 deploy', '3/3 a step that tries inline SVG']);

      const charts = drawnCharts(dom);
      expect(charts).toHaveLength(1);
      const [drawn] = charts;
      expect(drawn?.title).toBe('web: tasks per deployment');
      // One path per line, through every column of the chart's x axis.
      const columns = JSON.parse(/x-axis "[^"]*" (\[.*\])/.exec(chart.source)![1]!) as string[];
      const lineCount = chart.legend.filter((l) => !/failure|rollback$/.test(l)).length;
      expect(drawn?.linePoints).toEqual(Array(lineCount).fill(columns.length));
      // The failure and the rollback: one bar each above the axis.
      expect(drawn?.barsDrawn).toEqual([1, 1]);
      // Drawn in the colours the legend in words names (lines, then the failure and rollback bars).
      const palette = /"plotColorPalette":"([^"]*)"/.exec(chart.source)![1]!.split(', ');
      const bars = palette.slice(0, 2);
      expect(drawn?.colours).toEqual([...palette.slice(2), ...bars]);
      expect(drawn?.legend).toEqual(
        expect.arrayContaining([
          'web:7 rollout pending',
          'web:7 rollout failed',
          'web:6 rollback running',
          'failure',
          'rollback',
        ]),
      );
      // The marks in words beside it, and no circle from the inline SVG (GitHub strips it).
      const page = textContent(dom);
      expect(page).toContain(chart.marks[0]);
      expect(page).toContain(chart.marks[1]);
      expect(findElements(dom, (e) => e.tag === 'circle')).toHaveLength(0);
    },
    90_000,
  );
});
