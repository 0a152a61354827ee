// The root action end to end: dist/aws-containers/index.js, as the runner runs it, pushes an OCI
// layout to local-aws's ECR and deploys it by digest to ECS on Fargate (60× clock), in one step.
// What it did is checked in its outputs, log, errors and summary, and in what local-aws holds.
//
// The tests share one service and run in order: each starts from what the one before left.
import { DescribeTasksCommand, ListTasksCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { jest } from '@jest/globals';
import { buildOciLayout, type OciLayout } from '@aws-containers/local-aws';
import { localAwsEnv, pushToMain, runAction, type ActionRun } from './helpers/action-runner.js';
import {
  ACCOUNT_ARN,
  NGINX,
  SUBNET,
  mutations,
  startEcsWorld,
  taskDefinition,
  type EcsWorld,
} from './helpers/ecs-deploy.js';
import { refusedCalls } from './helpers/policies.js';

jest.setTimeout(90_000);

let w: EcsWorld;
const layouts: OciLayout[] = [];
const cluster = 'prod';
const repository = 'release/web';
let uri: string;

beforeAll(async () => {
  w = await startEcsWorld(60);
  await w.createCluster(cluster);
  uri = `${w.host}/${repository}`;
});
// Each action ran under its published policies: nothing it called may have been refused.
afterEach(() => expect(refusedCalls(w.aws)).toEqual([]));
afterAll(async () => {
  await w?.stop();
  await Promise.all(layouts.map((l) => l.cleanup()));
});

/** An OCI layout of one small random layer: each has its own digest. */
async function layout(labels: Record<string, string> = {}): Promise<OciLayout> {
  const built = await buildOciLayout({ layers: [{ size: 2048 }], labels });
  layouts.push(built);
  return built;
}

/** The root action on a push to main of acme/app, daemonless, polling each second (a minute of ECS). */
function release(inputs: Record<string, string>): Promise<ActionRun> {
  return runAction('aws-containers', {
    inputs: { 'docker-login': 'false', 'poll-interval': '1s', ...inputs },
    env: { ...localAwsEnv(w.aws, 'aws-containers'), ...pushToMain.env },
    event: pushToMain.event,
    timeoutMs: 80_000,
  });
}

const tdArn = (revision: number) => `${ACCOUNT_ARN}:task-definition/release-web:${revision}`;

async function imageOf(taskDefinitionArn: string): Promise<string | undefined> {
  return (await w.taskDefinition(taskDefinitionArn)).taskDefinition.containerDefinitions?.[0]?.image;
}

/** The image digests the service's running tasks pulled. */
async function runningDigests(service: string): Promise<string[]> {
  const listed = await w.ecs.send(
    new ListTasksCommand({ cluster, serviceName: service, desiredStatus: 'RUNNING' }),
  );
  if (!listed.taskArns?.length) return [];
  const described = await w.ecs.send(new DescribeTasksCommand({ cluster, tasks: listed.taskArns }));
  return (described.tasks ?? []).flatMap((t) => (t.containers ?? []).map((c) => c.imageDigest ?? 'none'));
}

let first: OciLayout;

test('pushes an OCI layout and deploys it by digest to a new service, in one step', async () => {
  first = await layout();
  const imageUri = `${uri}@${first.top.digest}`;
  w.aws.opLog.clear();
  const run = await release({
    repository,
    'create-repository': 'true',
    'oci-layout': first.dir,
    cluster,
    service: 'web',
    'task-definition': w.file(
      'release-web.json',
      taskDefinition('release-web', [{ name: 'app', image: NGINX }]),
    ),
    'create-service': 'true',
    subnets: SUBNET,
  });
  expect(run.errors).toEqual([]);
  expect(run.exitCode).toBe(0);
  // Both actions' outputs, every one this release has (scan-findings needs fail-on-severity).
  expect(run.outputs).toEqual({
    registry: w.host,
    'repository-uri': uri,
    image: `${uri}:main`,
    'image-uri': imageUri,
    digest: first.top.digest,
    tags: 'main\nsha-0123456\nlatest',
    pushed: 'true',
    'task-definition-arn': tdArn(1),
    'task-definition-revision': '1',
    'service-arn': `${ACCOUNT_ARN}:service/${cluster}/web`,
    'deployment-id': expect.stringMatching(/^ecs-svc\/\d+$/),
    'rollout-state': 'COMPLETED',
    'rollback-state': 'NONE',
    'rolled-back': 'false',
  });
  // The task definition names the image by digest, not by the tags just pushed.
  expect(await imageOf(tdArn(1))).toBe(imageUri);
  expect(run.stdout).toContain(`Deploying ${imageUri}`);
  const service = await w.service(cluster, 'web');
  expect(service).toMatchObject({ taskDefinition: tdArn(1), runningCount: 1 });
  expect(await runningDigests('web')).toEqual([first.top.digest]);

  // One process, in order: every ECR call before the first ECS call.
  const services = w.aws.opLog.entries().map((e) => e.service);
  expect(services.lastIndexOf('ecr')).toBeLessThan(services.indexOf('ecs'));
  expect(mutations(w.ecsCalls())).toEqual(['RegisterTaskDefinition', 'CreateService']);

  // One summary: the release as a whole, then each part in its own words.
  expect(run.summary).toContain(`<h2>aws-containers: ${repository} → ${cluster}/web</h2>`);
  expect(run.summary).toContain(`<p>Pushed ${imageUri} and deployed it by digest.</p>`);
  expect(run.summary).toContain(`<th>Image deployed</th><td>${imageUri}</td>`);
  expect(run.summary).toContain(`<h2>ecr-push: ${uri}</h2>`);
  expect(run.summary).toContain('<th>Tags</th><td>main, sha-0123456, latest</td>');
  expect(run.summary).toMatch(/<h2>ecs-deploy-fargate[^<]*: release-web<\/h2>/);
  expect(run.summary).toContain(
    `<td>web</td><td>${run.outputs['deployment-id']}</td><td>COMPLETED</td><td>NONE</td><td>no</td>`,
  );
  expect(run.summary.match(/<h2>/g)).toHaveLength(3);
});

test('a tag moved after the deploy does not change what the service runs', async () => {
  // Another run moves `main` (and `latest`) to an image whose container crashes.
  const crashing = await layout({ 'local-aws.exit-code': '3' });
  const moved = await runAction('ecr-push', {
    inputs: { repository, 'oci-layout': crashing.dir, tags: 'raw:main\nraw:latest', 'docker-login': 'false' },
    env: localAwsEnv(w.aws, 'ecr-push'),
  });
  expect(moved.outputs.digest).toBe(crashing.top.digest);
  // Tasks started now pull what the task definition names: the digest deployed, not `main`.
  const updated = await w.ecs.send(
    new UpdateServiceCommand({ cluster, service: 'web', forceNewDeployment: true }),
  );
  const deployment = updated.service?.deployments?.find((d) => d.status === 'PRIMARY')?.id;
  let rollout: string | undefined;
  for (let i = 0; i < 60 && (rollout === undefined || rollout === 'IN_PROGRESS'); i++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    rollout = (await w.service(cluster, 'web')).deployments?.find((d) => d.id === deployment)?.rolloutState;
  }
  expect(rollout).toBe('COMPLETED');
  expect((await w.service(cluster, 'web')).taskDefinition).toBe(tdArn(1));
  expect(await runningDigests('web')).toEqual([first.top.digest]);
});

test('updates the existing service: renders what it runs with the new digest', async () => {
  const second = await layout();
  const imageUri = `${uri}@${second.top.digest}`;
  const mark = w.mark();
  const run = await release({ repository, 'oci-layout': second.dir, cluster, service: 'web' });
  expect(run.errors).toEqual([]);
  expect(run.exitCode).toBe(0);
  expect(run.outputs).toMatchObject({
    'image-uri': imageUri,
    'task-definition-arn': tdArn(2),
    'rollout-state': 'COMPLETED',
    'rolled-back': 'false',
  });
  expect(await imageOf(tdArn(2))).toBe(imageUri);
  expect(run.stdout).toContain(`containerDefinitions[app].image: ${uri}@${first.top.digest} → ${imageUri}`);
  expect(mutations(w.ecsCalls(mark))).toEqual(['RegisterTaskDefinition', 'UpdateService']);
  expect(await runningDigests('web')).toEqual([second.top.digest]);
});

test('a failing deploy fails the step with the rollout and rollback states, both parts in the summary', async () => {
  const crashing = await layout({ 'local-aws.exit-code': '3' });
  const imageUri = `${uri}@${crashing.top.digest}`;
  const run = await release({ repository, 'oci-layout': crashing.dir, cluster, service: 'web' });
  expect(run.exitCode).toBe(1);
  // The push happened and says so; the deploy says how it ended.
  expect(run.outputs).toMatchObject({
    'image-uri': imageUri,
    pushed: 'true',
    'task-definition-arn': tdArn(3),
    'rollback-state': 'COMPLETED',
    'rolled-back': 'true',
  });
  const rollout = run.outputs['rollout-state'];
  expect(rollout).toMatch(/^(FAILED|ROLLED_BACK)$/);
  expect(run.errors).toHaveLength(1);
  expect(run.errors[0]).toContain('container app: exit code 3');
  expect(run.stdout).toContain(`web: rollout ${rollout}, rollback COMPLETED`);

  expect(run.summary).toContain(
    `<p>Pushed ${imageUri}; the deploy failed: web: rollout ${rollout}, rollback COMPLETED. The image stays pushed.</p>`,
  );
  expect(run.summary).toContain(`<h2>ecr-push: ${uri}</h2>`);
  expect(run.summary).toContain(`<th>Image</th><td>${imageUri}</td>`);
  expect(run.summary).toContain(`<td>${rollout}</td><td>COMPLETED</td><td>yes</td>`);
  // The service runs the revision before, with the image it had.
  expect((await w.service(cluster, 'web')).taskDefinition).toBe(tdArn(2));
});

test('a failed push never deploys', async () => {
  const image = await layout();
  const mark = w.mark();
  const run = await release({
    repository: 'release/missing',
    'oci-layout': image.dir,
    cluster,
    service: 'web',
  });
  expect(run.exitCode).toBe(1);
  expect(run.errors).toEqual([expect.stringContaining('release/missing')]);
  expect(w.ecsCalls(mark)).toEqual([]);
  expect(run.outputs['rollout-state']).toBeUndefined();
  expect(run.outputs['image-uri']).toBeUndefined();
  expect(run.summary).toContain('<p>The push failed, so nothing was deployed.</p>');
  expect(run.summary).toContain('<th>Deploy</th><td>not started: the push did not succeed</td>');
  expect(run.summary).not.toContain('ecs-deploy-fargate');
});

test.each([
  [
    'a bad input of each part',
    { repository: 'Bad Name', timeout: 'soon' },
    ['Input "repository"', 'Input "timeout"'],
  ],
  [
    'a missing layout and a bad deploy input',
    { 'oci-layout': 'no/such/layout', service: '', services: 'web,web' },
    ['Input "oci-layout"', 'Input "services"'],
  ],
])('%s: reported together, before any AWS call', async (_, bad, fragments) => {
  const image = await layout();
  w.aws.opLog.clear();
  const run = await release({ repository, 'oci-layout': image.dir, cluster, service: 'web', ...bad });
  expect(run.exitCode).toBe(1);
  expect(run.errors).toHaveLength(1);
  for (const fragment of fragments) expect(run.errors[0]).toContain(fragment);
  expect(w.aws.opLog.entries()).toEqual([]);
  expect(run.outputs).toEqual({});
  expect(run.summary).toContain('The inputs are not valid: nothing was called or changed in AWS.');
  for (const fragment of fragments) expect(run.summary).toContain(fragment.replace(/"/g, '&quot;'));
});
