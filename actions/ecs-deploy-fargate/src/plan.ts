// Pure decisions of a deploy, from the inputs and what ECS holds now: which revision to deploy
// (reuse an identical ACTIVE one, or register), what the diff compares against, and what to do to
// each service. No AWS call here: every rule is a table test.
import type { Deployment, Service, TaskDefinition } from '@aws-sdk/client-ecs';
import { isSameDefinition } from './diff.js';
import { describeProgress } from './rollout.js';
import type { RenderedTaskDefinition } from './render.js';

export interface RevisionPlan {
  /** An ACTIVE revision identical to the rendered definition: deployed as it is, nothing registered. */
  reuse: TaskDefinition | undefined;
  /** Which and why, for the log: "<arn> (which the service runs)". */
  reuseReason: string | undefined;
  /** What the diff compares against: the revision the service runs, else the family's latest. */
  diffBase: TaskDefinition | undefined;
}

/**
 * The revision to deploy. Candidates, in order: the revision the (first) service runs, then the
 * family's latest ACTIVE revision. A re-run after a failed deploy renders what the service runs
 * (rolled back to :6) while the family's latest is the failed :7: comparing with the latest alone
 * would register :8, a copy of :6.
 */
export function planRevision(
  rendered: RenderedTaskDefinition,
  running: TaskDefinition | undefined,
  latest: TaskDefinition | undefined,
): RevisionPlan {
  const sameFamily = (td: TaskDefinition | undefined) =>
    td !== undefined && td.family === rendered.family && td.status !== 'INACTIVE';
  const candidates: [TaskDefinition | undefined, string][] = [
    [sameFamily(running) ? running : undefined, 'which the service runs'],
    [latest, "the family's latest revision"],
  ];
  const found = candidates.find(([td]) => td !== undefined && isSameDefinition(rendered, td));
  return {
    reuse: found?.[0],
    reuseReason: found ? `${found[0]?.taskDefinitionArn} (${found[1]})` : undefined,
    diffBase: running ?? latest,
  };
}

/** What to do to one service. */
export type ServiceAction =
  | { kind: 'create' }
  | { kind: 'update' }
  /** It runs this revision, one deployment, COMPLETED, every task running: nothing to do. */
  | { kind: 'unchanged' }
  /**
   * It runs this revision but is not settled (a deployment still in progress or failed, tasks not
   * all running): follow the deployment in flight and report what it does, instead of calling it
   * done or starting another.
   */
  | { kind: 'follow'; deployment: Deployment; previousTaskDefinition: string | undefined; why: string };

export interface ServiceActionOptions {
  forceNewDeployment: boolean;
  /** Undefined: keep the service's count. */
  desiredCount: number | undefined;
}

export function planService(
  current: Service | undefined,
  taskDefinitionArn: string,
  options: ServiceActionOptions,
): ServiceAction {
  if (current === undefined) return { kind: 'create' };
  if (options.forceNewDeployment) return { kind: 'update' };
  if (options.desiredCount !== undefined && options.desiredCount !== current.desiredCount) {
    return { kind: 'update' };
  }
  const deployments = current.deployments ?? [];
  const primary = deployments.find((d) => d.status === 'PRIMARY');
  if ((primary?.taskDefinition ?? current.taskDefinition) !== taskDefinitionArn || primary === undefined) {
    return { kind: 'update' };
  }
  if (isSettled(current)) return { kind: 'unchanged' };
  const previous = deployments.find((d) => d !== primary && d.taskDefinition !== taskDefinitionArn);
  return {
    kind: 'follow',
    deployment: primary,
    previousTaskDefinition: previous?.taskDefinition,
    why: `it already runs this revision, but not settled: ${describeProgress(primary)}${deployments.length > 1 ? ` (${deployments.length} deployments)` : ''}`,
  };
}

/** One deployment, PRIMARY, COMPLETED, running = desired and nothing pending. */
export function isSettled(service: Service): boolean {
  const deployments = service.deployments ?? [];
  const [only] = deployments;
  return (
    deployments.length === 1 &&
    only !== undefined &&
    only.status === 'PRIMARY' &&
    (only.rolloutState === 'COMPLETED' || only.rolloutState === undefined) &&
    (only.runningCount ?? 0) === (only.desiredCount ?? 0) &&
    (only.pendingCount ?? 0) === 0
  );
}

/** `web:7` of a task definition or its ARN. */
export function revisionName(td: TaskDefinition | string | undefined): string {
  const arn = typeof td === 'string' ? td : td?.taskDefinitionArn;
  return arn?.split('/').at(-1) ?? '?';
}
