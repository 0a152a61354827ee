// PR preview environments end to end (issue 14): dist/ecs-deploy-fargate with `preview` against
// local-aws (ECS, ELBv2, EC2 on a 60× clock) and local-github (GitHub's REST API, its answers
// checked against GitHub's OpenAPI description in its own tests), run as a pull_request workflow
// run is: GITHUB_API_URL, the event payload, a GITHUB_TOKEN-like installation token.
import { DescribeNetworkInterfacesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateListenerCommand,
  CreateRuleCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  DescribeTasksCommand,
  ListServicesCommand,
  ListTagsForResourceCommand,
  ListTasksCommand,
  TagResourceCommand,
} from '@aws-sdk/client-ecs';
import { jest } from '@jest/globals';
import { defaultNetwork } from '@aws-containers/local-aws';
import { startLocalGitHub, type LocalGitHub } from '@aws-containers/local-github';
import { localAwsEnv, runAction, type ActionRun } from './helpers/action-runner.js';
import { SUBNET, startEcsWorld, taskDefinition, type EcsWorld } from './helpers/ecs-deploy.js';
import { refusedCalls } from './helpers/policies.js';
// Only to know which priority the racing test must take first (the hash is the action's own).
import { previewNames } from '../actions/ecs-deploy-fargate/src/preview.js';

jest.setTimeout(120_000);

const CLUSTER = 'previews';
const DOMAIN = 'preview.acme.dev';
const TOKEN = 'ghs_previewtoken000000000000000000000000';
const READ_ONLY = 'ghs_readonly00000000000000000000000000000';
const shaOf = (n: number, round = 0) =>
  `${String(n).padStart(4, '0')}${String(round).padStart(4, '0')}${'c'.repeat(32)}`;

let w: EcsWorld;
let gh: LocalGitHub;
let elb: ElasticLoadBalancingV2Client;
let listenerArn: string;
let baseTargetGroupArn: string;
let image: string;

beforeAll(async () => {
  [w, gh] = await Promise.all([
    startEcsWorld(60),
    startLocalGitHub({
      tokens: [
        {
          token: TOKEN,
          login: 'github-actions[bot]',
          type: 'Bot',
          permissions: { pull_requests: 'write', issues: 'write', deployments: 'write', contents: 'read' },
        },
        {
          token: READ_ONLY,
          login: 'github-actions[bot]',
          type: 'Bot',
          permissions: { pull_requests: 'read', issues: 'read', deployments: 'read', contents: 'read' },
        },
      ],
    }),
  ]);
  await w.createCluster(CLUSTER);
  elb = new ElasticLoadBalancingV2Client({
    endpoint: w.aws.endpoint,
    region: w.aws.region,
    credentials: w.aws.credentials,
  });
  const net = defaultNetwork();
  const group = await elb.send(
    new CreateTargetGroupCommand({
      Name: 'web',
      Protocol: 'HTTP',
      Port: 8080,
      VpcId: net.vpcId,
      TargetType: 'ip',
      HealthCheckPath: '/healthz',
      HealthCheckIntervalSeconds: 10,
    }),
  );
  baseTargetGroupArn = group.TargetGroups![0]!.TargetGroupArn!;
  const lb = await elb.send(
    new CreateLoadBalancerCommand({ Name: 'web', Subnets: net.subnetIds.slice(0, 2) }),
  );
  const listener = await elb.send(
    new CreateListenerCommand({
      LoadBalancerArn: lb.LoadBalancers![0]!.LoadBalancerArn!,
      Protocol: 'HTTP',
      Port: 80,
      DefaultActions: [{ Type: 'forward', TargetGroupArn: baseTargetGroupArn }],
    }),
  );
  listenerArn = listener.Listeners![0]!.ListenerArn!;
  image = await w.push('preview/web', 'main');
  const base = await w.deploy({
    cluster: CLUSTER,
    service: 'web',
    'task-definition': taskDefinition('web', [
      { name: 'app', image, portMappings: [{ containerPort: 8080 }] },
    ]),
    'create-service': 'true',
    subnets: SUBNET,
    'load-balancer': `${baseTargetGroupArn} app:8080`,
  });
  if (base.exitCode !== 0) throw new Error(`the base service: ${base.errors.join('\n')}`);
});
// Each run signed with a key held to the published policies: nothing it called may have been refused.
afterEach(() => expect(refusedCalls(w.aws)).toEqual([]));
afterAll(async () => {
  elb?.destroy();
  await Promise.all([w?.stop(), gh?.stop()]);
});

/** A pull_request run of acme/app for PR `n` at `sha`, with `preview` inputs. */
function preview(
  n: number,
  sha: string,
  inputs: Record<string, string>,
  options: { action?: string; fork?: boolean; token?: string } = {},
): Promise<ActionRun> {
  gh.setPullRequest('acme', 'app', n, {
    state: options.action === 'closed' ? 'closed' : 'open',
    headSha: sha,
    headRef: `feature-${n}`,
    fork: options.fork ?? false,
  });
  return runAction('ecs-deploy-fargate', {
    inputs: {
      cluster: CLUSTER,
      'preview-base-service': 'web',
      'poll-interval': '1s',
      'github-token': options.token ?? TOKEN,
      'preview-ttl': '72h',
      'max-previews': '10',
      ...inputs,
    },
    env: {
      ...localAwsEnv(w.aws, 'ecs-deploy-fargate'),
      GITHUB_API_URL: gh.url,
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: 'acme/app',
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_REF: `refs/pull/${n}/merge`,
      GITHUB_SHA: 'f'.repeat(40),
      GITHUB_RUN_ID: '4242',
    },
    event: {
      action: options.action ?? 'synchronize',
      number: n,
      pull_request: {
        number: n,
        head: { sha, ref: `feature-${n}`, repo: { full_name: options.fork ? 'someone/app' : 'acme/app' } },
        base: { ref: 'main', repo: { full_name: 'acme/app' } },
      },
      repository: { full_name: 'acme/app', default_branch: 'main' },
    },
    timeoutMs: 90_000,
  });
}

const albInputs = (extra: Record<string, string> = {}) => ({
  preview: 'deploy',
  'listener-arn': listenerArn,
  'preview-domain': DOMAIN,
  ...extra,
});

async function hostRules(): Promise<Array<{ host: string; priority: string; targetGroupArn: string }>> {
  const rules = (await elb.send(new DescribeRulesCommand({ ListenerArn: listenerArn }))).Rules ?? [];
  return rules
    .filter((r) => !r.IsDefault)
    .map((r) => ({
      host: r.Conditions?.[0]?.HostHeaderConfig?.Values?.[0] ?? '',
      priority: r.Priority ?? '',
      targetGroupArn: r.Actions?.[0]?.TargetGroupArn ?? '',
    }));
}

const previewServices = async () =>
  ((await w.ecs.send(new ListServicesCommand({ cluster: CLUSTER }))).serviceArns ?? [])
    .map((a) => a.split('/').pop()!)
    .filter((n) => n.includes('-pr-'))
    .sort();

test('alb: a preview behind its own host rule; a re-run changes nothing; a new commit rolls it; the comment and deployment say so', async () => {
  const first = await preview(7, shaOf(7), albInputs({ image }));
  expect({ exitCode: first.exitCode, errors: first.errors }).toEqual({ exitCode: 0, errors: [] });
  expect(first.outputs).toMatchObject({
    'preview-state': 'CREATED',
    'preview-url': `http://pr-7.${DOMAIN}`,
    'rollout-state': 'COMPLETED',
  });
  expect(first.summary).toContain('Preview deploy: web-pr-7');
  expect(first.summary).toContain(`http://pr-7.${DOMAIN}`);
  const service = await w.service(CLUSTER, 'web-pr-7');
  const rules = await hostRules();
  expect(rules.map((r) => r.host)).toEqual([`pr-7.${DOMAIN}`]);
  expect(Number(rules[0]!.priority)).toBeGreaterThanOrEqual(40_000);
  expect(service.loadBalancers?.[0]?.targetGroupArn).toBe(rules[0]!.targetGroupArn);
  const [group] =
    (await elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [rules[0]!.targetGroupArn] })))
      .TargetGroups ?? [];
  expect(group).toMatchObject({ TargetType: 'ip', HealthCheckPath: '/healthz', Port: 8080 });
  expect(group!.TargetGroupName).toMatch(/^pv-7-[0-9a-f]{8}$/);
  const health = await elb.send(
    new DescribeTargetHealthCommand({ TargetGroupArn: rules[0]!.targetGroupArn }),
  );
  expect(health.TargetHealthDescriptions?.map((d) => d.TargetHealth?.State)).toEqual(['healthy']);
  const tagged = await w.ecs.send(new ListTagsForResourceCommand({ resourceArn: service.serviceArn! }));
  const tags = Object.fromEntries((tagged.tags ?? []).map((t) => [t.key, t.value]));
  expect(tags).toMatchObject({
    'aws-containers:preview': 'true',
    'aws-containers:repository': 'acme/app',
    'aws-containers:pr': '7',
    'aws-containers:commit': shaOf(7),
  });
  let state = gh.state();
  expect(state.comments).toHaveLength(1);
  expect(state.comments[0]!.body).toContain('<!-- aws-containers:preview web-pr-7 -->');
  expect(state.comments[0]!.body).toContain(`http://pr-7.${DOMAIN}`);
  expect(state.deployments.map((d) => [d.environment, d.sha, d.transientEnvironment])).toEqual([
    ['preview/web-pr-7', shaOf(7), true],
  ]);
  const statuses = state.statuses[String(state.deployments[0]!.id)]!;
  expect(statuses.map((s) => [s.state, s.environmentUrl])).toEqual([['success', `http://pr-7.${DOMAIN}`]]);

  // The same commit again: nothing new in AWS, nothing new on GitHub.
  const from = w.mark();
  const githubFrom = gh.requests().length;
  const again = await preview(7, shaOf(7), albInputs({ image }));
  expect(again.exitCode).toBe(0);
  expect(again.outputs['preview-state']).toBe('SKIPPED');
  expect(w.ecsCalls(from).filter((op) => /^(Create|Update|Register|Delete)/.test(op))).toEqual([]);
  expect(await hostRules()).toEqual(rules);
  expect(
    gh
      .requests()
      .slice(githubFrom)
      .filter((r) => r.method !== 'GET'),
  ).toEqual([]);

  // A new commit (a new image): the preview rolls like any deploy.
  const next = await w.push('preview/web', 'pr-7-2');
  const rolled = await preview(7, shaOf(7, 2), albInputs({ image: next }));
  expect(rolled.exitCode).toBe(0);
  expect(rolled.outputs['preview-state']).toBe('UPDATED');
  expect((await w.service(CLUSTER, 'web-pr-7')).taskDefinition).toBe(rolled.outputs['task-definition-arn']);
  state = gh.state();
  expect(state.comments).toHaveLength(1);
  expect(state.comments[0]!.body).toContain(shaOf(7, 2));
});

test('teardown removes the service, rule, target group and revisions in order; a second teardown finds them gone', async () => {
  const made = await preview(8, shaOf(8), albInputs({ image }));
  expect(made.exitCode).toBe(0);
  const groupName = (await hostRules()).find((r) => r.host === `pr-8.${DOMAIN}`)!.targetGroupArn;
  const down = await preview(
    8,
    shaOf(8),
    { preview: 'teardown', 'listener-arn': listenerArn, 'preview-domain': DOMAIN },
    { action: 'closed' },
  );
  expect({ exitCode: down.exitCode, errors: down.errors }).toEqual({ exitCode: 0, errors: [] });
  expect(down.outputs['preview-state']).toBe('DELETED');
  expect(down.summary).toContain('Preview teardown: web-pr-8');
  expect(down.summary).toMatch(/service web-pr-8.*removed/s);
  expect(await previewServices()).not.toContain('web-pr-8');
  expect((await hostRules()).map((r) => r.host)).not.toContain(`pr-8.${DOMAIN}`);
  await expect(elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [groupName] }))).rejects.toThrow();
  expect(await w.revisions('web-pr-8', 'ACTIVE')).toEqual([]);
  const state = gh.state();
  const deployment = state.deployments.find((d) => d.environment === 'preview/web-pr-8')!;
  expect(state.statuses[String(deployment.id)]!.at(-1)!.state).toBe('inactive');
  expect(state.comments.find((c) => c.body.includes('web-pr-8'))!.body).toContain('torn down');

  const twice = await preview(
    8,
    shaOf(8),
    { preview: 'teardown', 'listener-arn': listenerArn, 'preview-domain': DOMAIN },
    { action: 'closed' },
  );
  expect(twice.exitCode).toBe(0);
  expect(twice.outputs['preview-state']).toBe('SKIPPED');
  expect(twice.stdout).toMatch(/service web-pr-8: already gone/);
  expect(twice.stdout).toMatch(/target group pv-8-[0-9a-f]{8}: already gone/);
});

test('a teardown that fails part way says what remains; the next one finishes the job', async () => {
  expect((await preview(22, shaOf(22), albInputs({ image }))).exitCode).toBe(0);
  const teardown = { preview: 'teardown', 'listener-arn': listenerArn, 'preview-domain': DOMAIN };
  w.aws.faults.arm({
    kind: 'internal-error',
    service: 'elasticloadbalancing',
    operation: 'DeleteTargetGroup',
    code: 'ResourceInUse',
    status: 400,
    message: 'Target group is currently in use by a listener or a rule',
    count: 1,
  });
  const failed = await preview(22, shaOf(22), teardown, { action: 'closed' });
  expect(failed.exitCode).toBe(1);
  expect(failed.errors.join('\n')).toContain('Target group is currently in use');
  expect(failed.stdout).toMatch(/^service web-pr-22: removed$/m);
  expect(failed.stdout).toMatch(/^rule pr-22\.preview\.acme\.dev: removed$/m);
  expect(failed.stdout).toMatch(/^target group pv-22-[0-9a-f]{8}: remains$/m);
  expect(failed.stdout).toMatch(/^task definition revisions of web-pr-22: remains$/m);
  expect(failed.summary).toMatch(/target group pv-22-[0-9a-f]{8}.*remains/s);

  const finished = await preview(22, shaOf(22), teardown, { action: 'closed' });
  expect({ exitCode: finished.exitCode, errors: finished.errors }).toEqual({ exitCode: 0, errors: [] });
  expect(finished.stdout).toMatch(/^service web-pr-22: already gone$/m);
  expect(finished.stdout).toMatch(/^target group pv-22-[0-9a-f]{8}: removed$/m);
  expect(finished.stdout).toMatch(/^task definition revisions of web-pr-22: removed$/m);
  expect(await w.revisions('web-pr-22', 'ACTIVE')).toEqual([]);
});

test('a pull request from a fork is skipped with a notice: nothing created, nothing written', async () => {
  const from = w.mark();
  const before = gh.requests().length;
  const run = await preview(9, shaOf(9), albInputs({ image }), { fork: true, token: READ_ONLY });
  expect(run.exitCode).toBe(0);
  expect(run.outputs['preview-state']).toBe('SKIPPED');
  expect(run.stdout).toMatch(/^::notice::pull request #9 comes from a fork/m);
  expect(w.ecsCalls(from)).toEqual([]);
  expect(gh.requests().length).toBe(before);
});

test('a token that may not write: the preview is up, and warnings name the permissions GitHub refused', async () => {
  const run = await preview(21, shaOf(21), { preview: 'deploy', image }, { token: READ_ONLY });
  expect({ exitCode: run.exitCode, errors: run.errors }).toEqual({ exitCode: 0, errors: [] });
  expect(run.outputs['preview-state']).toBe('CREATED');
  const warnings = run.stdout.split('\n').filter((l) => l.startsWith('::warning::'));
  expect(warnings).toEqual([
    '::warning::GitHub refused the comment (403): give the job `permissions: pull-requests: write`',
    '::warning::GitHub refused the deployment (403): give the job `permissions: deployments: write`',
  ]);
  expect(run.summary).toContain('GitHub refused the comment (403)');
  expect(gh.state().comments.some((c) => c.body.includes('web-pr-21'))).toBe(false);
});

test('two previews at once each get their host rule; one refused PriorityInUse by a racing rule reads the rules again and takes the next free priority', async () => {
  // PR 11's CreateRule is held 2 s; meanwhile someone else takes the priority it chose.
  const fault = w.aws.faults.arm({
    kind: 'latency',
    service: 'elasticloadbalancing',
    operation: 'CreateRule',
    latencyMs: 2000,
    count: 1,
  });
  const racing = preview(11, shaOf(11), albInputs({ image }));
  const deadline = Date.now() + 30_000;
  while (w.aws.faults.list().find((f) => f.id === fault.id)?.hits === 0) {
    if (Date.now() > deadline) throw new Error('the CreateRule was never held');
    await new Promise((r) => setTimeout(r, 20));
  }
  // Which priority the held call asked for: the one PR 11's names hash to, unless it was taken.
  const taken = previewNames(CLUSTER, 'web', 11, DOMAIN).priority;
  await elb.send(
    new CreateRuleCommand({
      ListenerArn: listenerArn,
      Priority: taken,
      Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: [`team.${DOMAIN}`] } }],
      Actions: [{ Type: 'forward', TargetGroupArn: baseTargetGroupArn }],
    }),
  );
  // PR 12 starts while PR 11 is still in flight.
  const parallel = preview(12, shaOf(12), albInputs({ image }));
  const [first, second] = await Promise.all([racing, parallel]);
  expect({ exitCode: first.exitCode, errors: first.errors }).toEqual({ exitCode: 0, errors: [] });
  expect({ exitCode: second.exitCode, errors: second.errors }).toEqual({ exitCode: 0, errors: [] });
  expect(first.stdout).toContain(`priority ${taken} was taken meanwhile; reading the rules again`);
  const rules = await hostRules();
  const priorityOf = (host: string) => rules.find((r) => r.host === host)?.priority;
  expect(priorityOf(`team.${DOMAIN}`)).toBe(String(taken));
  expect(priorityOf(`pr-11.${DOMAIN}`)).not.toBe(String(taken));
  expect(priorityOf(`pr-11.${DOMAIN}`)).toBeDefined();
  expect(priorityOf(`pr-12.${DOMAIN}`)).toBeDefined();
  expect(new Set(rules.map((r) => r.priority)).size).toBe(rules.length);
});

test('max-previews reached: a new preview is refused with the list of live ones, and nothing is created', async () => {
  const live = await previewServices();
  const from = w.mark();
  const elbFrom = w.aws.opLog.entries({ service: 'elasticloadbalancing' }).length;
  const run = await preview(14, shaOf(14), albInputs({ image, 'max-previews': String(live.length) }));
  expect(run.exitCode).toBe(1);
  expect(run.errors[0]).toContain(`max-previews is ${live.length} and ${live.length} previews are live:`);
  for (const name of live) expect(run.errors[0]).toContain(name);
  expect(w.ecsCalls(from).filter((op) => !/^(Describe|List)/.test(op))).toEqual([]);
  expect(
    w.aws.opLog
      .entries({ service: 'elasticloadbalancing' })
      .slice(elbFrom)
      .filter((e) => !/^Describe/.test(e.operation)),
  ).toEqual([]);
  // An existing preview is still updated at the limit.
  const update = await preview(
    7,
    shaOf(7, 2),
    albInputs({ image: `${w.host}/preview/web:pr-7-2`, 'max-previews': String(live.length) }),
  );
  expect(update.exitCode).toBe(0);
});

test('public-ip and none: the URL is the task public IP read through its ENI, or none at all', async () => {
  const run = await preview(15, shaOf(15), { preview: 'deploy', 'preview-routing': 'public-ip', image });
  expect({ exitCode: run.exitCode, errors: run.errors }).toEqual({ exitCode: 0, errors: [] });
  const service = await w.service(CLUSTER, 'web-pr-15');
  expect(service.networkConfiguration?.awsvpcConfiguration?.assignPublicIp).toBe('ENABLED');
  const [taskArn] =
    (await w.ecs.send(new ListTasksCommand({ cluster: CLUSTER, serviceName: 'web-pr-15' }))).taskArns ?? [];
  const [task] =
    (await w.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [taskArn!] }))).tasks ?? [];
  const eni = task!.attachments![0]!.details!.find((d) => d.name === 'networkInterfaceId')!.value!;
  const ec2 = new EC2Client({
    endpoint: w.aws.endpoint,
    region: w.aws.region,
    credentials: w.aws.credentials,
  });
  try {
    const ni = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eni] }));
    const ip = ni.NetworkInterfaces![0]!.Association!.PublicIp!;
    expect(run.outputs['preview-url']).toBe(`http://${ip}:8080`);
  } finally {
    ec2.destroy();
  }

  const none = await preview(16, shaOf(16), { preview: 'deploy', image });
  expect({ exitCode: none.exitCode, errors: none.errors }).toEqual({ exitCode: 0, errors: [] });
  expect(none.outputs['preview-state']).toBe('CREATED');
  expect(none.outputs['preview-url'] ?? '').toBe('');
  expect(gh.state().comments.find((c) => c.body.includes('web-pr-16'))!.body).toContain('no URL');
});

test('teardown after a half-failed deploy removes what the deploy left', async () => {
  const broken = await preview(
    17,
    shaOf(17),
    albInputs({ image: await w.missing('preview/web', 'never-pushed') }),
  );
  expect(broken.exitCode).toBe(1);
  expect(broken.outputs['rollout-state']).toBe('FAILED');
  expect(gh.state().comments.find((c) => c.body.includes('web-pr-17'))!.body).toContain('failed');
  const down = await preview(
    17,
    shaOf(17),
    { preview: 'teardown', 'listener-arn': listenerArn, 'preview-domain': DOMAIN },
    { action: 'closed' },
  );
  expect({ exitCode: down.exitCode, errors: down.errors }).toEqual({ exitCode: 0, errors: [] });
  expect(down.outputs['preview-state']).toBe('DELETED');
  expect(await previewServices()).not.toContain('web-pr-17');
  expect((await hostRules()).map((r) => r.host)).not.toContain(`pr-17.${DOMAIN}`);
  expect(await w.revisions('web-pr-17', 'ACTIVE')).toEqual([]);
});

test('sweep tears down the preview whose TTL has passed and the one whose PR is closed, and keeps the rest', async () => {
  for (const n of [18, 19]) expect((await preview(n, shaOf(n), albInputs({ image }))).exitCode).toBe(0);
  // PR 18 is closed (its teardown never ran); PR 19's expiry has passed.
  gh.setPullRequest('acme', 'app', 18, { state: 'closed', headSha: shaOf(18) });
  const nineteen = await w.service(CLUSTER, 'web-pr-19');
  await w.ecs.send(
    new TagResourceCommand({
      resourceArn: nineteen.serviceArn!,
      tags: [{ key: 'aws-containers:expires-at', value: '2020-01-01T00:00:00.000Z' }],
    }),
  );
  const before = await previewServices();
  const run = await runAction('ecs-deploy-fargate', {
    inputs: {
      cluster: CLUSTER,
      preview: 'sweep',
      'preview-base-service': 'web',
      'listener-arn': listenerArn,
      'preview-domain': DOMAIN,
      'github-token': TOKEN,
      'poll-interval': '1s',
    },
    env: {
      ...localAwsEnv(w.aws, 'ecs-deploy-fargate'),
      GITHUB_API_URL: gh.url,
      GITHUB_REPOSITORY: 'acme/app',
      GITHUB_EVENT_NAME: 'schedule',
      GITHUB_REF: 'refs/heads/main',
      GITHUB_SHA: 'f'.repeat(40),
    },
    event: { schedule: '0 3 * * *', repository: { full_name: 'acme/app', default_branch: 'main' } },
    timeoutMs: 90_000,
  });
  expect({ exitCode: run.exitCode, errors: run.errors }).toEqual({ exitCode: 0, errors: [] });
  expect(run.outputs['preview-state']).toBe('DELETED');
  expect(run.stdout).toContain('Tear down web-pr-18 (pull request #18 is closed)');
  expect(run.stdout).toContain('Tear down web-pr-19 (its TTL ended at 2020-01-01T00:00:00.000Z)');
  const after = await previewServices();
  expect(after).toEqual(before.filter((s) => s !== 'web-pr-18' && s !== 'web-pr-19'));
  expect(after).toContain('web-pr-7');
});

test('bad inputs: every problem at once, before any call to AWS or GitHub', async () => {
  const awsFrom = w.aws.opLog.entries().length;
  const ghFrom = gh.requests().length;
  const run = await preview(20, shaOf(20), {
    preview: 'deploy',
    service: 'web',
    'listener-arn': 'arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/web/1',
    'preview-ttl': 'soon',
    'max-previews': '0',
  });
  expect(run.exitCode).toBe(1);
  const text = run.errors.join('\n');
  for (const input of ['service', 'listener-arn', 'preview-domain', 'preview-ttl', 'max-previews']) {
    expect(text).toContain(`Input "${input}"`);
  }
  expect(w.aws.opLog.entries().slice(awsFrom)).toEqual([]);
  expect(gh.requests().slice(ghFrom)).toEqual([]);
});
