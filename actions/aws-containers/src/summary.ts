// The one job summary of the step: what the release did as a whole (the image deployed, how the
// push and the deploy ended), then ecr-push's and ecs-deploy's own summaries of their parts, built
// by their own code from their own reports. Written once, on every exit path.
import { JobSummary, cut } from '@aws-containers/core';
import {
  buildSummary as pushSummary,
  emptyReport as emptyPushReport,
  type PushReport,
} from '../../ecr-push/src/summary.js';
import {
  buildSummary as deploySummary,
  emptyReport as emptyDeployReport,
  type DeployReport,
} from '../../ecs-deploy-fargate/src/summary.js';
import {
  buildSummary as rolloutSummary,
  emptyReport as emptyRolloutReport,
  overallState,
  type RolloutReport,
} from '../../eks-rollout/src/summary.js';

/** What the step got to; filled in as it goes. */
export interface ReleaseReport {
  /** The part running now, or the last one reached when the step ended. */
  part: 'inputs' | 'push' | 'deploy';
  /** ECS (ecs-deploy's part) or EKS (eks-rollout's), once the inputs are read. */
  target: 'ecs' | 'eks';
  /** The inputs were not valid: the step stopped before any AWS call. */
  inputErrors: string[] | undefined;
  /** For the heading, once the inputs are read. */
  repository: string | undefined;
  cluster: string | undefined;
  /** The ECS services, or the EKS workloads (`deployment/web`) named by the inputs. */
  services: string[];
  push: PushReport;
  /** The image the deploy was given: `<repository-uri>@sha256:…`. */
  image: string | undefined;
  deploy: DeployReport;
  /** The EKS target's part. */
  eks: RolloutReport;
}

export function emptyReport(): ReleaseReport {
  return {
    part: 'inputs',
    target: 'ecs',
    inputErrors: undefined,
    repository: undefined,
    cluster: undefined,
    services: [],
    push: emptyPushReport(),
    image: undefined,
    deploy: emptyDeployReport(),
    eks: emptyRolloutReport(),
  };
}

/** Several summaries written as one, in order. */
class Sections extends JobSummary {
  constructor(private readonly sections: readonly JobSummary[]) {
    super();
  }

  override toString(): string {
    return this.sections.map((s) => s.toString()).join('');
  }
}

function firstLine(text: string): string {
  return cut(text.split('\n')[0] ?? '', 300);
}

function serviceStates(r: DeployReport): string {
  return r.services
    .map((s) => `${s.service}: rollout ${s.rolloutState}, rollback ${s.rollbackState}`)
    .join('; ');
}

/** How the deploy ended, in one line; undefined when it did not start. */
function deployText(r: ReleaseReport): string | undefined {
  if (r.part !== 'deploy') return undefined;
  if (r.target === 'eks') return eksText(r.eks);
  const d = r.deploy;
  const states = serviceStates(d);
  if (d.stoppedBy !== undefined) {
    return `failed: ${firstLine(d.stoppedBy)}${states ? ` (${states})` : ''}`;
  }
  if (d.services.length === 0) return 'started; the step ended before any service was deployed';
  const done = d.services.every((s) => s.rolloutState === 'COMPLETED');
  return `${done ? 'done' : 'failed'}: ${states}`;
}

function eksText(e: RolloutReport): string {
  const state = overallState(e);
  const states = e.workloads.map((w) => `${w.workload}: ${w.state}`).join('; ');
  if (e.stoppedBy !== undefined) {
    return `failed: ${firstLine(e.stoppedBy)}${states ? ` (${states})` : ''}`;
  }
  if (state === 'COMPLETED') return `done: ${states || `${e.applied.length} objects applied`}`;
  return `failed: ${state}${states ? ` (${states})` : ''}`;
}

function headline(r: ReleaseReport): string {
  const deployed = deployText(r);
  if (r.part === 'push') {
    return r.push.error !== undefined
      ? 'The push failed, so nothing was deployed.'
      : 'The step ended during the push, so nothing was deployed.';
  }
  if (deployed === undefined) return '';
  return deployed.startsWith('done')
    ? `Pushed ${r.image} and deployed it by digest.`
    : `Pushed ${r.image}; the deploy ${deployed}. The image stays pushed.`;
}

export function buildSummary(r: ReleaseReport): JobSummary {
  const target = r.cluster
    ? ` → ${r.target === 'eks' ? 'EKS ' : ''}${r.cluster}/${r.services.join(', ')}`
    : '';
  const overview = new JobSummary().heading(`aws-containers: ${r.repository ?? 'release'}${target}`, 2);
  if (r.inputErrors) {
    overview.paragraph('The inputs are not valid: nothing was called or changed in AWS.');
    overview.list(r.inputErrors);
    return overview;
  }
  overview.paragraph(headline(r));
  overview.facts([
    ['Image deployed', r.part === 'deploy' ? r.image : 'none'],
    [
      'Push',
      r.part === 'push'
        ? r.push.error !== undefined
          ? `failed: ${firstLine(r.push.error)}`
          : 'did not finish'
        : 'done',
    ],
    ['Deploy', deployText(r) ?? 'not started: the push did not succeed'],
  ]);
  const sections = [overview, pushSummary(r.push)];
  if (r.part === 'deploy')
    sections.push(r.target === 'eks' ? rolloutSummary(r.eks) : deploySummary(r.deploy));
  return new Sections(sections);
}
