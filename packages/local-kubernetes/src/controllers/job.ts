// job-controller (batch/v1): runs pods until spec.completions succeed (parallelism at a time), or
// fails the Job when more than backoffLimit pods have failed (with restartPolicy OnFailure, container
// restarts count as failures), recreating failed pods after the controller's back-off (10 s doubling,
// at most 6 min). 1.32's conditions: SuccessCriteriaMet then Complete (CompletionsReached), or
// FailureTarget then Failed (BackoffLimitExceeded) once its remaining pods are gone.
import type { Change, KObject } from '../store.js';
import { timestamp } from '../store.js';
import { gracefulDelete } from './deletion.js';
import { isReady, isTerminal, statusOf as podStatusOf, type Condition } from './pods.js';
import { podFromTemplate, templateOf } from './podtemplate.js';
import { controllerOf, keyOf, modify, omitZero, splitKey, type Runtime } from './runtime.js';
import { T } from './types.js';

const NAME = 'job';
const COMPONENT = 'job-controller';
const BACKOFF_MS = 10_000;
const MAX_BACKOFF_MS = 360_000;

interface JobSpec {
  ttlSecondsAfterFinished?: number;
  completions?: number | null;
  parallelism?: number;
  backoffLimit?: number;
  suspend?: boolean;
  completionMode?: string;
  activeDeadlineSeconds?: number;
}

interface JobStatus {
  startTime?: string;
  completionTime?: string;
  active?: number;
  succeeded?: number;
  failed?: number;
  ready?: number;
  terminating?: number;
  conditions?: Condition[];
  uncountedTerminatedPods?: Record<string, unknown>;
}

interface Tally {
  succeeded: Set<string>;
  failed: Set<string>;
  /** Indexed Jobs: the completion indexes that have succeeded. */
  indexes: Set<number>;
  lastFailure: number;
}

const INDEX = 'batch.kubernetes.io/job-completion-index';
const indexOf = (pod: KObject) => Number(pod.metadata.annotations?.[INDEX] ?? -1);

/** status.completedIndexes: "0-2,4". */
function ranges(indexes: number[]): string {
  const sorted = [...indexes].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    out.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

const finished = (status: JobStatus) =>
  (status.conditions ?? []).some((c) => ['Complete', 'Failed'].includes(c.type) && c.status === 'True');

export function startJobController(rt: Runtime): (change: Change) => void {
  /** Pods already counted as succeeded or failed, per Job uid (the real controller's tracking finalizers). */
  const counted = new Map<string, Tally>();
  rt.register(NAME, (key) => sync(rt, key, counted));
  return (change) => {
    if (change.resource === 'jobs.batch') {
      if (change.type === 'DELETED') counted.delete(change.object.metadata.uid);
      else rt.enqueue(NAME, keyOf(change.object));
    } else if (change.resource === 'pods') {
      const owner = controllerOf(change.object);
      if (owner?.kind === 'Job') rt.enqueue(NAME, `${change.object.metadata.namespace}/${owner.name}`);
    }
  };
}

function condition(type: string, reason: string, message: string, now: number): Condition {
  return {
    type,
    status: 'True',
    lastProbeTime: timestamp(now),
    lastTransitionTime: timestamp(now),
    reason,
    message,
  };
}

function sync(rt: Runtime, key: string, counted: Map<string, Tally>): void {
  const [namespace, name] = splitKey(key);
  const job = rt.store.get(T.jobs, namespace, name);
  if (!job) return;
  const spec = (job.spec ?? {}) as JobSpec;
  const previous = (job.status ?? {}) as JobStatus;
  const now = rt.now();
  const event = (type: 'Normal' | 'Warning', reason: string, message: string) =>
    rt.events.record(job, { type, reason, message, component: COMPONENT });
  let tally = counted.get(job.metadata.uid);
  if (!tally)
    counted.set(
      job.metadata.uid,
      (tally = { succeeded: new Set(), failed: new Set(), indexes: new Set(), lastFailure: 0 }),
    );
  const pods = rt.store.list(T.pods, namespace).filter((p) => controllerOf(p)?.uid === job.metadata.uid);
  for (const pod of pods) {
    const phase = podStatusOf(pod).phase;
    if (phase === 'Succeeded') tally.succeeded.add(pod.metadata.uid);
    if (phase === 'Failed' && !tally.failed.has(pod.metadata.uid)) {
      tally.failed.add(pod.metadata.uid);
      tally.lastFailure = now;
    }
  }
  const active = pods.filter((p) => !isTerminal(p) && !p.metadata.deletionTimestamp);
  const terminating = pods.filter((p) => !isTerminal(p) && p.metadata.deletionTimestamp);
  const restarts = active.reduce(
    (n, p) => n + (podStatusOf(p).containerStatuses ?? []).reduce((m, c) => m + (c.restartCount ?? 0), 0),
    0,
  );
  const indexed = spec.completionMode === 'Indexed' && typeof spec.completions === 'number';
  for (const pod of pods)
    if (indexed && podStatusOf(pod).phase === 'Succeeded' && indexOf(pod) >= 0)
      tally.indexes.add(indexOf(pod));
  const succeeded = indexed ? tally.indexes.size : tally.succeeded.size;
  const failed = tally.failed.size;
  const status: JobStatus = {
    ...structuredClone(previous),
    conditions: structuredClone(previous.conditions ?? []),
  };
  if (finished(previous)) return ttlAfterFinished(rt, job, previous, spec);
  const completions =
    spec.completions === undefined ? (spec.parallelism === undefined ? 1 : null) : spec.completions;
  const parallelism = spec.parallelism ?? 1;
  const backoffLimit = spec.backoffLimit ?? 6;
  const has = (type: string) => status.conditions!.some((c) => c.type === type);
  if (!status.startTime && !spec.suspend) status.startTime = timestamp(now);

  // activeDeadlineSeconds: counted from startTime, checked on the clock.
  const deadlineAt =
    spec.activeDeadlineSeconds !== undefined && status.startTime
      ? Date.parse(status.startTime) + spec.activeDeadlineSeconds * 1000
      : undefined;
  const pastDeadline = deadlineAt !== undefined && deadlineAt <= now;
  if (deadlineAt !== undefined && !pastDeadline)
    rt.afterKeyed(`${NAME}/deadline/${key}`, deadlineAt - now, () => rt.enqueue(NAME, key));
  const target = status.conditions!.find((c) => c.type === 'FailureTarget');
  const [failReason, failMessage] = target
    ? [target.reason!, target.message!]
    : pastDeadline
      ? ['DeadlineExceeded', 'Job was active longer than specified deadline']
      : ['BackoffLimitExceeded', 'Job has reached the specified backoff limit'];
  const failing = !!target || pastDeadline || failed + restarts > backoffLimit;
  const complete = completions === null ? succeeded > 0 && active.length === 0 : succeeded >= completions;
  if (failing) {
    if (!has('FailureTarget')) {
      status.conditions!.push(condition('FailureTarget', failReason, failMessage, now));
      event('Warning', failReason, failMessage);
    }
    for (const pod of active) {
      gracefulDelete(rt.store, rt.host.clock, namespace!, pod.metadata.name);
      event('Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
    }
    if (active.length === 0 && terminating.length === 0)
      status.conditions!.push(condition('Failed', failReason, failMessage, now));
  } else if (complete) {
    if (!has('SuccessCriteriaMet'))
      status.conditions!.push(
        condition(
          'SuccessCriteriaMet',
          'CompletionsReached',
          'Reached expected number of succeeded pods',
          now,
        ),
      );
    if (active.length === 0 && terminating.length === 0) {
      status.conditions!.push(
        condition('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods', now),
      );
      status.completionTime = timestamp(now);
      event('Normal', 'Completed', 'Job completed');
    }
  } else if (spec.suspend) {
    // Suspended: its pods go, and the Suspended condition says so.
    for (const pod of active) {
      gracefulDelete(rt.store, rt.host.clock, namespace!, pod.metadata.name);
      event('Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
    }
    const suspended = status.conditions!.find((c) => c.type === 'Suspended');
    if (suspended?.status !== 'True') {
      status.conditions = [
        ...status.conditions!.filter((c) => c.type !== 'Suspended'),
        { ...condition('Suspended', 'JobSuspended', 'Job suspended', now) },
      ];
      event('Normal', 'Suspended', 'Job suspended');
    }
  } else {
    const suspended = status.conditions!.find((c) => c.type === 'Suspended');
    if (suspended?.status === 'True') {
      status.conditions = [
        ...status.conditions!.filter((c) => c.type !== 'Suspended'),
        { ...condition('Suspended', 'JobResumed', 'Job resumed', now), status: 'False' },
      ];
      // A resumed Job's active deadline counts from now.
      status.startTime = timestamp(now);
      event('Normal', 'Resumed', 'Job resumed');
    }
    // Indexed: one pod per index not yet succeeded nor running, lowest first.
    const activeIndexes = new Set(active.map(indexOf));
    const missingIndexes = indexed
      ? Array.from({ length: completions! }, (_, i) => i).filter(
          (i) => !tally.indexes.has(i) && !activeIndexes.has(i),
        )
      : [];
    const remaining = completions === null ? (succeeded > 0 ? 0 : parallelism) : completions - succeeded;
    const want = Math.min(parallelism, remaining) - active.length;
    // A failed pod is replaced after the back-off: 10 s × 2^(failures − 1), at most 6 min.
    const delay = failed > 0 ? Math.min(BACKOFF_MS * 2 ** (failed - 1), MAX_BACKOFF_MS) : 0;
    const at = tally.lastFailure + delay;
    if (want > 0 && failed > 0 && at > now)
      rt.afterKeyed(`${NAME}/${key}`, at - now, () => rt.enqueue(NAME, key));
    else
      for (const index of indexed
        ? missingIndexes.slice(0, Math.max(0, want))
        : Array.from({ length: Math.max(0, want) }, () => -1)) {
        const labels = {
          'batch.kubernetes.io/controller-uid': job.metadata.uid,
          'batch.kubernetes.io/job-name': name,
          'controller-uid': job.metadata.uid,
          'job-name': name,
        };
        const template = templateOf(job);
        const pod = rt.store.create(
          T.pods,
          podFromTemplate(
            template,
            job,
            { generateName: index >= 0 ? `${name}-${index}-` : `${name}-` },
            {
              labels: index >= 0 ? { ...labels, [INDEX]: String(index) } : labels,
              ...(index >= 0 ? { annotations: { [INDEX]: String(index) } } : {}),
              spec: { restartPolicy: template.spec?.restartPolicy ?? 'Never' },
            },
          ),
        );
        event('Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
      }
  }
  const current = rt.store.list(T.pods, namespace).filter((p) => controllerOf(p)?.uid === job.metadata.uid);
  const nowActive = current.filter((p) => !isTerminal(p) && !p.metadata.deletionTimestamp);
  Object.assign(status, {
    active: nowActive.length,
    ready: nowActive.filter(isReady).length,
    succeeded,
    failed,
    terminating: current.filter((p) => !isTerminal(p) && p.metadata.deletionTimestamp).length,
    uncountedTerminatedPods: {},
    ...(indexed ? { completedIndexes: ranges([...tally.indexes]) } : {}),
  });
  modify(
    rt,
    T.jobs,
    namespace,
    name,
    (o) => void (o.status = omitZero(status as Record<string, unknown>, ['ready', 'terminating'])),
    {
      subresource: 'status',
    },
  );
}

/** ttl-after-finished-controller: a finished Job with ttlSecondsAfterFinished is deleted that long after. */
function ttlAfterFinished(rt: Runtime, job: KObject, status: JobStatus, spec: JobSpec): void {
  if (spec.ttlSecondsAfterFinished === undefined) return;
  const done = (status.conditions ?? []).find(
    (c) => ['Complete', 'Failed'].includes(c.type) && c.status === 'True',
  );
  const at = Date.parse(done?.lastTransitionTime ?? '') + spec.ttlSecondsAfterFinished * 1000;
  if (!Number.isFinite(at)) return;
  const { namespace, name, uid } = job.metadata;
  rt.afterKeyed(`${NAME}/ttl/${namespace}/${name}`, Math.max(0, at - rt.now()), () => {
    // Background propagation: the garbage collector takes the pods.
    if (rt.store.get(T.jobs, namespace, name)?.metadata.uid === uid) rt.store.delete(T.jobs, namespace, name);
  });
}
