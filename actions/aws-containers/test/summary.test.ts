import type { ServiceResult } from '../../ecs-deploy-fargate/src/stages.js';
import type { WorkloadResult } from '../../eks-rollout/src/summary.js';
import { buildSummary, emptyReport, type ReleaseReport } from '../src/summary.js';

const IMAGE = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app@sha256:' + 'a'.repeat(64);

function service(rolloutState: ServiceResult['rolloutState'], rollbackState: ServiceResult['rollbackState']) {
  return {
    service: 'web',
    serviceArn: undefined,
    deploymentId: 'ecs-svc/1',
    rolloutState,
    rollbackState,
    rolledBack: rollbackState === 'COMPLETED',
    message: '',
    events: [],
  } as ServiceResult;
}

function eksWorkload(state: WorkloadResult['state']): WorkloadResult {
  return {
    workload: 'Deployment/default/web',
    state,
    message: '',
    previousRevision: '1',
    revision: state === 'COMPLETED' ? '2' : '1',
    rolledBack: state === 'ROLLED_BACK',
    undo: undefined,
    diagnosis: undefined,
  };
}

function report(fill: (r: ReleaseReport) => void): ReleaseReport {
  const r = emptyReport();
  r.repository = 'team/app';
  r.cluster = 'production';
  r.services = ['web'];
  fill(r);
  return r;
}

test.each<[string, (r: ReleaseReport) => void, string[], string[]]>([
  [
    'bad inputs: only the list, nothing else',
    (r) => (r.inputErrors = ['Input "timeout": expected a duration']),
    [
      '<h2>aws-containers: team/app → production/web</h2>',
      'The inputs are not valid: nothing was called or changed in AWS.',
      '<li>Input &quot;timeout&quot;: expected a duration</li>',
    ],
    ['ecr-push', 'ecs-deploy-fargate'],
  ],
  [
    'the push failed: the push part, no deploy part',
    (r) => {
      r.part = 'push';
      r.push.stage = 'repository';
      r.push.error = 'The repository "team/app" does not exist\nCreate it';
    },
    [
      '<p>The push failed, so nothing was deployed.</p>',
      '<th>Image deployed</th><td>none</td>',
      '<th>Push</th><td>failed: The repository &quot;team/app&quot; does not exist</td>',
      '<th>Deploy</th><td>not started: the push did not succeed</td>',
      '<h2>ecr-push',
    ],
    ['ecs-deploy-fargate'],
  ],
  [
    'deployed',
    (r) => {
      r.part = 'deploy';
      r.image = IMAGE;
      r.deploy.services = [service('COMPLETED', 'NONE')];
    },
    [
      `<p>Pushed ${IMAGE} and deployed it by digest.</p>`,
      `<th>Image deployed</th><td>${IMAGE}</td>`,
      '<th>Deploy</th><td>done: web: rollout COMPLETED, rollback NONE</td>',
      '<h2>ecr-push',
      '<h2>ecs-deploy-fargate',
    ],
    [],
  ],
  [
    'the rollout failed and was rolled back',
    (r) => {
      r.part = 'deploy';
      r.image = IMAGE;
      r.deploy.services = [service('FAILED', 'COMPLETED')];
    },
    [
      `<p>Pushed ${IMAGE}; the deploy failed: web: rollout FAILED, rollback COMPLETED. The image stays pushed.</p>`,
      '<th>Deploy</th><td>failed: web: rollout FAILED, rollback COMPLETED</td>',
    ],
    [],
  ],
  [
    'an error ended the deploy before any service moved',
    (r) => {
      r.part = 'deploy';
      r.image = IMAGE;
      r.deploy.stoppedBy = 'The cluster production does not exist in eu-west-1\nCheck cluster';
    },
    [
      `<p>Pushed ${IMAGE}; the deploy failed: The cluster production does not exist in eu-west-1. The image stays pushed.</p>`,
      '<h2>ecs-deploy-fargate',
    ],
    [],
  ],
  [
    'EKS: rolled out',
    (r) => {
      r.part = 'deploy';
      r.target = 'eks';
      r.services = ['deployment/web'];
      r.image = IMAGE;
      r.eks.cluster = 'production';
      r.eks.workloads = [eksWorkload('COMPLETED')];
    },
    [
      '<h2>aws-containers: team/app → EKS production/deployment/web</h2>',
      `<p>Pushed ${IMAGE} and deployed it by digest.</p>`,
      '<th>Deploy</th><td>done: Deployment/default/web: COMPLETED</td>',
      '<h2>ecr-push',
      '<h2>eks-rollout: production</h2>',
    ],
    ['ecs-deploy-fargate'],
  ],
  [
    'EKS: failed and undone',
    (r) => {
      r.part = 'deploy';
      r.target = 'eks';
      r.image = IMAGE;
      r.eks.workloads = [eksWorkload('ROLLED_BACK')];
    },
    [
      `<p>Pushed ${IMAGE}; the deploy failed: ROLLED_BACK (Deployment/default/web: ROLLED_BACK). The image stays pushed.</p>`,
      '<h2>eks-rollout',
    ],
    ['ecs-deploy-fargate'],
  ],
  [
    'EKS: an error before any workload was followed',
    (r) => {
      r.part = 'deploy';
      r.target = 'eks';
      r.image = IMAGE;
      r.eks.stoppedBy = 'EKS cluster production did not accept the role\nGrant it';
    },
    [
      `<p>Pushed ${IMAGE}; the deploy failed: EKS cluster production did not accept the role. The image stays pushed.</p>`,
    ],
    ['ecs-deploy-fargate'],
  ],
])('%s', (_, fill, contains, absent) => {
  const html = buildSummary(report(fill)).toString();
  for (const text of contains) expect(html).toContain(text);
  for (const text of absent) expect(html).not.toContain(text);
});
