// The published IAM policies (policies/*.json), proven on local-aws, which evaluates them as IAM
// does. Each scenario runs an action from dist/ under a key that holds exactly the documents its
// inputs call for, rendered for the scenario's own resources (the repository, the cluster and
// service, the task definition family, the task and execution roles): the action must do its work,
// and the op log must show no call of that key refused. Then every IAM action a document names
// must have been evaluated, and allowed, for a scenario that used the document: the policies are
// sufficient and minimal. The task and execution roles exist in local-aws's IAM (trusting ECS tasks;
// the execution role with AmazonECSTaskExecutionRolePolicy and the right to read the scenarios'
// secret and parameter), so that the deploys' preflight reads them and their tasks start as on AWS.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { jest } from '@jest/globals';
import { CreateRepositoryCommand, ECRClient } from '@aws-sdk/client-ecr';
import { TagResourceCommand } from '@aws-sdk/client-ecs';
import { CloudWatchLogsClient, CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  IAMClient,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { buildOciLayout, defaultNetwork, type OciLayout } from '@aws-containers/local-aws';
import { pushToMain, repoRoot, runAction, type ActionRun } from './helpers/action-runner.js';
import { SUBNET, startEcsWorld, taskDefinition, type EcsWorld } from './helpers/ecs-deploy.js';
import {
  actionsNamed,
  keyWithPolicies,
  policiesFor,
  policyNames,
  readPolicy,
  refusals,
  type PolicyAction,
  type PolicyValues,
} from './helpers/policies.js';
import { requirePodman, startPodman, type PodmanService } from './helpers/podman.js';
import { createActiveCluster, grantClusterAccess } from './helpers/eks.js';

jest.setTimeout(120_000);

let w: EcsWorld;
let ecr: ECRClient;
const layouts: OciLayout[] = [];
let engine: PodmanService | undefined;
const withEngine = requirePodman();

/** Document → the IAM actions (lower case) allowed for scenarios that ran under it. */
const used = new Map<string, Set<string>>();
/** Documents whose only scenarios were skipped (a missing tool, outside CI): not provable here. */
const unproven = new Set<string>();

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const TASK_ROLE = role('policy-app-task');
const EXECUTION_ROLE = role('policy-app-execution');
/** ECR's own host for this account's registry: preflight asks ECR about images named so. */
const ECR_HOST = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`;
/** The SSM parameter and log group the rich task definitions name; the secret's ARN is made in beforeAll. */
const PARAMETER = '/policy/api-key';
const LOG_GROUP = '/ecs/policy';
let secretArn = '';

/**
 * The task and execution roles (trusting ECS tasks), the secret, the parameter and the log group
 * the rich task definitions name; the execution role may pull, log and read the secret and parameter.
 */
async function createTaskResources(): Promise<void> {
  const config = { endpoint: w.aws.endpoint, region: w.aws.region, credentials: w.aws.credentials };
  const iam = new IAMClient(config);
  const secrets = new SecretsManagerClient(config);
  const ssm = new SSMClient(config);
  const logs = new CloudWatchLogsClient(config);
  try {
    const trust = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ],
    });
    for (const arn of [TASK_ROLE, EXECUTION_ROLE]) {
      await iam.send(
        new CreateRoleCommand({
          RoleName: arn.slice(arn.lastIndexOf('/') + 1),
          AssumeRolePolicyDocument: trust,
        }),
      );
    }
    const secret = await secrets.send(
      new CreateSecretCommand({ Name: 'policy/db-password', SecretString: 'hunter2' }),
    );
    secretArn = secret.ARN!;
    await ssm.send(new PutParameterCommand({ Name: PARAMETER, Value: 'k-123', Type: 'SecureString' }));
    await logs.send(new CreateLogGroupCommand({ logGroupName: LOG_GROUP }));
    await iam.send(
      new AttachRolePolicyCommand({
        RoleName: 'policy-app-execution',
        PolicyArn: 'arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy',
      }),
    );
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: 'policy-app-execution',
        PolicyName: 'read-the-secrets',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: secretArn },
            {
              Effect: 'Allow',
              Action: 'ssm:GetParameters',
              Resource: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${PARAMETER}`,
            },
          ],
        }),
      }),
    );
  } finally {
    iam.destroy();
    secrets.destroy();
    ssm.destroy();
    logs.destroy();
  }
}

/**
 * A container that raises every question of preflight: its image named in ECR's host form, a
 * Secrets Manager secret and an SSM parameter among its secrets, awslogs to an existing group.
 */
const richContainer = (image: string, extra: Record<string, unknown> = {}) => ({
  name: 'app',
  image: image.replace(w.host, ECR_HOST),
  secrets: [
    { name: 'DB_PASSWORD', valueFrom: secretArn },
    { name: 'API_KEY', valueFrom: PARAMETER },
  ],
  logConfiguration: {
    logDriver: 'awslogs',
    options: { 'awslogs-group': LOG_GROUP, 'awslogs-region': REGION, 'awslogs-stream-prefix': 'ecs' },
  },
  ...extra,
});

beforeAll(async () => {
  w = await startEcsWorld(60);
  ecr = new ECRClient({ endpoint: w.aws.endpoint, region: w.aws.region, credentials: w.aws.credentials });
  expect({ account: w.aws.accountId, region: w.aws.region }).toEqual({ account: ACCOUNT, region: REGION });
  await w.createCluster('policy');
  await createTaskResources();
  for (const name of ['policy/push', 'policy/settings', 'policy/prod', 'policy/scan', 'policy/release']) {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
  }
  // An EKS cluster for eks-rollout and the root action's EKS target.
  await createActiveCluster(w.aws, 'policy-eks');
  // Services that exist before the scenarios, made with local-aws's unrestricted key.
  const image = await w.push('policy/base', 'v1');
  for (const [service, family] of [
    ['web', 'policy-web'],
    ['release', 'policy-release'],
  ]) {
    const made = await w.deploy({
      cluster: 'policy',
      service: service!,
      'task-definition': taskDefinition(family!, [{ name: 'app', image }]),
      'create-service': 'true',
      subnets: SUBNET,
    });
    expect(made.errors).toEqual([]);
  }
  // A base service behind an ALB listener, for the PR preview scenarios.
  const elb = new ElasticLoadBalancingV2Client({
    endpoint: w.aws.endpoint,
    region: w.aws.region,
    credentials: w.aws.credentials,
  });
  try {
    const net = defaultNetwork();
    const group = await elb.send(
      new CreateTargetGroupCommand({
        Name: 'pvbase',
        Protocol: 'HTTP',
        Port: 8080,
        VpcId: net.vpcId,
        TargetType: 'ip',
      }),
    );
    const lb = await elb.send(
      new CreateLoadBalancerCommand({ Name: 'policy-lb', Subnets: net.subnetIds.slice(0, 2) }),
    );
    const listener = await elb.send(
      new CreateListenerCommand({
        LoadBalancerArn: lb.LoadBalancers![0]!.LoadBalancerArn!,
        Protocol: 'HTTP',
        Port: 80,
        DefaultActions: [{ Type: 'forward', TargetGroupArn: group.TargetGroups![0]!.TargetGroupArn! }],
      }),
    );
    previewListenerArn = listener.Listeners![0]!.ListenerArn!;
    const base = await w.deploy({
      cluster: 'policy',
      service: 'pvbase',
      'task-definition': taskDefinition(
        'pvbase',
        [richContainer(image, { portMappings: [{ containerPort: 8080 }] })],
        {
          taskRoleArn: TASK_ROLE,
          executionRoleArn: EXECUTION_ROLE,
        },
      ),
      'create-service': 'true',
      subnets: SUBNET,
      'load-balancer': `${group.TargetGroups![0]!.TargetGroupArn!} app:8080`,
    });
    expect(base.errors).toEqual([]);
  } finally {
    elb.destroy();
  }
}, 120_000);

let previewListenerArn = '';
const previewValues = {
  cluster: 'policy',
  'base-service': 'pvbase',
  'load-balancer': 'policy-lb',
  'task-role-arn': TASK_ROLE,
  'execution-role-arn': EXECUTION_ROLE,
};

afterAll(async () => {
  ecr?.destroy();
  await engine?.stop();
  await w?.stop();
  await Promise.all(layouts.map((l) => l.cleanup()));
}, 30_000);

async function layout(): Promise<OciLayout> {
  const built = await buildOciLayout({ layers: [{ size: 4096 }] });
  layouts.push(built);
  return built;
}

interface Scenario {
  name: string;
  action: PolicyAction;
  features: string[];
  values: Omit<PolicyValues, 'region' | 'account-id'>;
  inputs: () => Promise<Record<string, string>>;
  env?: () => Record<string, string>;
  /** What the run must show besides no refusal. */
  check: (run: ActionRun) => void;
  needsEngine?: boolean;
  /** What the scenario's key needs besides IAM (an EKS access entry). */
  prepare?: (principalArn: string) => Promise<void>;
}

const succeeded = (run: ActionRun) =>
  expect({ exitCode: run.exitCode, errors: run.errors }).toEqual({ exitCode: 0, errors: [] });

const tdFile = (family: string, image: string) =>
  w.file(
    `${family}.json`,
    taskDefinition(family, [{ name: 'app', image }], {
      taskRoleArn: TASK_ROLE,
      executionRoleArn: EXECUTION_ROLE,
    }),
  );

const ecsValues = (service: string, family: string) => ({
  cluster: 'policy',
  service,
  family,
  'task-role-arn': TASK_ROLE,
  'execution-role-arn': EXECUTION_ROLE,
});

/** The repository settings that need more than CreateRepository: tags, a lifecycle and a repository policy. */
const REPOSITORY_SETTINGS = {
  'repository-tags': 'team=platform',
  'lifecycle-keep-last': '10',
  'repository-policy': JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'pull',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
        Action: 'ecr:BatchGetImage',
      },
    ],
  }),
};

const SCENARIOS: Scenario[] = [
  // ---- ecr-push ---------------------------------------------------------------------------------
  {
    name: 'ecr-push: an OCI layout pushed to an existing repository',
    action: 'ecr-push',
    features: [],
    values: { repository: 'policy/push' },
    inputs: async () => ({ repository: 'policy/push', 'oci-layout': (await layout()).dir }),
    check: (run) => {
      succeeded(run);
      expect(run.outputs.pushed).toBe('true');
    },
  },
  {
    name: 'ecr-push: create-repository with tags, a lifecycle policy and a repository policy',
    action: 'ecr-push',
    features: ['create-repository'],
    values: { repository: 'policy/created' },
    inputs: async () => ({
      repository: 'policy/created',
      'create-repository': 'true',
      ...REPOSITORY_SETTINGS,
      'oci-layout': (await layout()).dir,
    }),
    check: succeeded,
  },
  {
    name: 'ecr-push: update-repository-settings on an existing repository',
    action: 'ecr-push',
    features: ['update-repository-settings'],
    values: { repository: 'policy/settings' },
    inputs: async () => ({
      repository: 'policy/settings',
      'update-repository-settings': 'true',
      'image-tag-mutability': 'IMMUTABLE',
      'scan-on-push': 'true',
      ...REPOSITORY_SETTINGS,
      'oci-layout': (await layout()).dir,
    }),
    check: succeeded,
  },
  {
    name: 'ecr-push: skip-if-exists finds every tag and pushes nothing',
    action: 'ecr-push',
    features: ['skip-if-exists'],
    values: { repository: 'policy/push' },
    inputs: async () => ({
      repository: 'policy/push',
      'oci-layout': (await layout()).dir,
      'skip-if-exists': 'true',
    }),
    check: (run) => {
      succeeded(run);
      expect(run.outputs.pushed).toBe('false');
    },
  },
  {
    name: 'ecr-push: promote-from a tag of the same repository',
    action: 'ecr-push',
    features: ['promote-from'],
    values: { repository: 'policy/push', 'source-repository': 'policy/push' },
    inputs: async () => ({ repository: 'policy/push', 'promote-from': 'sha-0123456', tags: 'raw:release' }),
    check: succeeded,
  },
  {
    name: 'ecr-push: promote-from another repository',
    action: 'ecr-push',
    features: ['promote-from'],
    values: { repository: 'policy/prod', 'source-repository': 'policy/push' },
    inputs: async () => ({
      repository: 'policy/prod',
      'promote-from': 'policy/push:sha-0123456',
      tags: 'raw:v1',
    }),
    check: succeeded,
  },
  {
    name: 'ecr-push: scan: wait starts the scan of a repository that does not scan on push, and gates on it',
    action: 'ecr-push',
    features: ['scan: wait'],
    values: { repository: 'policy/scan' },
    inputs: async () => ({
      repository: 'policy/scan',
      'oci-layout': (await layout()).dir,
      scan: 'wait',
      'fail-on-severity': 'CRITICAL',
    }),
    check: (run) => {
      succeeded(run);
      expect(run.outputs['scan-findings']).toMatch(/"CRITICAL":0/);
    },
  },
  {
    name: 'ecr-push: login-registries: public logs docker in to ECR Public (public.ecr.aws is out of reach here)',
    action: 'ecr-push',
    features: ['login-registries: public'],
    values: { repository: 'policy/push' },
    needsEngine: true,
    inputs: async () => ({
      repository: 'policy/push',
      'oci-layout': (await layout()).dir,
      'docker-login': 'true',
      'login-registries': 'public',
    }),
    env: () => ({ ...engine?.env }),
    check: (run) => {
      // Only the docker login to public.ecr.aws itself fails: the token was had.
      expect(run.exitCode).toBe(1);
      expect(run.errors).toEqual([expect.stringContaining('public.ecr.aws')]);
    },
  },
  // ---- ecs-deploy -------------------------------------------------------------------------------
  {
    name: 'ecs-deploy: an existing service updated to a task definition with roles, secrets, awslogs and tags (preflight reads each)',
    action: 'ecs-deploy-fargate',
    features: [],
    values: ecsValues('web', 'policy-web'),
    inputs: async () => ({
      cluster: 'policy',
      service: 'web',
      'task-definition': w.file(
        'policy-web.json',
        taskDefinition('policy-web', [richContainer(await w.push('policy/base', 'v2'))], {
          taskRoleArn: TASK_ROLE,
          executionRoleArn: EXECUTION_ROLE,
        }),
      ),
      tags: 'team=platform',
    }),
    check: (run) => {
      succeeded(run);
      // Each read answered, and nothing found: the roles, image, secrets and log group are right.
      expect(run.stdout).toContain('preflight: nothing to report');
      expect(run.outputs['rollout-state']).toBe('COMPLETED');
    },
  },
  {
    name: 'ecs-deploy: a failing rollout is rolled back',
    action: 'ecs-deploy-fargate',
    features: [],
    values: ecsValues('web', 'policy-web'),
    inputs: async () => ({
      cluster: 'policy',
      service: 'web',
      // Its container logs with awslogs: the step reads a crashed container's last lines (logs:GetLogEvents).
      'task-definition': w.file(
        'policy-web-crash.json',
        taskDefinition(
          'policy-web',
          [
            {
              name: 'app',
              image: await w.push('policy/base', 'crash', { 'local-aws.exit-code': '3' }),
              logConfiguration: {
                logDriver: 'awslogs',
                options: {
                  'awslogs-group': '/ecs/policy',
                  'awslogs-region': REGION,
                  'awslogs-stream-prefix': 'web',
                },
              },
            },
          ],
          { taskRoleArn: TASK_ROLE, executionRoleArn: EXECUTION_ROLE },
        ),
      ),
      'max-failed-tasks': '2',
    }),
    check: (run) => {
      expect({ exitCode: run.exitCode, rolledBack: run.outputs['rolled-back'], errors: run.errors }).toEqual({
        exitCode: 1,
        rolledBack: 'true',
        errors: [expect.stringContaining('exit code 3')],
      });
    },
  },
  {
    name: 'ecs-deploy: create-service',
    action: 'ecs-deploy-fargate',
    features: ['create-service'],
    values: ecsValues('created', 'policy-created'),
    inputs: async () => ({
      cluster: 'policy',
      service: 'created',
      'task-definition': tdFile('policy-created', await w.push('policy/base', 'v1')),
      'create-service': 'true',
      subnets: SUBNET,
    }),
    check: succeeded,
  },
  {
    name: 'ecs-deploy: run-task-before-deploy, stopped when it outlives run-task-timeout',
    action: 'ecs-deploy-fargate',
    features: ['run-task-before-deploy'],
    values: ecsValues('web', 'policy-web'),
    inputs: async () => ({
      cluster: 'policy',
      service: 'web',
      image: await w.push('policy/base', 'v3'),
      'run-task-before-deploy': 'sleep 3600',
      'run-task-timeout': '2s',
    }),
    check: (run) => {
      expect(run.exitCode).toBe(1);
      expect(run.errors).toEqual([
        expect.stringMatching(/^run-task-before-deploy: the task \S+ did not stop within 2 s/),
      ]);
    },
  },
  {
    name: 'ecs-deploy: keep-revisions deregisters the oldest revisions',
    action: 'ecs-deploy-fargate',
    features: ['keep-revisions'],
    values: ecsValues('web', 'policy-web'),
    inputs: async () => ({
      cluster: 'policy',
      service: 'web',
      image: await w.push('policy/base', 'v4'),
      'keep-revisions': '1',
    }),
    check: succeeded,
  },
  // ---- ecs-deploy-fargate: PR previews -----------------------------------------------------------
  {
    name: 'ecs-deploy-fargate: a PR preview behind the ALB (preview: deploy)',
    action: 'ecs-deploy-fargate',
    features: ['preview'],
    values: previewValues,
    inputs: async () => ({
      cluster: 'policy',
      preview: 'deploy',
      'preview-base-service': 'pvbase',
      'pr-number': '5',
      'listener-arn': previewListenerArn,
      'preview-domain': 'preview.acme.dev',
      image: await w.push('policy/base', 'pr-5'),
    }),
    check: (run) => {
      succeeded(run);
      expect(run.outputs['preview-state']).toBe('CREATED');
    },
  },
  {
    name: 'ecs-deploy-fargate: a PR preview on its public IP (preview-routing: public-ip)',
    action: 'ecs-deploy-fargate',
    features: ['preview'],
    values: previewValues,
    inputs: async () => ({
      cluster: 'policy',
      preview: 'deploy',
      'preview-base-service': 'pvbase',
      'pr-number': '6',
      'preview-routing': 'public-ip',
    }),
    check: (run) => {
      succeeded(run);
      expect(run.outputs['preview-url']).toMatch(/^http:\/\/\d+\.\d+\.\d+\.\d+:8080$/);
    },
  },
  {
    name: 'ecs-deploy-fargate: a PR preview torn down (preview: teardown)',
    action: 'ecs-deploy-fargate',
    features: ['preview'],
    values: previewValues,
    inputs: async () => ({
      cluster: 'policy',
      preview: 'teardown',
      'preview-base-service': 'pvbase',
      'pr-number': '5',
      'listener-arn': previewListenerArn,
      'preview-domain': 'preview.acme.dev',
    }),
    check: (run) => {
      succeeded(run);
      expect(run.outputs['preview-state']).toBe('DELETED');
    },
  },
  {
    name: 'ecs-deploy-fargate: an expired PR preview swept (preview: sweep)',
    action: 'ecs-deploy-fargate',
    features: ['preview'],
    values: previewValues,
    inputs: async () => {
      const six = await w.service('policy', 'pvbase-pr-6');
      await w.ecs.send(
        new TagResourceCommand({
          resourceArn: six.serviceArn!,
          tags: [{ key: 'aws-containers:expires-at', value: '2020-01-01T00:00:00.000Z' }],
        }),
      );
      return {
        cluster: 'policy',
        preview: 'sweep',
        'preview-base-service': 'pvbase',
        'listener-arn': previewListenerArn,
        'preview-domain': 'preview.acme.dev',
      };
    },
    check: (run) => {
      succeeded(run);
      expect(run.outputs['preview-state']).toBe('DELETED');
    },
  },
  // ---- eks-rollout ------------------------------------------------------------------------------
  {
    name: 'eks-rollout: manifests applied and followed (Kubernetes rights from an EKS access entry)',
    action: 'eks-rollout',
    features: [],
    values: { cluster: 'policy-eks' },
    prepare: (principalArn) =>
      grantClusterAccess(w.aws, 'policy-eks', principalArn, {
        policy: 'AmazonEKSEditPolicy',
        namespaces: ['default'],
      }),
    inputs: async () => {
      // Named as on AWS, so that the follow asks ECR whether it is there (ecr:DescribeImages);
      // local-aws's pods pull ECR's host form from its own registry. Its pods start a simulated
      // minute late: the rollout must not complete (and end the follow) before ECR is asked.
      const image = (await w.push('policy/base', 'eks-v1', { 'local-aws.start-delay': '60s' })).replace(
        w.host,
        `${w.aws.accountId}.dkr.ecr.${w.aws.region}.amazonaws.com`,
      );
      return {
        cluster: 'policy-eks',
        manifests: w.file(
          'eks-web.yaml',
          `apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: default }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers: [{ name: app, image: ${image} }]
`,
        ),
        timeout: '2m',
      };
    },
    check: (run) => {
      succeeded(run);
      expect(run.outputs['rollout-state']).toBe('COMPLETED');
    },
  },
  // ---- the root action --------------------------------------------------------------------------
  {
    name: 'aws-containers: an OCI layout pushed and set by digest in an EKS Deployment (eks-cluster)',
    action: 'aws-containers',
    features: ['eks-cluster'],
    values: { repository: 'policy/eks-release', cluster: 'policy-eks' },
    prepare: (principalArn) =>
      grantClusterAccess(w.aws, 'policy-eks', principalArn, {
        policy: 'AmazonEKSEditPolicy',
        namespaces: ['default'],
      }),
    inputs: async () => {
      await w.push('policy/eks-release', 'v0');
      return {
        repository: 'policy/eks-release',
        'oci-layout': (await layout()).dir,
        'eks-cluster': 'policy-eks',
        manifests: w.file(
          'eks-release.yaml',
          `apiVersion: apps/v1
kind: Deployment
metadata: { name: release, namespace: default }
spec:
  replicas: 1
  selector: { matchLabels: { app: release } }
  template:
    metadata: { labels: { app: release } }
    spec:
      containers: [{ name: app, image: ${w.host}/policy/eks-release:v0 }]
`,
        ),
        timeout: '2m',
        'docker-login': 'false',
        // The runner's default: poll-interval is ECS's (the scenarios' 1s would be refused).
        'poll-interval': '5s',
      };
    },
    check: (run) => {
      succeeded(run);
      expect(run.outputs['rollout-state']).toBe('COMPLETED');
      expect(run.outputs.applied).toBe('Deployment/default/release');
    },
  },
  {
    name: 'aws-containers: an OCI layout pushed and deployed to an existing service',
    action: 'aws-containers',
    features: [],
    values: { repository: 'policy/release', ...ecsValues('release', 'policy-release') },
    inputs: async () => ({
      repository: 'policy/release',
      'oci-layout': (await layout()).dir,
      cluster: 'policy',
      service: 'release',
      'docker-login': 'false',
    }),
    check: succeeded,
  },
  {
    name: 'aws-containers: create-repository and create-service',
    action: 'aws-containers',
    features: ['create-repository', 'create-service'],
    values: { repository: 'policy/fresh', ...ecsValues('fresh', 'policy-fresh') },
    inputs: async () => ({
      repository: 'policy/fresh',
      'create-repository': 'true',
      'oci-layout': (await layout()).dir,
      cluster: 'policy',
      service: 'fresh',
      'task-definition': tdFile('policy-fresh', 'placeholder:latest'),
      'create-service': 'true',
      subnets: SUBNET,
      'docker-login': 'false',
    }),
    check: succeeded,
  },
];

describe.each(SCENARIOS.map((s) => [s.name, s] as const))('%s', (_name, scenario) => {
  const documents = policiesFor(scenario.action, scenario.features);
  const it = scenario.needsEngine ? withEngine : test;
  if (it !== test) for (const doc of documents) if (!used.has(doc)) unproven.add(doc);

  it(`runs under ${documents.map((d) => `policies/${d}.json`).join(' + ')} and is refused nothing`, async () => {
    if (scenario.needsEngine && !engine) {
      engine = await startPodman({ trustedCas: { [w.host]: w.aws.caCertPath } });
    }
    const key = keyWithPolicies(w.aws, documents, scenario.values);
    await scenario.prepare?.(`arn:aws:iam::${ACCOUNT}:user/${key.accessKeyId}`);
    const run = await runAction(scenario.action, {
      inputs: { 'poll-interval': '1s', ...(await scenario.inputs()) },
      env: {
        AWS_ENDPOINT_URL: w.aws.endpoint,
        AWS_REGION: w.aws.region,
        NODE_EXTRA_CA_CERTS: w.aws.caCertPath,
        ...pushToMain.env,
        ...key.env,
        ...scenario.env?.(),
      },
      event: pushToMain.event,
      timeoutMs: 100_000,
    });
    expect(refusals(w.aws, key.accessKeyId)).toEqual([]);
    scenario.check(run);
    const allowed = w.aws.opLog
      .iamActions({ accessKeyId: key.accessKeyId, allowed: true })
      .map((a) => a.toLowerCase());
    for (const doc of documents) {
      const set = used.get(doc) ?? new Set<string>();
      for (const action of allowed) set.add(action);
      used.set(doc, set);
      unproven.delete(doc);
    }
  });
});

test('every published document is used by a scenario, and every action it names was needed', () => {
  const names = policyNames();
  const covered = names.filter((n) => used.has(n) || unproven.has(n));
  expect(covered).toEqual(names);
  if (unproven.size > 0) {
    console.warn(
      `Not proven here (their scenarios need a tool this machine lacks): ${[...unproven].join(', ')}`,
    );
  }
  const unused: Record<string, string[]> = {};
  for (const name of names.filter((n) => used.has(n))) {
    const extra = actionsNamed(readPolicy(name)).filter((a) => !used.get(name)!.has(a));
    if (extra.length > 0) unused[name] = extra;
  }
  expect(unused).toEqual({});
});

test('the README shows every published document as it is in policies/', () => {
  const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  for (const name of policyNames()) {
    const heading = readme.indexOf(`<summary><code>policies/${name}.json</code>`);
    expect({ name, shown: heading >= 0 }).toEqual({ name, shown: true });
    const block = /```json\n([\s\S]*?)```/.exec(readme.slice(heading));
    expect(JSON.parse(block?.[1] ?? 'null')).toEqual(readPolicy(name));
  }
});
