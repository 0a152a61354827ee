// The pre-deploy Job (migrations): run to its end before any workload changes, its logs printed
// (fenced), a failure stopping the step before the workloads are touched.
import { ActionError, type KubeObject, type ResourceRef } from '@aws-containers/core';
import { podFailure } from './diagnose.js';
import { record } from './manifests.js';
import type { StageContext } from './stages.js';

export interface JobResult {
  name: string;
  /** COMPLETED, FAILED, TIMED_OUT or CANCELLED. */
  state: 'COMPLETED' | 'FAILED' | 'TIMED_OUT' | 'CANCELLED';
  message: string;
}

const jobsRef = (namespace: string, name?: string): ResourceRef => ({
  group: 'batch',
  version: 'v1',
  plural: 'jobs',
  namespace,
  ...(name && { name }),
});

/** The Job's verdict from its conditions (pure): Complete or Failed True, else undefined. */
export function jobVerdict(job: KubeObject): { done: boolean; failed?: string } | undefined {
  const conditions = record(job.status)?.conditions;
  if (!Array.isArray(conditions)) return undefined;
  for (const c of conditions as Array<{
    type?: string;
    status?: string;
    reason?: string;
    message?: string;
  }>) {
    if (c.status !== 'True') continue;
    if (c.type === 'Complete') return { done: true };
    if (c.type === 'Failed')
      return { done: true, failed: `${c.reason ?? 'Failed'}: ${c.message ?? ''}`.trim() };
  }
  return undefined;
}

/**
 * Creates the Job (an earlier Job of that name, finished, is deleted first: a Job's template cannot
 * change) and follows it with a watch to Complete or Failed, stopping early when one of its pods
 * cannot start (an image that cannot be pulled, a missing ConfigMap key). Prints the logs of its
 * pods at the end.
 */
export async function runJob(
  ctx: StageContext,
  job: KubeObject,
  timeoutMs: number,
  maxRestarts: number,
): Promise<JobResult> {
  const namespace = job.metadata.namespace ?? 'default';
  const name = job.metadata.name;
  const existing = await ctx.client.find(jobsRef(namespace, name), { signal: ctx.signal });
  if (existing) {
    if (!jobVerdict(existing)) {
      throw new ActionError(
        `Job ${namespace}/${name} is still running from an earlier run; nothing was changed.`,
        {
          hint: 'Wait for it to end, or delete it (kubectl delete job), then run again.',
        },
      );
    }
    ctx.log(`deleting the finished Job ${namespace}/${name} of an earlier run`);
    await ctx.client.delete(jobsRef(namespace, name), {
      signal: ctx.signal,
      propagationPolicy: 'Background',
    });
    for (
      let i = 0;
      (await ctx.client.find(jobsRef(namespace, name), { signal: ctx.signal })) !== undefined;
      i++
    ) {
      if (i >= 300)
        throw new ActionError(`Job ${namespace}/${name} of an earlier run is still being deleted.`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const created = await ctx.client.create(jobsRef(namespace), job, { signal: ctx.signal });
  ctx.log(`created Job ${namespace}/${name}`);

  const inner = new AbortController();
  const abort = () => inner.abort(ctx.signal.reason);
  ctx.signal.addEventListener('abort', abort, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    inner.abort(new Error('timeout'));
  }, timeoutMs);
  let result: JobResult | undefined;
  const pods = new Map<string, KubeObject>();
  const seen = new Set<string>();
  const conclude = (r: JobResult) => {
    result ??= r;
    inner.abort(new Error('verdict'));
  };
  const uid = created.metadata.uid;
  const watchJob = async () => {
    for await (const event of ctx.client.watch(jobsRef(namespace), {
      signal: inner.signal,
      fieldSelector: `metadata.name=${name}`,
      resourceVersion: created.metadata.resourceVersion,
    })) {
      if (event.type === 'BOOKMARK') continue;
      if (event.object.metadata.uid !== uid) continue;
      if (event.type === 'DELETED')
        return conclude({ name, state: 'FAILED', message: 'the Job was deleted' });
      const verdict = jobVerdict(event.object);
      if (verdict?.failed) conclude({ name, state: 'FAILED', message: verdict.failed });
      else if (verdict?.done) conclude({ name, state: 'COMPLETED', message: 'Complete' });
    }
  };
  const watchPods = async () => {
    for await (const event of ctx.client.watch(
      { group: '', version: 'v1', plural: 'pods', namespace },
      {
        signal: inner.signal,
        labelSelector: `batch.kubernetes.io/controller-uid=${uid ?? ''}`,
      },
    )) {
      if (event.type === 'BOOKMARK') continue;
      if (event.type === 'DELETED') continue;
      pods.set(event.object.metadata.name, event.object);
      const failure = podFailure(event.object, maxRestarts, seen);
      if (failure) conclude({ name, state: 'FAILED', message: `${failure.pod}: ${failure.message}` });
    }
  };
  try {
    await Promise.all(
      [watchJob(), watchPods()].map((p) =>
        p.catch((error: unknown) => {
          if (!inner.signal.aborted) throw error;
        }),
      ),
    );
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', abort);
    if (!inner.signal.aborted) inner.abort(new Error('done'));
  }
  if (!result) {
    result = ctx.signal.aborted
      ? { name, state: 'CANCELLED', message: 'cancelled while the Job ran' }
      : timedOut
        ? { name, state: 'TIMED_OUT', message: `not finished after ${Math.round(timeoutMs / 1000)} s` }
        : { name, state: 'FAILED', message: 'the watch ended before the Job did' };
  }
  if (!ctx.signal.aborted) await printLogs(ctx, namespace, [...pods.values()]);
  return result;
}

async function printLogs(ctx: StageContext, namespace: string, pods: KubeObject[]): Promise<void> {
  for (const pod of pods) {
    const containers = (record(pod.spec)?.containers as Array<{ name: string }> | undefined) ?? [];
    for (const c of containers) {
      try {
        const text = await ctx.client.logs(
          {
            group: '',
            version: 'v1',
            plural: 'pods',
            namespace,
            name: pod.metadata.name,
            subresource: 'log',
          },
          { signal: ctx.signal, container: c.name, tailLines: 200 },
        );
        ctx.log(`Logs of ${pod.metadata.name}/${c.name}:\n${text.trimEnd().replace(/^/gm, '  ')}`);
      } catch (error) {
        if (ctx.signal.aborted) throw error;
        ctx.log(
          `No logs of ${pod.metadata.name}/${c.name}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  }
}
