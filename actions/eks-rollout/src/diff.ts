// dry-run's diff: the live object against what the API server answered to the same write with
// dryRun=All, as YAML lines, without the fields the server keeps for itself; a Secret's values
// are never shown, only its keys and whether each one changes.
import type { KubeObject } from '@aws-containers/core';
import { stringify } from 'yaml';
import { record } from './manifests.js';

const SERVER_METADATA = [
  'managedFields',
  'resourceVersion',
  'uid',
  'creationTimestamp',
  'generation',
  'selfLink',
];

/**
 * The object as compared: no status, no server-kept metadata, Secret values hidden (pure). With
 * `other` (the live object), a Secret value that differs from other's is marked changed.
 */
export function comparable(object: KubeObject, other?: KubeObject): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...object, metadata: { ...object.metadata } };
  delete copy.status;
  const metadata = copy.metadata as Record<string, unknown>;
  for (const key of SERVER_METADATA) delete metadata[key];
  if (object.kind === 'Secret') {
    for (const field of ['data', 'stringData']) {
      const values = record(object[field]);
      if (!values) continue;
      const theirs = record(other?.[field]);
      copy[field] = Object.fromEntries(
        Object.keys(values)
          .sort()
          .map((key) => [
            key,
            other !== undefined && theirs?.[key] !== undefined && theirs[key] !== values[key]
              ? '(value hidden, changed)'
              : '(value hidden)',
          ]),
      );
    }
  }
  return sortKeys(copy) as Record<string, unknown>;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  const object = record(value);
  if (!object) return value;
  return Object.fromEntries(
    Object.keys(object)
      .sort()
      .map((key) => [key, sortKeys(object[key])]),
  );
}

/** A line diff (longest common subsequence): `  same`, `- removed`, `+ added`; [] when equal. */
export function lineDiff(before: readonly string[], after: readonly string[]): string[] {
  if (before.length === after.length && before.every((l, i) => l === after[i])) return [];
  const n = before.length;
  const m = after.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] =
        before[i] === after[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (before[i] === after[j]) {
      out.push(`  ${before[i]}`);
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) out.push(`- ${before[i++]}`);
    else out.push(`+ ${after[j++]}`);
  }
  while (i < n) out.push(`- ${before[i++]}`);
  while (j < m) out.push(`+ ${after[j++]}`);
  return out;
}

/** Only the changed lines with `context` lines around them, `…` between hunks. */
export function hunks(diff: readonly string[], context = 3): string[] {
  const keep = new Set<number>();
  diff.forEach((line, index) => {
    if (line.startsWith('  ')) return;
    for (let k = Math.max(0, index - context); k <= Math.min(diff.length - 1, index + context); k++)
      keep.add(k);
  });
  const out: string[] = [];
  let last = -1;
  for (const index of [...keep].sort((a, b) => a - b)) {
    if (last >= 0 && index > last + 1) out.push('  …');
    out.push(diff[index] as string);
    last = index;
  }
  return out;
}

/** The diff of one object: undefined when nothing changes; every line `+` for a new object. */
export function objectDiff(live: KubeObject | undefined, dryRun: KubeObject): string[] | undefined {
  const lines = (o: Record<string, unknown>) => stringify(o, { lineWidth: 0 }).trimEnd().split('\n');
  const after = lines(comparable(dryRun, live));
  if (!live) return after.map((l) => `+ ${l}`);
  const before = lines(comparable(live));
  const diff = lineDiff(before, after);
  return diff.length === 0 ? undefined : hunks(diff);
}
