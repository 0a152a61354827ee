// The rollout as a picture for the job summary: each deployment's running, pending and failed task
// counts over time, with the failure and the rollback marked. GitHub draws a ```mermaid fence in a
// job summary and strips inline <svg>, so this is Mermaid source (an xychart: lines for the counts,
// bars for the marks), plus the same facts in words for where no picture is drawn. Pure: a
// recorded timeline in, text out.
import type { RolloutSample, RolloutTimeline } from './follow.js';

export interface RolloutChart {
  /** Mermaid source: an `xychart-beta` with a small `%%{init}%%` header (size, colours, legend). */
  source: string;
  /** What each line and bar is, each with the square of the colour it is drawn in. */
  legend: string[];
  /** What happened when, in words: the failure, the rollback and how each follow ended. */
  marks: string[];
}

/** At most this many points per line: enough to see the shape, small enough to read as text. */
export const MAX_COLUMNS = 24;
/** Column widths to choose from, the smallest that fits the whole timeline in MAX_COLUMNS. */
const STEPS_MS = [
  100, 200, 250, 500, 1000, 2000, 5000, 10_000, 15_000, 20_000, 30_000, 60_000, 120_000, 300_000, 600_000,
  900_000, 1_800_000, 3_600_000, 7_200_000,
];
// Each colour with the emoji square of its hue, so the legend in words names the line it is.
const LINE_COLOURS: readonly (readonly [string, string])[] = [
  ['🟦', '#1f77b4'],
  ['🟩', '#2ca02c'],
  ['🟧', '#ff7f0e'],
  ['🟪', '#9467bd'],
  ['🟨', '#d4b106'],
  ['🟫', '#8c564b'],
];
const FAILURE_COLOUR = ['🟥', '#d62728'] as const;
const ROLLBACK_COLOUR = ['⬛', '#3c3c3c'] as const;

type Count = 'running' | 'pending' | 'failed';

interface Line {
  label: string;
  values: number[];
}

/**
 * The picture of one service's rollout, or undefined when fewer than two checks were recorded
 * (nothing to draw over time).
 */
export function rolloutChart(service: string, timeline: RolloutTimeline): RolloutChart | undefined {
  const { samples, follows } = timeline;
  if (samples.length < 2) return undefined;
  const endMs = Math.max(samples.at(-1)?.atMs ?? 0, ...follows.map((f) => f.endedAtMs ?? 0));
  const stepMs = STEPS_MS.find((s) => endMs / s <= MAX_COLUMNS - 1) ?? STEPS_MS.at(-1)!;
  const times = Array.from(
    { length: Math.min(MAX_COLUMNS, Math.ceil(endMs / stepMs) + 1) },
    (_, i) => i * stepMs,
  );
  const at = times.map((t) => sampleAt(samples, t));
  const column = (ms: number) => Math.min(times.length - 1, Math.round(ms / stepMs));

  const revisions = revisionsOf(samples);
  const names = deploymentNames(revisions, follows[0]?.deploymentId, follows[1]?.deploymentId);
  const lines: Line[] = [];
  for (const id of revisions.keys()) {
    for (const count of ['running', 'pending', 'failed'] as const) {
      const values = at.map((s) => countOf(s, id, count));
      if (values.some((v) => v > 0)) lines.push({ label: `${names.get(id)} ${count}`, values });
    }
  }
  if (lines.length === 0) {
    const id = [...revisions.keys()][0] ?? '?';
    lines.push({ label: `${names.get(id) ?? id} running`, values: at.map(() => 0) });
  }
  const drawn = lines.slice(0, LINE_COLOURS.length);
  const top =
    Math.max(
      1,
      ...drawn.flatMap((l) => l.values),
      ...samples.flatMap((s) => s.deployments.map((d) => d.desired)),
    ) + 1;

  const clock = (ms: number) => formatTime(ms, stepMs, endMs);
  const marks: string[] = [];
  const bars: { label: string; colour: readonly [string, string]; values: number[] }[] = [];
  const named = (id: string) => `deployment ${id} (${revisions.get(id) ?? '?'})`;
  const [rollout, rollback] = follows;
  if (rollout) {
    const end = rollout.endedAtMs ?? endMs;
    const failedHow: Partial<Record<string, string>> = {
      failed: 'failed',
      'rolled-back': 'failed; ECS rolled it back',
      'timed-out': 'did not finish in time',
    };
    const how = rollout.status ? failedHow[rollout.status] : undefined;
    if (how) {
      marks.push(`✖ ${clock(end)}: ${named(rollout.deploymentId)} ${how}`);
      bars.push({ label: 'failure', colour: FAILURE_COLOUR, values: spike(times.length, column(end), top) });
    } else if (rollout.status === 'completed') {
      marks.push(`✔ ${clock(end)}: ${named(rollout.deploymentId)} completed`);
    } else {
      marks.push(`■ ${clock(end)}: the step stopped following ${named(rollout.deploymentId)}`);
    }
  }
  if (rollback) {
    const firstSeen = samples.find((s) => s.deployments.some((d) => d.id === rollback.deploymentId))?.atMs;
    const began = Math.min(firstSeen ?? rollback.startedAtMs, rollback.startedAtMs);
    const ended = rollback.endedAtMs === undefined ? 'still in progress' : clock(rollback.endedAtMs);
    const outcome =
      rollback.status === 'completed'
        ? `COMPLETED at ${ended}`
        : rollback.status === 'timed-out'
          ? `did not finish in time (${ended})`
          : rollback.status === 'cancelled'
            ? `no longer followed from ${ended}`
            : rollback.status
              ? `failed at ${ended}`
              : `not seen to its end (${ended})`;
    marks.push(
      `↩ ${clock(began)}: rollback to ${revisions.get(rollback.deploymentId) ?? '?'} (deployment ${rollback.deploymentId}): ${outcome}`,
    );
    // Shorter than the failure's bar and drawn after it: both show when they share a column.
    const height = Math.round(top * 6) / 10;
    bars.push({
      label: 'rollback',
      colour: ROLLBACK_COLOUR,
      values: spike(times.length, column(began), height),
    });
  }

  const legend = [
    ...drawn.map((l, i) => `${LINE_COLOURS[i]![0]} ${l.label}`),
    ...bars.map((b) => `${b.colour[0]} ${b.label}`),
  ];
  if (lines.length > drawn.length) legend.push(`${lines.length - drawn.length} more lines not drawn`);
  if (timeline.thinned > 0) legend.push(`${timeline.thinned} checks left out to keep the record small`);

  // Bars first, so the lines are drawn over them; the palette follows the order of the plots.
  const palette = [...bars.map((b) => b.colour[1]), ...drawn.map((_, i) => LINE_COLOURS[i]![1])];
  const init = {
    xyChart: { width: 760, height: 320, showLegend: true },
    themeVariables: { xyChart: { plotColorPalette: palette.join(', ') } },
  };
  const unit = axisUnit(stepMs, endMs);
  const source = [
    `%%{init: ${JSON.stringify(init)}}%%`,
    'xychart-beta',
    '  %% bars mark the failure and the rollback; elsewhere they sit below the axis, not drawn',
    `  title "${text(`${service}: tasks per deployment`)}"`,
    `  x-axis "${unit}" [${times.map((t) => `"${clock(t).replace(/ \w+$/, '')}"`).join(', ')}]`,
    `  y-axis "tasks" 0 --> ${top}`,
    ...bars.map((b) => `  bar "${text(b.label)}" [${b.values.join(', ')}]`),
    ...drawn.map((l) => `  line "${text(l.label)}" [${l.values.join(', ')}]`),
  ].join('\n');
  return { source, legend, marks };
}

/** The last sample at or before `ms`; before the first check, the first (nothing earlier is known). */
function sampleAt(samples: readonly RolloutSample[], ms: number): RolloutSample {
  let found = samples[0]!;
  for (const s of samples) {
    if (s.atMs > ms) break;
    found = s;
  }
  return found;
}

function countOf(sample: RolloutSample, id: string, count: Count): number {
  return sample.deployments.find((d) => d.id === id)?.[count] ?? 0;
}

/**
 * A short name for each deployment, for the lines: its revision and its part in the story
 * (`web:7 rollout`, `web:6 before`, `web:6 rollback`), its id's end added where two would be alike.
 */
function deploymentNames(
  revisions: ReadonlyMap<string, string>,
  rolloutId: string | undefined,
  rollbackId: string | undefined,
): Map<string, string> {
  const names = new Map<string, string>();
  for (const [id, revision] of revisions) {
    const part = id === rolloutId ? 'rollout' : id === rollbackId ? 'rollback' : 'before';
    names.set(id, `${revision} ${part}`);
  }
  const counts = new Map<string, number>();
  for (const name of names.values()) counts.set(name, (counts.get(name) ?? 0) + 1);
  for (const [id, name] of names) if ((counts.get(name) ?? 0) > 1) names.set(id, `${name} ${id.slice(-4)}`);
  return names;
}

/** Each deployment id, in the order it first appeared, with its revision (`web:7`). */
function revisionsOf(samples: readonly RolloutSample[]): Map<string, string> {
  const revisions = new Map<string, string>();
  for (const s of samples)
    for (const d of s.deployments) if (!revisions.has(d.id)) revisions.set(d.id, d.revision);
  return revisions;
}

function spike(length: number, index: number, height: number): number[] {
  return Array.from({ length }, (_, i) => (i === index ? height : -height));
}

function axisUnit(stepMs: number, endMs: number): string {
  return stepMs >= 1000 && endMs >= 120_000 ? 'minutes' : 'seconds';
}

/** `2.5 s`, `40 s`, `3:20 min`: to the column width's precision. */
function formatTime(ms: number, stepMs: number, endMs: number): string {
  if (axisUnit(stepMs, endMs) === 'minutes') {
    const s = Math.round(ms / 1000);
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')} min`;
  }
  return `${stepMs < 1000 ? (ms / 1000).toFixed(1) : String(Math.round(ms / 1000))} s`;
}

/** Text for inside a Mermaid string: no quotes, backticks, or anything else Mermaid would read. */
function text(s: string): string {
  return s.replace(/[^\w .:/()+-]/g, '');
}
