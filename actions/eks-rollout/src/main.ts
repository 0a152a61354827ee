// eks-rollout: connect (DescribeCluster, a token made in process), apply the manifests or set the
// images, follow each workload with watches by kubectl's rules, diagnose and undo what failed.
// The outputs and the job summary say what was observed, on every exit path.
import { fileURLToPath } from 'node:url';
import * as core from '@actions/core';
import { EKSClient } from '@aws-sdk/client-eks';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import {
  ActionError,
  FailureReported,
  InputErrors,
  createAwsClient,
  createKubernetesClient,
  daemonSetRolloutStatus,
  deploymentRolloutStatus,
  describeEksCluster,
  eksTokenProvider,
  fence,
  formatError,
  group,
  logApiCalls,
  info,
  isKubernetesApiError,
  reportPreflight,
  resolveRegion,
  statefulSetRolloutStatus,
  undoDeployment,
  type KubeObject,
  type RunContext,
} from '@aws-containers/core';
import { ecrDescriber, missingEcrImage } from './ecr.js';
import { imagesToRun, namespacesNeeded, runEksPreflight } from './preflight.js';
import { getInputs, type Inputs, type WorkloadRef } from './inputs.js';
import { substituteImages } from './images.js';
import { dryRunApply, dryRunSetImages, dryRunText } from './dry-run.js';
import { runJob } from './job.js';
import { kubeconfigFor, writeKubeconfig } from './kubeconfig.js';
import { knownKind, objectName, withMetadata } from './manifests.js';
import { rollOut, type RolloutContext, type RolloutRules } from './rollout.js';
import { controllerRevision, undoControllerRevision } from './undo.js';
import {
  CHANGE_CAUSE,
  applyObjects,
  planSetImages,
  renderManifests,
  setImages,
  workloadName,
  workloadRef,
  type StageContext,
} from './stages.js';
import { buildSummary, emptyReport, writeOutputs, type RolloutReport } from './summary.js';
import { ACTION } from './version.js';

export async function main({ signal }: RunContext): Promise<void> {
  const report = emptyReport();
  try {
    await rollout(getInputs(), report, signal);
  } catch (err) {
    if (err instanceof InputErrors) report.inputErrors = err.errors.map((e) => e.message);
    else if (signal.aborted) {
      report.cancelled = true;
      info(
        `Cancelled${report.inFlight ? ` while ${report.inFlight}` : ''}: nothing more was sent to the cluster.`,
      );
    } else if (!(err instanceof FailureReported)) report.stoppedBy = formatError(err);
    throw err;
  } finally {
    writeOutputs(report);
    logApiCalls();
    await buildSummary(report).apiCalls().write();
  }
}

/** Everything after the inputs, filling in `report` as each part is known. The root action calls this too. */
export async function rollout(inputs: Inputs, report: RolloutReport, signal: AbortSignal): Promise<void> {
  const region = resolveRegion(inputs.region);
  report.cluster = inputs.cluster;
  const eks = createAwsClient(EKSClient, { region, action: ACTION });

  report.inFlight = `reading EKS cluster ${inputs.cluster}`;
  const cluster = await group('Connect to the cluster', async () => {
    const found = await describeEksCluster(eks, inputs.cluster, signal);
    info(`${found.name} (Kubernetes ${found.version}) at ${found.endpoint}`);
    return found;
  });
  const client = createKubernetesClient({
    endpoint: cluster.endpoint,
    caPem: cluster.caPem,
    token: eksTokenProvider({ cluster: inputs.cluster, region, credentials: eks.config.credentials }),
    userAgent: `${ACTION.name}/${ACTION.version}`,
  });
  const ctx: StageContext = { client, signal, log: info };
  if (inputs.writeKubeconfig) {
    const text = kubeconfigFor(cluster, {
      region,
      namespace: inputs.namespace,
      node: process.execPath,
      entry: fileURLToPath(import.meta.url),
    });
    report.kubeconfig = writeKubeconfig(inputs.writeKubeconfig, text);
    info(
      `wrote ${report.kubeconfig}: kubectl in later steps reaches ${cluster.name} with this action's token command`,
    );
  }
  try {
    await change(ctx, inputs, report);
  } catch (error) {
    if (isKubernetesApiError(error, 401) || isKubernetesApiError(error, 403)) {
      throw await accessError(error, inputs, region, signal);
    }
    throw error;
  }
}

async function change(ctx: StageContext, inputs: Inputs, report: RolloutReport): Promise<void> {
  const { signal } = ctx;
  // One ECR client per region for preflight and the follow alike.
  const describeEcrImage = ecrDescriber();
  // The revisions before any change: the previous-revision output, and what an undo returns to.
  report.inFlight = 'reading the workloads';
  const before = await readRevisions(ctx, inputs.workloads);

  const changeAnnotations: Record<string, string> = inputs.changeCause
    ? { [CHANGE_CAUSE]: inputs.changeCause }
    : {};
  const inManifests = (w: WorkloadRef) =>
    inputs.manifests?.some(
      (m) =>
        objectName(m.object) === workloadName(w) ||
        (m.object.kind.toLowerCase() === w.kind && m.object.metadata.name === w.name),
    ) ?? false;
  const setImageTargets = inputs.workloads.filter((w) => !inManifests(w));
  const containerImages = inputs.images.filter((i) => i.target === 'container');
  // Read and checked before the first write: a missing workload or container changes nothing.
  const plans =
    containerImages.length > 0 && setImageTargets.length > 0
      ? await planSetImages(ctx, setImageTargets, containerImages, changeAnnotations)
      : [];

  const objects = inputs.manifests
    ? renderManifests(inputs.manifests, {
        images: inputs.images,
        annotations: inputs.annotations,
        labels: inputs.labels,
        changeCause: inputs.changeCause,
      })
    : [];
  const applyOptions = {
    fieldManager: inputs.fieldManager,
    force: inputs.forceConflicts,
    serverSide: inputs.serverSideApply,
  };
  if (inputs.preflight !== 'off') {
    report.inFlight = 'preflight';
    const job = inputs.preDeployJob ? [substituteImages(inputs.preDeployJob, inputs.images)] : [];
    const findings = await group('Preflight', () =>
      runEksPreflight(
        ctx,
        describeEcrImage,
        imagesToRun(
          [...objects, ...job],
          containerImages.map((i) => i.image),
        ),
        namespacesNeeded([...objects, ...job], []),
      ),
    );
    reportPreflight(inputs.preflight, findings);
  }
  if (inputs.dryRun) {
    report.dryRun = true;
    report.inFlight = 'the dry run';
    await group('Dry run (server-side): the changes', async () => {
      const changes = [
        ...(await dryRunApply(ctx, objects, applyOptions)),
        ...(await dryRunSetImages(ctx, plans, inputs.fieldManager)),
      ];
      info(dryRunText(changes));
      report.dryRunChanges = changes;
      report.applied.push(...changes.map((c) => c.name));
      if (inputs.preDeployJob) {
        info(`would run the pre-deploy Job ${inputs.preDeployJob.metadata.name} before the workloads`);
      }
    });
    info('dry-run: nothing was changed in the cluster');
    report.inFlight = undefined;
    return;
  }
  const apply = async (part: KubeObject[], what: string) => {
    if (part.length === 0) return;
    report.inFlight = `applying ${what}`;
    await group(
      `Apply ${part.length} ${what} (${inputs.serverSideApply ? 'server-side' : 'client-side'})`,
      () => applyObjects(ctx, part, applyOptions, (name) => report.applied.push(name)),
    );
  };
  const job = inputs.preDeployJob;
  if (job) {
    // What the Job may need (namespaces, configuration, services) first; no workload before it ends.
    const early = objects.filter((o) => (knownKind(o.apiVersion, o.kind)?.rank ?? 4) < 3);
    await apply(early, early.length === 1 ? 'object' : 'objects');
    const rendered = withMetadata(substituteImages(job, inputs.images), inputs.annotations, inputs.labels);
    report.inFlight = `running the pre-deploy Job ${rendered.metadata.name}`;
    const result = await group(`Run the pre-deploy Job ${rendered.metadata.name}`, () =>
      runJob(ctx, rendered, inputs.preDeployJobTimeoutMs, inputs.maxRestarts),
    );
    report.preDeployJob = result;
    if (result.state !== 'COMPLETED') {
      if (signal.aborted) throw signal.reason;
      const message = `pre-deploy-job ${result.name} ${result.state}: ${result.message}; no workload was changed`;
      core.error(fence(message));
      throw new FailureReported(message);
    }
    info(`the pre-deploy Job ${result.name} completed`);
    const rest = objects.filter((o) => !early.includes(o));
    await apply(rest, rest.length === 1 ? 'object' : 'objects');
  } else {
    await apply(objects, objects.length === 1 ? 'object' : 'objects');
  }
  if (plans.length > 0) {
    report.inFlight = 'setting the images';
    await group('Set the images', () => setImages(ctx, plans, inputs.fieldManager));
  }

  const rctx: RolloutContext = {
    ...ctx,
    timeoutMs: inputs.timeoutMs,
    maxRestarts: inputs.maxRestarts,
    rollbackOnFailure: inputs.rollbackOnFailure,
    rules: KUBECTL_RULES,
    onFailure: (message) => core.error(fence(message)),
    onWarning: (message) => core.warning(fence(message)),
    stats: report.watch,
    missingImage: missingEcrImage(describeEcrImage, info),
  };
  if (inputs.workloads.length === 0) {
    info('no workload to follow: the manifests hold none');
    report.inFlight = undefined;
    return;
  }
  report.inFlight = `following ${inputs.workloads.map(workloadName).join(', ')}`;
  await group(`Follow ${inputs.workloads.map(workloadName).join(', ')}`, async () => {
    const results = inputs.workloads.map((w) => {
      const entry = {
        workload: workloadName(w),
        state: 'UNKNOWN' as const,
        message: 'the step ended before its end was observed',
        previousRevision: before.get(workloadName(w)),
        revision: undefined,
        rolledBack: false,
        undo: undefined,
        diagnosis: undefined,
      };
      report.workloads.push(entry);
      return entry;
    });
    // An error in one follow (not a failed rollout: an API error) stops the others at once, so
    // that the step ends with it instead of waiting for their timeouts; their end stays UNKNOWN.
    const stopOthers = new AbortController();
    const onStepAbort = () => stopOthers.abort(signal.reason);
    signal.addEventListener('abort', onStepAbort, { once: true });
    let firstError: { error: unknown } | undefined;
    await Promise.all(
      inputs.workloads.map(async (w, i) => {
        try {
          const result = await rollOut(
            { ...rctx, signal: stopOthers.signal },
            w,
            before.get(workloadName(w)),
          );
          if (firstError && result.state === 'CANCELLED' && !signal.aborted) return;
          Object.assign(results[i] as object, result);
        } catch (error) {
          firstError ??= { error };
          stopOthers.abort(error);
        }
      }),
    );
    signal.removeEventListener('abort', onStepAbort);
    if (firstError) throw firstError.error;
  });
  // Cancelled while following: what was in flight stays named.
  if (!signal.aborted) report.inFlight = undefined;
  const failed = report.workloads.filter((w) => w.state !== 'COMPLETED');
  if (failed.length > 0) {
    throw new FailureReported(failed.map((w) => `${w.workload}: ${w.state} — ${w.message}`).join('\n'));
  }
}

async function readRevisions(
  ctx: StageContext,
  workloads: readonly WorkloadRef[],
): Promise<Map<string, string | undefined>> {
  const revisions = new Map<string, string | undefined>();
  for (const w of workloads) {
    const live = await ctx.client.find(workloadRef(w), { signal: ctx.signal });
    revisions.set(workloadName(w), live ? await KUBECTL_RULES.revision(ctx, w, live) : undefined);
  }
  return revisions;
}

/** kubectl's rules: rollout status per kind, undo (core's for Deployments), and revision numbers. */
const KUBECTL_RULES: RolloutRules = {
  status: (kind, object) =>
    kind === 'deployment'
      ? deploymentRolloutStatus(object)
      : kind === 'statefulset'
        ? statefulSetRolloutStatus(object)
        : daemonSetRolloutStatus(object),
  undo: async (stage, w) => {
    if (w.kind !== 'deployment') return undoControllerRevision(stage, w.kind, w.namespace, w.name);
    const undone = await undoDeployment(stage.client, workloadRef(w), stage.signal);
    stage.log(`${w.namespace}/${w.name}: ${undone.message}`);
    return String(undone.revision);
  },
  revision: async (stage, w, object) =>
    w.kind === 'deployment'
      ? object.metadata.annotations?.['deployment.kubernetes.io/revision']
      : controllerRevision(stage, w.kind, w.namespace, w.name),
};

/** 401/403 from the cluster: who asked (STS GetCallerIdentity) and how to grant it. */
async function accessError(
  error: Error & { status: number },
  inputs: Inputs,
  region: string,
  signal: AbortSignal,
): Promise<ActionError> {
  let principal = 'the credentials of this step';
  let grant = '<role ARN>';
  try {
    const sts = createAwsClient(STSClient, { region, action: ACTION });
    const who = await sts.send(new GetCallerIdentityCommand({}), { abortSignal: signal });
    if (who.Arn) {
      principal = who.Arn;
      grant = roleArnOf(who.Arn);
    }
  } catch {
    // The principal stays unnamed; the rest of the advice holds.
  }
  const ns = inputs.namespace ?? 'default';
  return new ActionError(
    error.status === 401
      ? `EKS cluster ${inputs.cluster} did not accept ${principal}: no access entry or aws-auth mapping names it.`
      : `EKS cluster ${inputs.cluster} refused ${principal}: ${error.message}`,
    {
      cause: error,
      hint:
        `Grant ${grant} access with an EKS access entry (aws eks create-access-entry --cluster-name ${inputs.cluster} --principal-arn ${grant}; ` +
        `aws eks associate-access-policy --cluster-name ${inputs.cluster} --principal-arn ${grant} --policy-arn arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy --access-scope type=namespace,namespaces=${ns}), ` +
        `or map it in the aws-auth ConfigMap (${grant.includes(':user/') ? 'mapUsers: userarn' : 'mapRoles: rolearn'} ${grant}) to a group with these rights.`,
    },
  );
}

/** arn:aws:sts::1:assumed-role/Role/session → arn:aws:iam::1:role/Role (what an access entry names). */
export function roleArnOf(arn: string): string {
  const m = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(arn);
  return m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : arn;
}
