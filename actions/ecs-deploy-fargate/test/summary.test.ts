import type { Deployment } from '@aws-sdk/client-ecs';
import {
  MAX_SAMPLES,
  newTimeline,
  recordSample,
  type FollowRecord,
  type RolloutTimeline,
} from '../src/follow.js';
import { MAX_COLUMNS, rolloutChart } from '../src/rollout-chart.js';
import type { ServiceResult } from '../src/stages.js';
import { buildSummary, emptyReport } from '../src/summary.js';
import { OLD, OURS, ROLLBACK, TD6, TD7, deployment, service } from './fixtures.js';

// ---- building timelines as the follow loop records them

const ours = (o: Partial<Deployment> = {}) => deployment({ id: OURS, taskDefinition: TD7, ...o });
const old = (o: Partial<Deployment> = {}) =>
  deployment({
    id: OLD,
    status: 'ACTIVE',
    taskDefinition: TD6,
    runningCount: 2,
    rolloutState: 'COMPLETED',
    ...o,
  });
const back = (o: Partial<Deployment> = {}) => deployment({ id: ROLLBACK, taskDefinition: TD6, ...o });

/** Samples recorded at the given times (ms since the first follow began), and the follows. */
function timeline(checks: [number, Deployment[]][], follows: FollowRecord[]): RolloutTimeline {
  const t = newTimeline();
  t.originMs = 0;
  for (const [at, deployments] of checks) recordSample(t, at, service(deployments));
  t.follows = follows;
  return t;
}

const follow = (
  deploymentId: string,
  startedAtMs: number,
  endedAtMs: number,
  status: FollowRecord['status'],
) => ({
  deploymentId,
  startedAtMs,
  endedAtMs,
  status,
});

/** The plots of a chart's source: label -> values, and the x-axis labels. */
function plots(source: string): {
  x: string[];
  y: string;
  series: Map<string, { kind: string; values: number[] }>;
} {
  const x = JSON.parse(/^ {2}x-axis "[^"]*" (\[.*\])$/m.exec(source)?.[1] ?? '[]') as string[];
  const y = /^ {2}y-axis (.*)$/m.exec(source)?.[1] ?? '';
  const series = new Map<string, { kind: string; values: number[] }>();
  for (const m of source.matchAll(/^ {2}(line|bar) "([^"]*)" \[(.*)\]$/gm)) {
    series.set(m[2]!, { kind: m[1]!, values: m[3]!.split(', ').map(Number) });
  }
  return { x, y, series };
}

// A new revision to a service of 2 tasks, checked every 5 s, in four shapes.
const completed = timeline(
  [
    [0, [ours({ pendingCount: 2 }), old()]],
    [5000, [ours({ pendingCount: 1, runningCount: 1 }), old()]],
    [10_000, [ours({ runningCount: 2 }), old({ runningCount: 1, desiredCount: 0 })]],
    [15_000, [ours({ runningCount: 2, rolloutState: 'COMPLETED' })]],
  ],
  [follow(OURS, 0, 15_050, 'completed')],
);

// The circuit breaker fails ours and starts its rollback, first seen at 20 s; the step then
// follows that rollback to COMPLETED.
const breakerRollback = timeline(
  [
    [0, [ours({ pendingCount: 2 }), old()]],
    [5000, [ours({ pendingCount: 2, failedTasks: 1 }), old()]],
    [10_000, [ours({ pendingCount: 1, failedTasks: 2 }), old()]],
    [
      20_000,
      [back({ pendingCount: 2 }), ours({ status: 'ACTIVE', rolloutState: 'FAILED', failedTasks: 3 }), old()],
    ],
    [25_000, [back({ runningCount: 2 }), old({ runningCount: 0, desiredCount: 0 })]],
    [30_000, [back({ runningCount: 2, rolloutState: 'COMPLETED' })]],
  ],
  [follow(OURS, 0, 20_020, 'rolled-back'), follow(ROLLBACK, 20_030, 30_050, 'completed')],
);

// max-failed-tasks decides at 15 s; the step's own rollback (UpdateService) is followed from 16 s
// until its deadline.
const ownRollback = timeline(
  [
    [0, [ours({ pendingCount: 2 }), old()]],
    [5000, [ours({ pendingCount: 2, failedTasks: 1 }), old()]],
    [15_000, [ours({ pendingCount: 1, failedTasks: 3 }), old()]],
    [16_000, [back({ pendingCount: 2 }), ours({ status: 'ACTIVE', desiredCount: 0, failedTasks: 3 }), old()]],
    [26_000, [back({ runningCount: 2 }), old()]],
  ],
  [follow(OURS, 0, 15_010, 'failed'), follow(ROLLBACK, 16_000, 26_050, 'timed-out')],
);

const timedOut = timeline(
  [
    [0, [ours({ pendingCount: 2 }), old()]],
    [600_000, [ours({ pendingCount: 2 }), old()]],
    [899_900, [ours({ pendingCount: 2 }), old()]],
  ],
  [follow(OURS, 0, 900_000, 'timed-out')],
);

interface Expected {
  /** Each line drawn: its value at some columns (by x-axis label). */
  lines: Record<string, Record<string, number>>;
  /** Each bar: the column (x-axis label) it stands at. */
  bars: Record<string, string>;
  marks: RegExp[];
}

describe('rolloutChart: the picture drawn from the recorded samples', () => {
  test.each<[string, RolloutTimeline, Expected]>([
    [
      'a rollout that completed: counts per deployment, no failure, no rollback',
      completed,
      {
        lines: {
          'web:7 rollout running': { '0': 0, '5': 1, '10': 2, '16': 2 },
          'web:7 rollout pending': { '0': 2, '5': 1, '10': 0 },
          'web:6 before running': { '0': 2, '10': 1, '15': 0 },
        },
        bars: {},
        marks: [/^✔ 15 s: deployment ecs-svc\/1+ \(web:7\) completed$/],
      },
    ],
    [
      "the circuit breaker's rollback: the failure and the rollback marked where they were seen",
      breakerRollback,
      {
        lines: {
          'web:7 rollout pending': { '0': 2, '10': 1, '20': 0 },
          'web:7 rollout failed': { '0': 0, '6': 1, '10': 2, '20': 3, '26': 0 },
          'web:6 before running': { '0': 2, '24': 2, '26': 0 },
          'web:6 rollback running': { '20': 0, '26': 2, '32': 2 },
          'web:6 rollback pending': { '18': 0, '20': 2, '26': 0 },
        },
        bars: { failure: '20', rollback: '20' },
        marks: [
          /^✖ 20 s: deployment ecs-svc\/1+ \(web:7\) failed; ECS rolled it back$/,
          /^↩ 20 s: rollback to web:6 \(deployment ecs-svc\/3+\): COMPLETED at 30 s$/,
        ],
      },
    ],
    [
      "max-failed-tasks, then the step's own rollback, followed until its deadline",
      ownRollback,
      {
        lines: {
          'web:7 rollout pending': { '0': 2, '14': 2, '16': 0 },
          'web:7 rollout failed': { '0': 0, '6': 1, '16': 3, '26': 0 },
          'web:6 before running': { '0': 2, '28': 2 },
          'web:6 rollback pending': { '14': 0, '16': 2, '26': 0 },
          'web:6 rollback running': { '16': 0, '26': 2 },
        },
        bars: { failure: '16', rollback: '16' },
        marks: [
          /^✖ 15 s: deployment ecs-svc\/1+ \(web:7\) failed$/,
          /^↩ 16 s: rollback to web:6 \(deployment ecs-svc\/3+\): did not finish in time \(26 s\)$/,
        ],
      },
    ],
    [
      'a rollout that timed out after 15 minutes: minutes on the axis, the failure at the end',
      timedOut,
      {
        lines: {
          'web:7 rollout pending': { '0:00': 2, '15:00': 2 },
          'web:6 before running': { '0:00': 2, '15:00': 2 },
        },
        bars: { failure: '15:00' },
        marks: [/^✖ 15:00 min: deployment ecs-svc\/1+ \(web:7\) did not finish in time$/],
      },
    ],
  ])('%s', (_, recorded, expected) => {
    const chart = rolloutChart('web', recorded)!;
    const { x, series } = plots(chart.source);
    expect(chart.source.split('\n').slice(0, 3)).toEqual([
      expect.stringMatching(/^%%\{init: \{.*"showLegend":true.*\}\}%%$/),
      'xychart-beta',
      expect.stringMatching(/^ {2}%% /),
    ]);
    expect(chart.source).toMatch(/^ {2}title "web: tasks per deployment"$/m);
    expect(x.length).toBeLessThanOrEqual(MAX_COLUMNS);
    const lines = [...series.entries()].filter(([, s]) => s.kind === 'line');
    const bars = [...series.entries()].filter(([, s]) => s.kind === 'bar');
    // Exactly these lines: a count that stays at 0 throughout is left out.
    expect(lines.map(([label]) => label).sort()).toEqual(Object.keys(expected.lines).sort());
    for (const [label, at] of Object.entries(expected.lines)) {
      const values = series.get(label)!.values;
      expect(values).toHaveLength(x.length);
      const seen = Object.fromEntries(Object.keys(at).map((column) => [column, values[x.indexOf(column)]]));
      expect([label, seen]).toEqual([label, at]);
    }
    // One bar per mark above the axis, at its column; the others below the axis (not drawn).
    expect(
      Object.fromEntries(bars.map(([label, s]) => [label, x[s.values.findIndex((v) => v > 0)]])),
    ).toEqual(expected.bars);
    for (const [, bar] of bars) expect(bar.values.filter((v) => v > 0)).toHaveLength(1);
    expect(chart.marks).toEqual(expected.marks.map((m) => expect.stringMatching(m)));
    // The legend names every line then every bar, each with its colour, in the palette's order
    // (bars come first in the source, so the lines are drawn over them).
    expect(chart.legend.map((l) => l.replace(/^\S+ /, ''))).toEqual([
      ...lines.map(([label]) => label),
      ...bars.map(([label]) => label),
    ]);
    const palette = /"plotColorPalette":"([^"]*)"/.exec(chart.source)?.[1]?.split(', ') ?? [];
    expect(palette).toHaveLength(series.size);
  });

  test('the x axis: columns a round width apart, covering the whole timeline, in seconds under two minutes', () => {
    expect(plots(rolloutChart('web', completed)!.source).x).toEqual(
      Array.from({ length: 17 }, (_, i) => String(i)),
    );
    expect(plots(rolloutChart('web', breakerRollback)!.source).x).toEqual(
      Array.from({ length: 17 }, (_, i) => String(i * 2)),
    );
    expect(plots(rolloutChart('web', timedOut)!.source).x).toEqual(
      Array.from({ length: 16 }, (_, i) => `${i}:00`),
    );
    // A sped-up rollout (the demo's): tenths of a second.
    const fast = timeline(
      [
        [10, [ours({ pendingCount: 1 })]],
        [1200, [ours({ runningCount: 1, rolloutState: 'COMPLETED' })]],
      ],
      [follow(OURS, 0, 1210, 'completed')],
    );
    expect(plots(rolloutChart('web', fast)!.source).x).toEqual(
      Array.from({ length: 14 }, (_, i) => (i / 10).toFixed(1)),
    );
  });

  test('the y axis holds every count and the desired count, with room above', () => {
    expect(plots(rolloutChart('web', completed)!.source).y).toBe('"tasks" 0 --> 3');
  });

  test('nothing to draw from fewer than two checks', () => {
    expect(rolloutChart('web', newTimeline())).toBeUndefined();
    expect(
      rolloutChart('web', timeline([[100, [ours()]]], [follow(OURS, 0, 150, 'failed')])),
    ).toBeUndefined();
  });

  test('outside text cannot break out of the Mermaid strings', () => {
    const chart = rolloutChart('we"b`]\n  line "x', completed)!;
    expect(chart.source).toMatch(/^ {2}title "web {2}line x: tasks per deployment"$/m);
    expect(chart.source).not.toMatch(/`/);
  });

  test('deployments alike get the end of their id; at most six lines, the rest counted in the legend', () => {
    const many = (n: number) =>
      Array.from({ length: n }, (_, i) =>
        deployment({
          id: `ecs-svc/${i}00000000000000000${i}`,
          status: 'ACTIVE',
          taskDefinition: TD6,
          runningCount: 1,
          pendingCount: 1,
        }),
      );
    const chart = rolloutChart(
      'web',
      timeline(
        [
          [0, many(4)],
          [5000, many(4)],
        ],
        [],
      ),
    )!;
    const lines = [...plots(chart.source).series.keys()];
    expect(lines).toEqual([
      'web:6 before 0000 running',
      'web:6 before 0000 pending',
      'web:6 before 0001 running',
      'web:6 before 0001 pending',
      'web:6 before 0002 running',
      'web:6 before 0002 pending',
    ]);
    expect(chart.legend.at(-1)).toBe('2 more lines not drawn');
  });
});

describe('recordSample: the samples kept, bounded', () => {
  test('keeps what the picture needs of each deployment', () => {
    const t = newTimeline();
    recordSample(t, 1000, service([ours({ pendingCount: 1, runningCount: 1, failedTasks: 2 })]));
    recordSample(t, 1500, service([ours({ runningCount: 2 })]));
    expect(t.originMs).toBe(1000);
    expect(t.samples).toEqual([
      {
        atMs: 0,
        deployments: [
          { id: OURS, status: 'PRIMARY', revision: 'web:7', desired: 2, running: 1, pending: 1, failed: 2 },
        ],
      },
      {
        atMs: 500,
        deployments: [
          { id: OURS, status: 'PRIMARY', revision: 'web:7', desired: 2, running: 2, pending: 0, failed: 0 },
        ],
      },
    ]);
  });

  test('a stretch where nothing changed keeps its first and last sample', () => {
    const t = newTimeline();
    t.originMs = 0;
    for (const at of [0, 5, 10, 15, 20]) recordSample(t, at, service([ours({ pendingCount: 2 })]));
    recordSample(t, 25, service([ours({ runningCount: 2 })]));
    expect(t.samples.map((s) => s.atMs)).toEqual([0, 20, 25]);
  });

  test(`never more than ${MAX_SAMPLES} samples, the first and the latest always kept`, () => {
    const t = newTimeline();
    t.originMs = 0;
    for (let i = 0; i < 5000; i++) recordSample(t, i * 100, service([ours({ runningCount: i % 3 })]));
    expect(t.samples.length).toBeLessThanOrEqual(MAX_SAMPLES);
    expect(t.samples[0]?.atMs).toBe(0);
    expect(t.samples.at(-1)?.atMs).toBe(499_900);
    expect(t.thinned).toBe(5000 - t.samples.length);
    expect(t.samples.map((s) => s.atMs)).toEqual([...t.samples.map((s) => s.atMs)].sort((a, b) => a - b));
  });
});

describe('buildSummary draws each followed service', () => {
  const result = (timeline: RolloutTimeline | undefined): ServiceResult => ({
    service: 'web',
    serviceArn: `arn:aws:ecs:eu-west-1:123456789012:service/prod/web`,
    deploymentId: OURS,
    rolloutState: 'ROLLED_BACK',
    rollbackState: 'COMPLETED',
    rolledBack: true,
    message: 'Deployment failed',
    events: [],
    ...(timeline ? { timeline } : {}),
  });

  test('a heading, the Mermaid fence after a blank line, the legend and the marks in words', () => {
    const html = buildSummary({
      ...emptyReport(),
      family: 'web',
      services: [result(breakerRollback)],
    }).toString();
    expect(html).toContain('<h3>web: the rollout over time</h3>\n\n```mermaid\n%%{init:');
    expect(html).toMatch(/\nxychart-beta\n[\s\S]*\n```\n\n<p>🟦 web:7 rollout pending · /);
    expect(html).toContain(
      '<li>✖ 20 s: deployment ecs-svc/1111111111111111111 (web:7) failed; ECS rolled it back</li>',
    );
    expect(html).toContain(
      '<li>↩ 20 s: rollback to web:6 (deployment ecs-svc/3333333333333333333): COMPLETED at 30 s</li>',
    );
  });

  test('no picture without a recorded timeline (nothing followed: unchanged, dry run, input errors)', () => {
    const html = buildSummary({ ...emptyReport(), family: 'web', services: [result(undefined)] }).toString();
    expect(html).not.toContain('mermaid');
    expect(html).not.toContain('the rollout over time');
  });
});
