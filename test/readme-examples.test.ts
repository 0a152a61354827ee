// The README's examples are tests. Every ```yaml block of README.md that is a workflow or a list of
// steps is parsed with GitHub's own parser (@actions/workflow-parser) and run, step by step, on
// local-aws by the workflow runner in test/helpers/workflow-runner.ts; a block of workflow-level
// keys (`concurrency:`…) is parsed inside a minimal workflow. A list of steps runs as the steps of a
// job that first checks out the example repository and configures credentials, as the example
// workflow's job does.
//
// The world an example assumes (an AWS account as a team has it before its first release):
// - the example repository is test/fixtures/example-app (actions/checkout's stand-in copies it);
//   each file the README shows under a "`<path>`:" line is that file of the fixture, byte for byte;
// - account 123456789012, region eu-west-1 (the example's aws-region), on a local-aws whose ECS
//   runs 60× faster than the clock;
// - each ECR repository an ecr-push step names without `create-repository: true` exists;
// - the root action's step (`<owner>/aws-containers@v1`) is both: an ecr-push step and an ecs-deploy
//   step, whose image is the digest it pushed;
// - each cluster an ecs-deploy step names exists, and each service it names without
//   `create-service: true` exists and runs a first revision (of the step's task definition file
//   when it has one, else one container named `container-name`, or `app`) of a public image;
// - each EKS cluster an eks-rollout step names exists and is ACTIVE, and the role `release` has an
//   access entry on it with AmazonEKSClusterAdminPolicy; without `manifests`, each of its
//   `workloads` runs in its namespace (a Deployment of 2 replicas whose container, named as the
//   step's `images` name it, runs a public image); the example repository's k8s/ holds what an
//   example applies; an image its `images` names literally in this account's ECR
//   (`123456789012.dkr.ecr.eu-west-1.amazonaws.com/<repository>:<tag>`) has been pushed, as a
//   release's image is before it is rolled out (eks-rollout asks ECR whether it is there);
// - a docker engine when an example builds or pushes from the engine (`context`, `image`, or a
//   `run:` that calls docker): podman behind the docker CLI (test/helpers/podman.ts), trusting
//   local-aws's CA; without podman the run is skipped locally and fails under CI.
// - the event follows the workflow's `on:`: a push to acme/app's main (a list of steps too); for
//   `pull_request`, pull request #42 of acme/app (branch feature-42 of acme/app itself into main),
//   action `synchronize`, or `closed` when the workflow runs on closed pull requests only; for
//   `schedule`, a scheduled run on main;
// - GitHub's API, for a workflow with a preview step, is local-github (GITHUB_API_URL), where
//   pull request #42 is open (closed for a `closed` run); `github.token` is an installation token
//   (`ghs_…`) with the permissions of the workflow's `permissions:`;
// - for a preview step (ecs-deploy with `preview`): its cluster runs the base service
//   `preview-base-service` (one container, `web`, port 8080, a first revision of a public image)
//   behind an `ip` target group of a load balancer `staging` with an HTTP:80 listener, whose ARN is
//   the variable PREVIEW_LISTENER_ARN; a teardown or a sweep finds the preview of #42 deployed (by
//   the action itself, with the administrator's key), a sweep with its expiry passed;
// - credentials by OIDC, as the example workflow gets them: GitHub's OIDC provider is registered in
//   IAM, the role `release` trusts tokens of acme/app's main branch and of its pull requests
//   (`repo:acme/app:pull_request`, the sub of a pull_request run; audience sts.amazonaws.com) and
//   carries exactly the published policies (policies/*.json) the example's steps call for, rendered
//   for its repositories, clusters, services, families and roles; the job may ask the stand-in of
//   the runner's token service (test/helpers/oidc.ts) for a token (a list of steps runs in a job
//   with `id-token: write`, as the example workflow's), and configure-aws-credentials' stand-in
//   exchanges it with STS. Every AWS call of the run must then be the role's session, none refused;
// - the roles the task definitions name exist, as ecs-deploy's preflight and ECS's agent expect:
//   ecsTaskExecutionRole (the example's executionRoleArn, as the ECS console creates it) and every
//   role a step's task definition file names, each trusting ecs-tasks.amazonaws.com, the execution
//   roles with AWS's AmazonECSTaskExecutionRolePolicy attached.
// After the run: every step succeeded, GitHub would warn about nothing, every image an ecr-push
// step reports is in ECR under the tags it reports, and every service an ecs-deploy step reports
// runs the revision it reports, with the image its `image` input gave; a preview deploy's service runs
// so too, and the pull request has its comment with the URL and a successful deployment of
// `preview/<base>-pr-42`; after a teardown or a sweep the preview's service is gone and that
// deployment is inactive.
import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CreateRepositoryCommand,
  DescribeImagesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
} from '@aws-sdk/client-ecr';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  TagResourceCommand,
  type RegisterTaskDefinitionCommandInput,
} from '@aws-sdk/client-ecs';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  AssociateAccessPolicyCommand,
  CreateAccessEntryCommand,
  CreateClusterCommand as CreateEksClusterCommand,
  DescribeClusterCommand,
  EKSClient,
} from '@aws-sdk/client-eks';
import { buildImage, defaultNetwork, startLocalAws, type LocalAws } from '@aws-containers/local-aws';
import { startLocalGitHub, type LocalGitHub, type TokenSpec } from '@aws-containers/local-github';
import { findByPath } from '@aws-containers/local-kubernetes';
import { parse as parseYaml } from 'yaml';
import { localAwsEnv, pushToMain, repoRoot, runAction } from './helpers/action-runner.js';
import { suiteActionOf } from './helpers/actions.js';
import { requirePodman, startPodman, type PodmanService } from './helpers/podman.js';
import { GITHUB_ISSUER, startOidcStandIn, type WorkflowRun as TokenServiceRun } from './helpers/oidc.js';
import { mergePolicies, policiesFor, type PolicyAction, type PolicyValues } from './helpers/policies.js';
import { checkout, configureAwsCredentials, FIXTURES, setupBuildx } from './helpers/stand-ins.js';
import { iamQuery } from '../packages/local-aws/test/helpers/iam-query.js';
import { passwordFromToken, RegistryClient } from '../packages/local-aws/test/helpers/registry-client.js';
import {
  describeRun,
  parseWorkflowText,
  runWorkflow,
  wrapSteps,
  type StepRun,
  type WorkflowRun,
} from './helpers/workflow-runner.js';

const README = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
const REPOSITORY = 'example-app';
const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
/** A pullable image with no labels: the release a service of the world runs before the example's. */
const PREVIOUS_RELEASE = 'public.ecr.aws/nginx/nginx:1';

/** The steps a list of steps runs after: the job of the example workflow, up to the suite's steps. */
const JOB_START = `- uses: actions/checkout@v5
- uses: aws-actions/configure-aws-credentials@v5
  with:
    role-to-assume: arn:aws:iam::${ACCOUNT}:role/release
    aws-region: ${REGION}
`;

/** The pull request a pull_request example runs for: acme/app's feature-42 into main. */
const PULL_REQUEST = 42;
const HEAD_REF = `feature-${PULL_REQUEST}`;
const HEAD_SHA = '42c0ffee'.repeat(5);
/** GITHUB_SHA of a pull_request run: the merge commit GitHub makes, not the head. */
const MERGE_SHA = '42d0d0ca'.repeat(5);
/** The job's GITHUB_TOKEN (`github.token`): an installation token. */
const GITHUB_TOKEN = `ghs_${'readme'.padEnd(36, '0')}`;
/** The load balancer whose listener previews are routed on (PREVIEW_LISTENER_ARN). */
const PREVIEW_LOAD_BALANCER = 'staging';

// --- The README's blocks ---------------------------------------------------------------------

interface Block {
  /** The heading the block is under. */
  section: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  text: string;
  /** The line before the fence. */
  before: string;
}

function blocks(markdown: string): Block[] {
  const found: Block[] = [];
  const lines = markdown.split('\n');
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heading = /^#{1,6} (.*)$/.exec(line);
    if (heading) section = heading[1]!;
    const fence = /^```(\S*)\s*$/.exec(line);
    if (!fence) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    let b = start - 1;
    while (b >= 0 && lines[b]!.trim() === '') b--;
    found.push({
      section,
      line: start + 1,
      lang: fence[1]!,
      text: `${body.join('\n')}\n`,
      before: lines[b] ?? '',
    });
  }
  return found;
}

const WORKFLOW_KEYS = new Set(['name', 'run-name', 'on', 'permissions', 'env', 'defaults', 'concurrency']);

type Kind = 'workflow' | 'steps' | 'fragment' | 'other' | 'broken';

/** What a yaml block is: a workflow, a list of steps, workflow-level keys, or not a workflow at all. */
function kindOf(text: string): Kind {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch {
    return 'broken';
  }
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObject(value) && 'jobs' in value) return 'workflow';
  if (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((s) => isObject(s) && ('uses' in s || 'run' in s))
  ) {
    return 'steps';
  }
  if (isObject(value) && Object.keys(value).every((k) => WORKFLOW_KEYS.has(k))) return 'fragment';
  // Something workflow-like that is neither: a job without `jobs:`, a step list with a stray entry.
  if (/^\s*(-\s+)?(jobs|steps|uses|run):/m.test(text)) return 'broken';
  return 'other';
}

interface Example {
  title: string;
  block: Block;
  kind: Kind;
  /** The workflow that is parsed (and run, for workflows and steps). */
  workflow: string;
}

/** A workflow whose jobs may ask for an OIDC token, as the example workflow's (`permissions:`). */
function withIdToken(workflow: string): string {
  return workflow.replace(/^on: push\n/, 'on: push\npermissions:\n  id-token: write\n  contents: read\n');
}

function examples(markdown: string): Example[] {
  return blocks(markdown)
    .filter((b) => b.lang === 'yaml' || b.lang === 'yml')
    .map((block) => {
      const kind = kindOf(block.text);
      const workflow =
        kind === 'steps'
          ? withIdToken(wrapSteps(block.text, /actions\/checkout@/.test(block.text) ? '' : JOB_START))
          : kind === 'fragment'
            ? `on: push\n${block.text}jobs:\n  example:\n    runs-on: ubuntu-latest\n    steps:\n      - run: 'true'\n`
            : block.text;
      return { title: `${block.section} (README.md:${block.line})`, block, kind, workflow };
    });
}

const all = examples(README);
const runnable = all.filter((e) => e.kind === 'workflow' || e.kind === 'steps');
/** The example workflow: it pushes and deploys, and is run once, with the release checks too. */
const release = runnable.find((e) => e.block.section === 'Example workflow');

// --- The event --------------------------------------------------------------------------------

interface Trigger {
  /** The `github` context's fields of the event, with the webhook payload as `event`. */
  github: Record<string, unknown> & { event: unknown };
  /** The run as GitHub's token service sees it (the claims, the sub). */
  tokenService: Partial<TokenServiceRun>;
  /** Pull request #42's state on GitHub, for a pull_request run. */
  pullRequest?: 'open' | 'closed';
}

const REPOSITORY_PAYLOAD = {
  full_name: pushToMain.env.GITHUB_REPOSITORY,
  ...pushToMain.event.repository,
};

/** A pull_request run for #42 with this webhook action (`synchronize`, `closed`…). */
function pullRequestTrigger(action: string): Trigger {
  const ref = `refs/pull/${PULL_REQUEST}/merge`;
  const state = action === 'closed' ? 'closed' : 'open';
  const repo = { full_name: pushToMain.env.GITHUB_REPOSITORY };
  return {
    github: {
      event_name: 'pull_request',
      ref,
      ref_name: `${PULL_REQUEST}/merge`,
      ref_type: 'branch',
      sha: MERGE_SHA,
      head_ref: HEAD_REF,
      base_ref: 'main',
      event: {
        action,
        number: PULL_REQUEST,
        pull_request: {
          number: PULL_REQUEST,
          state,
          head: { sha: HEAD_SHA, ref: HEAD_REF, repo },
          base: { ref: 'main', repo },
        },
        repository: REPOSITORY_PAYLOAD,
      },
    },
    tokenService: { eventName: 'pull_request', ref, sha: MERGE_SHA, headRef: HEAD_REF, baseRef: 'main' },
    pullRequest: state,
  };
}

/** The event a workflow runs on, by its `on:`: a push to main, a pull_request, a schedule. */
function triggerOf(workflow: string): Trigger {
  const on = (parseYaml(workflow) as { on?: unknown }).on;
  const events = (
    typeof on === 'string'
      ? { [on]: null }
      : Array.isArray(on)
        ? Object.fromEntries(on.map((e) => [String(e), null]))
        : (on ?? {})
  ) as Record<string, { types?: string[]; cron?: string } | Array<{ cron?: string }> | null>;
  const mainRun = {
    ref: pushToMain.env.GITHUB_REF,
    ref_name: 'main',
    ref_type: 'branch',
    sha: pushToMain.sha,
  };
  if ('push' in events) {
    return {
      github: { event_name: 'push', ...mainRun, event: pushToMain.event },
      tokenService: { eventName: 'push', ref: mainRun.ref, sha: mainRun.sha },
    };
  }
  if ('pull_request' in events) {
    // GitHub's default types are opened, synchronize and reopened: a push to the pull request.
    const types = (events.pull_request as { types?: string[] } | null)?.types ?? ['synchronize'];
    return pullRequestTrigger(types.includes('synchronize') ? 'synchronize' : types[0]!);
  }
  if ('schedule' in events) {
    const cron = (events.schedule as Array<{ cron?: string }>)[0]?.cron;
    return {
      github: {
        event_name: 'schedule',
        ...mainRun,
        event: { schedule: cron, repository: REPOSITORY_PAYLOAD },
      },
      tokenService: { eventName: 'schedule', ref: mainRun.ref, sha: mainRun.sha },
    };
  }
  throw new Error(
    `the README examples run on push, pull_request or schedule, not on ${Object.keys(events).join(', ')}`,
  );
}

/** GITHUB_TOKEN's permissions, as GitHub maps the workflow's (or its only job's) `permissions:`. */
function tokenPermissions(workflow: string): TokenSpec['permissions'] {
  const doc = parseYaml(workflow) as {
    permissions?: unknown;
    jobs?: Record<string, { permissions?: unknown }>;
  };
  const given = Object.values(doc.jobs ?? {})[0]?.permissions ?? doc.permissions;
  const scopes = {
    'pull-requests': 'pull_requests',
    issues: 'issues',
    deployments: 'deployments',
    contents: 'contents',
  } as const;
  const permissions: TokenSpec['permissions'] = {};
  for (const [key, scope] of Object.entries(scopes)) {
    const access =
      given === 'write-all'
        ? 'write'
        : given === 'read-all'
          ? 'read'
          : typeof given === 'object' && given !== null
            ? (given as Record<string, unknown>)[key]
            : 'write'; // no `permissions:`: the permissive default, read and write
    if (access === 'read' || access === 'write') permissions[scope] = access;
  }
  return permissions;
}

// --- The world --------------------------------------------------------------------------------

interface SuiteStep {
  ref: string;
  with: Record<string, unknown>;
}

/** The suite's steps of a workflow, with their `with:` as written. */
function suiteSteps(workflow: string): SuiteStep[] {
  const doc = parseYaml(workflow) as { jobs?: Record<string, { steps?: Array<Record<string, unknown>> }> };
  const steps = Object.values(doc.jobs ?? {}).flatMap((j) => j.steps ?? []);
  return steps.flatMap((s) => {
    const action = typeof s.uses === 'string' ? suiteActionOf(s.uses) : undefined;
    return action ? [{ ref: action.ref, with: (s.with ?? {}) as Record<string, unknown> }] : [];
  });
}

/** Whether a workflow needs a docker engine: a build or push from the engine, or a docker command. */
function needsEngine(workflow: string): boolean {
  // ecs-deploy's `image` is a reference to deploy; ecr-push's (and the root action's) is in the engine.
  const fromEngine = suiteSteps(workflow).some(
    (s) => s.ref !== 'ecs-deploy' && ('context' in s.with || 'image' in s.with),
  );
  return fromEngine || /^\s*(-\s+)?run:.*\bdocker\b/m.test(workflow);
}

/** A literal value of `with:` (not an expression), or undefined. */
function literal(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const text = String(value);
  return text.includes('${{') ? undefined : text;
}

/** A value of `with:` as the step gets it: a literal, or `${{ vars.NAME }}` from the world's variables. */
function resolved(value: unknown, vars: Record<string, string>): string | undefined {
  const variable = /^\$\{\{\s*vars\.(\w+)\s*\}\}$/.exec(String(value ?? ''));
  return variable ? vars[variable[1]!] : literal(value);
}

/** The preview an ecs-deploy step makes, tears down or sweeps (`preview:`), or undefined. */
function previewStep(workflow: string): SuiteStep | undefined {
  return suiteSteps(workflow).find((s) => s.ref === 'ecs-deploy' && s.with.preview !== undefined);
}

const ROLE = 'release';
/** The execution role a task definition of the world names when its file names none. */
const EXECUTION_ROLE = `arn:aws:iam::${ACCOUNT}:role/ecsTaskExecutionRole`;

/** The published policies a suite step needs, by its inputs (test/helpers/policies.ts). */
function policiesOfStep(step: SuiteStep): { action: PolicyAction; features: string[] } {
  const on = (name: string) => literal(step.with[name]) === 'true';
  const given = (name: string) => step.with[name] !== undefined;
  if (step.ref === 'ecr-push') {
    const features: string[] = [];
    if (on('create-repository')) features.push('create-repository');
    if (on('update-repository-settings')) features.push('update-repository-settings');
    if (given('promote-from')) features.push('promote-from');
    if (on('skip-if-exists')) features.push('skip-if-exists');
    // A gate needs the findings: fail-on-severity waits for the scan too.
    if (
      literal(step.with.scan) === 'wait' ||
      !['NONE', undefined].includes(literal(step.with['fail-on-severity']))
    )
      features.push('scan: wait');
    if (/\bpublic\b/.test(String(step.with['login-registries'] ?? '')))
      features.push('login-registries: public');
    return { action: 'ecr-push', features };
  }
  if (step.ref === 'eks-rollout') return { action: 'eks-rollout', features: [] };
  if (step.ref === 'ecs-deploy') {
    const features: string[] = [];
    if (on('create-service')) features.push('create-service');
    if (given('run-task-before-deploy')) features.push('run-task-before-deploy');
    if (given('keep-revisions')) features.push('keep-revisions');
    if (given('preview')) features.push('preview');
    return { action: 'ecs-deploy-fargate', features };
  }
  const features: string[] = [];
  if (on('create-repository')) features.push('create-repository');
  if (given('promote-from')) features.push('promote-from');
  if (!['NONE', undefined].includes(literal(step.with['fail-on-severity'])))
    features.push('fail-on-severity');
  if (on('create-service')) features.push('create-service');
  if (step.with['eks-cluster'] !== undefined) features.push('eks-cluster');
  return { action: 'aws-containers', features };
}

/** The role's policy: every document each suite step needs, rendered for that step's resources. */
function rolePolicy(workflow: string, vars: Record<string, string>): string {
  const statements = suiteSteps(workflow).flatMap((step) => {
    const { action, features } = policiesOfStep(step);
    const file = literal(step.with['task-definition']);
    const definition = file
      ? (JSON.parse(readFileSync(path.join(FIXTURES, REPOSITORY, file), 'utf8')) as Record<string, string>)
      : undefined;
    const service = literal(step.with.service) ?? '*';
    const executionRole = definition?.executionRoleArn ?? EXECUTION_ROLE;
    const values: PolicyValues = {
      region: REGION,
      'account-id': ACCOUNT,
      repository: literal(step.with.repository) ?? '*',
      'source-repository': literal(step.with.repository) ?? '*',
      cluster: literal(step.with['eks-cluster']) ?? literal(step.with.cluster) ?? '*',
      service,
      family: definition?.family ?? literal(step.with['task-definition-family']) ?? service,
      'task-role-arn': definition?.taskRoleArn ?? executionRole,
      'execution-role-arn': executionRole,
      'deploying-role-arn': `arn:aws:iam::${ACCOUNT}:role/${ROLE}`,
      'base-service': literal(step.with['preview-base-service']) ?? '*',
      // The name in the listener's ARN: …:listener/app/<name>/<id>/<id>.
      'load-balancer':
        /:listener\/app\/([^/]+)\//.exec(resolved(step.with['listener-arn'], vars) ?? '')?.[1] ?? '*',
    };
    return mergePolicies(policiesFor(action, features), values).Statement.map((st, i) => ({
      ...st,
      Sid: `Step${st.Sid ?? i}`.replace(/[^A-Za-z0-9]/g, ''),
    }));
  });
  // Sids stay unique across steps that need the same document.
  const seen = new Map<string, number>();
  for (const st of statements) {
    const n = (seen.get(st.Sid) ?? 0) + 1;
    seen.set(st.Sid, n);
    if (n > 1) st.Sid = `${st.Sid}${n}`;
  }
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

/** An IAM Query call with local-aws's own key (the account's administrator sets the world up). */
const iam = (aws: LocalAws, action: string, params: Record<string, string>) =>
  iamQuery(aws.endpoint, action, params, aws.credentials);

/** GitHub's OIDC provider, and the role `release` the example assumes, with the example's policies. */
async function prepareRole(aws: LocalAws, workflow: string, vars: Record<string, string>): Promise<void> {
  const host = new URL(GITHUB_ISSUER).host;
  await iam(aws, 'CreateOpenIDConnectProvider', {
    Url: GITHUB_ISSUER,
    'ClientIDList.member.1': 'sts.amazonaws.com',
  });
  await iam(aws, 'CreateRole', {
    RoleName: ROLE,
    // The trust policy of GitHub's guide "Configuring OpenID Connect in Amazon Web Services".
    AssumeRolePolicyDocument: JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/${host}` },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: { [`${host}:aud`]: 'sts.amazonaws.com' },
            StringLike: {
              [`${host}:sub`]: [
                `repo:${pushToMain.env.GITHUB_REPOSITORY}:ref:refs/heads/main`,
                `repo:${pushToMain.env.GITHUB_REPOSITORY}:pull_request`,
              ],
            },
          },
        },
      ],
    }),
  });
  await iam(aws, 'PutRolePolicy', {
    RoleName: ROLE,
    PolicyName: 'aws-containers',
    PolicyDocument: rolePolicy(workflow, vars),
  });
}

/**
 * The task and execution roles of the world: ecsTaskExecutionRole and those the steps' task
 * definition files name, trusting ECS tasks; execution roles with AmazonECSTaskExecutionRolePolicy.
 */
async function prepareTaskRoles(aws: LocalAws, workflow: string): Promise<void> {
  const roles = new Map<string, 'task' | 'execution'>([[EXECUTION_ROLE, 'execution']]);
  for (const step of suiteSteps(workflow)) {
    const file = literal(step.with['task-definition']);
    if (!file) continue;
    const definition = JSON.parse(readFileSync(path.join(FIXTURES, REPOSITORY, file), 'utf8')) as {
      taskRoleArn?: string;
      executionRoleArn?: string;
    };
    if (definition.taskRoleArn && !roles.has(definition.taskRoleArn))
      roles.set(definition.taskRoleArn, 'task');
    if (definition.executionRoleArn) roles.set(definition.executionRoleArn, 'execution');
  }
  const trust = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ],
  });
  for (const [arn, kind] of roles) {
    const RoleName = arn.slice(arn.lastIndexOf('/') + 1);
    await iam(aws, 'CreateRole', { RoleName, AssumeRolePolicyDocument: trust });
    if (kind === 'execution') {
      await iam(aws, 'AttachRolePolicy', {
        RoleName,
        PolicyArn: 'arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy',
      });
    }
  }
}

/** The EKS clusters eks-rollout steps name, the role's access to them, and the workloads they set images of. */
async function prepareEks(aws: LocalAws, workflow: string): Promise<void> {
  // eks-rollout's steps, and the root action's with `eks-cluster` (its cluster, and its
  // container-name as the container it sets).
  const steps = suiteSteps(workflow).flatMap((s) =>
    s.ref === 'eks-rollout'
      ? [s]
      : s.ref === '' && s.with['eks-cluster'] !== undefined
        ? [
            {
              ...s,
              with: {
                ...s.with,
                cluster: s.with['eks-cluster'],
                images: `${literal(s.with['container-name']) ?? 'app'}=`,
              },
            },
          ]
        : [],
  );
  if (steps.length === 0) return;
  aws.admin.eks.setTimings({ activationMs: 1000 });
  const eks = new EKSClient({
    endpoint: aws.endpoint,
    region: REGION,
    credentials: aws.credentials,
    maxAttempts: 3,
  });
  const deployments = findByPath('apps', 'v1', 'deployments')!;
  const namespaces = findByPath('', 'v1', 'namespaces')!;
  const made = new Set<string>();
  try {
    for (const step of steps) {
      const name = literal(step.with.cluster);
      if (!name) continue;
      if (!made.has(name)) {
        made.add(name);
        await eks.send(
          new CreateEksClusterCommand({
            name,
            roleArn: `arn:aws:iam::${ACCOUNT}:role/eks-cluster`,
            resourcesVpcConfig: { subnetIds: defaultNetwork(ACCOUNT, REGION).subnetIds.slice(0, 2) },
          }),
        );
        while ((await eks.send(new DescribeClusterCommand({ name }))).cluster?.status !== 'ACTIVE') {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        const principalArn = `arn:aws:iam::${ACCOUNT}:role/${ROLE}`;
        await eks.send(new CreateAccessEntryCommand({ clusterName: name, principalArn }));
        await eks.send(
          new AssociateAccessPolicyCommand({
            clusterName: name,
            principalArn,
            policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy',
            accessScope: { type: 'cluster' },
          }),
        );
      }
      await pushNamedEcrImages(aws, literal(step.with.images) ?? '');
      const workloads = literal(step.with.workloads);
      if (!workloads || step.with.manifests !== undefined) continue;
      const store = aws.admin.eks.kubernetes(name)!.store;
      const namespace = literal(step.with.namespace) ?? 'default';
      if (!store.get(namespaces, undefined, namespace)) {
        store.create(namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
      }
      const container = /^([^=\s]+)=/m.exec(literal(step.with.images) ?? '')?.[1] ?? 'app';
      for (const workload of workloads.split(/[\s,]+/).filter(Boolean)) {
        const [kind, deployment] = workload.split('/');
        if (kind !== 'deployment' || !deployment)
          throw new Error(`the README world makes Deployments only: ${workload}`);
        store.create(deployments, {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: deployment, namespace },
          spec: {
            replicas: 2,
            selector: { matchLabels: { app: deployment } },
            template: {
              metadata: { labels: { app: deployment } },
              spec: { containers: [{ name: container, image: PREVIOUS_RELEASE }] },
            },
          },
        });
      }
      const deadline = Date.now() + 30_000;
      const available = () =>
        store
          .list(deployments, namespace)
          .every((d) => (d.status as { availableReplicas?: number } | undefined)?.availableReplicas === 2);
      while (!available()) {
        if (Date.now() > deadline)
          throw new Error(`the world's workloads in ${name}/${namespace} did not become available`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  } finally {
    eks.destroy();
  }
}

/** Pushes each image of this account's ECR that `images` lines name by tag (a one-layer image). */
async function pushNamedEcrImages(aws: LocalAws, images: string): Promise<void> {
  const host = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/`;
  const named = images
    .split('\n')
    .map((line) => line.slice(line.indexOf('=') + 1).trim())
    .filter((ref) => ref.startsWith(host) && !ref.includes('@'));
  if (named.length === 0) return;
  const ecr = new ECRClient({
    endpoint: aws.endpoint,
    region: REGION,
    credentials: aws.credentials,
    maxAttempts: 3,
  });
  try {
    const token = await ecr.send(new GetAuthorizationTokenCommand({}));
    const registry = new RegistryClient({
      baseUrl: aws.httpUrl,
      auth: { user: 'AWS', password: passwordFromToken(token.authorizationData![0]!.authorizationToken!) },
    });
    for (const ref of named) {
      const [repository = '', tag = ''] = ref.slice(host.length).split(':');
      await ecr.send(new CreateRepositoryCommand({ repositoryName: repository })).catch((err: Error) => {
        if (err.name !== 'RepositoryAlreadyExistsException') throw err;
      });
      const pushed = await registry.pushImage(repository, buildImage([{ size: 64 }]), tag);
      if (pushed.status !== 201) throw new Error(`the world's push of ${ref} failed: ${pushed.status}`);
    }
  } finally {
    ecr.destroy();
  }
}

/** The world's resources for a workflow's steps; returns the repository variables (`vars`) it made. */
async function prepareWorld(aws: LocalAws, workflow: string): Promise<Record<string, string>> {
  const config = { endpoint: aws.endpoint, region: REGION, credentials: aws.credentials, maxAttempts: 3 };
  const ecr = new ECRClient(config);
  const ecs = new ECSClient(config);
  const vars: Record<string, string> = {};
  try {
    for (const step of suiteSteps(workflow)) {
      if (step.ref === 'ecr-push' || step.ref === '') {
        const repository = literal(step.with.repository);
        if (repository && literal(step.with['create-repository']) !== 'true') {
          await ecr.send(new CreateRepositoryCommand({ repositoryName: repository })).catch((err: Error) => {
            if (err.name !== 'RepositoryAlreadyExistsException') throw err;
          });
        }
      }
      if (step.ref === 'ecs-deploy' || step.ref === '') {
        const cluster = literal(step.with.cluster);
        if (!cluster) continue;
        await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
        if (step.with.preview !== undefined) {
          Object.assign(vars, await prepareBaseService(aws, ecs, cluster, step));
          continue;
        }
        if (literal(step.with['create-service']) === 'true') continue;
        const services = (literal(step.with.service) ?? literal(step.with.services) ?? '')
          .split(/[\n,]/)
          .map((s) => s.trim())
          .filter(Boolean);
        for (const service of services) {
          const revision = await ecs.send(new RegisterTaskDefinitionCommand(firstRevision(step, service)));
          await ecs.send(
            new CreateServiceCommand({
              cluster,
              serviceName: service,
              taskDefinition: revision.taskDefinition!.taskDefinitionArn!,
              desiredCount: 1,
              launchType: 'FARGATE',
              networkConfiguration: {
                awsvpcConfiguration: { subnets: defaultNetwork(ACCOUNT, REGION).subnetIds.slice(0, 2) },
              },
              deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
            }),
          );
          await settled(ecs, cluster, service);
        }
      }
    }
  } finally {
    ecr.destroy();
    ecs.destroy();
  }
  return vars;
}

/**
 * The service a preview copies, behind an ALB: an `ip` target group, the load balancer
 * PREVIEW_LOAD_BALANCER and its HTTP:80 listener, whose ARN is the variable `listener-arn` reads.
 */
async function prepareBaseService(
  aws: LocalAws,
  ecs: ECSClient,
  cluster: string,
  step: SuiteStep,
): Promise<Record<string, string>> {
  const service = literal(step.with['preview-base-service']);
  if (!service) throw new Error('the README world needs a literal preview-base-service');
  const network = defaultNetwork(ACCOUNT, REGION);
  const elb = new ElasticLoadBalancingV2Client({
    endpoint: aws.endpoint,
    region: REGION,
    credentials: aws.credentials,
    maxAttempts: 3,
  });
  try {
    const group = await elb.send(
      new CreateTargetGroupCommand({
        Name: service,
        Protocol: 'HTTP',
        Port: 8080,
        VpcId: network.vpcId,
        TargetType: 'ip',
      }),
    );
    const targetGroupArn = group.TargetGroups![0]!.TargetGroupArn!;
    const balancer = await elb.send(
      new CreateLoadBalancerCommand({ Name: PREVIEW_LOAD_BALANCER, Subnets: network.subnetIds.slice(0, 2) }),
    );
    const listener = await elb.send(
      new CreateListenerCommand({
        LoadBalancerArn: balancer.LoadBalancers![0]!.LoadBalancerArn!,
        Protocol: 'HTTP',
        Port: 80,
        DefaultActions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }],
      }),
    );
    // One container: a preview's `image` without container-name sets the first essential one.
    const revision = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: service,
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '256',
        memory: '512',
        containerDefinitions: [
          { name: 'web', image: PREVIOUS_RELEASE, essential: true, portMappings: [{ containerPort: 8080 }] },
        ],
      }),
    );
    await ecs.send(
      new CreateServiceCommand({
        cluster,
        serviceName: service,
        taskDefinition: revision.taskDefinition!.taskDefinitionArn!,
        desiredCount: 1,
        launchType: 'FARGATE',
        networkConfiguration: { awsvpcConfiguration: { subnets: network.subnetIds.slice(0, 2) } },
        loadBalancers: [{ targetGroupArn, containerName: 'web', containerPort: 8080 }],
        deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
      }),
    );
    await settled(ecs, cluster, service);
    const variable = /\bvars\.(\w+)/.exec(String(step.with['listener-arn'] ?? ''))?.[1];
    return variable ? { [variable]: listener.Listeners![0]!.ListenerArn! } : {};
  } finally {
    elb.destroy();
  }
}

/**
 * The preview of #42 a teardown or a sweep finds: deployed by the action itself (administrator's
 * key) on a pull_request run, its comment and deployment on GitHub; for a sweep, expired.
 */
async function prepareExistingPreview(
  aws: LocalAws,
  github: LocalGitHub,
  step: SuiteStep,
  vars: Record<string, string>,
): Promise<void> {
  const mode = literal(step.with.preview);
  if (mode !== 'teardown' && mode !== 'sweep') return;
  const cluster = literal(step.with.cluster)!;
  const base = literal(step.with['preview-base-service'])!;
  const deploy = pullRequestTrigger('synchronize');
  github.setPullRequest('acme', 'app', PULL_REQUEST, { state: 'open', headSha: HEAD_SHA, headRef: HEAD_REF });
  const run = await runAction('ecs-deploy-fargate', {
    inputs: {
      cluster,
      preview: 'deploy',
      'preview-base-service': base,
      'listener-arn': resolved(step.with['listener-arn'], vars) ?? '',
      'preview-domain': literal(step.with['preview-domain']) ?? '',
      'preview-ttl': '72h',
      'max-previews': '10',
      image: PREVIOUS_RELEASE,
      'github-token': GITHUB_TOKEN,
      'poll-interval': '1s',
    },
    env: {
      ...localAwsEnv(aws),
      GITHUB_API_URL: github.url,
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: pushToMain.env.GITHUB_REPOSITORY,
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_REF: String(deploy.github.ref),
      GITHUB_SHA: String(deploy.github.sha),
      GITHUB_HEAD_REF: HEAD_REF,
      GITHUB_BASE_REF: 'main',
    },
    event: deploy.github.event,
    timeoutMs: 120_000,
  });
  if (run.exitCode !== 0)
    throw new Error(`the world's preview of #${PULL_REQUEST}: ${run.errors.join('\n')}`);
  if (mode !== 'sweep') return;
  const ecs = new ECSClient({ endpoint: aws.endpoint, region: REGION, credentials: aws.credentials });
  try {
    await ecs.send(
      new TagResourceCommand({
        resourceArn: run.outputs['service-arn']!,
        tags: [{ key: 'aws-containers:expires-at', value: '2020-01-01T00:00:00.000Z' }],
      }),
    );
  } finally {
    ecs.destroy();
  }
}

/** The revision a world's service runs before the example: the example's own definition, or one container. */
function firstRevision(step: SuiteStep, service: string): RegisterTaskDefinitionCommandInput {
  const file = literal(step.with['task-definition']);
  const definition: RegisterTaskDefinitionCommandInput = file
    ? (JSON.parse(
        readFileSync(path.join(FIXTURES, REPOSITORY, file), 'utf8'),
      ) as RegisterTaskDefinitionCommandInput)
    : {
        family: service,
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '256',
        memory: '512',
        containerDefinitions: [{ name: literal(step.with['container-name']) ?? 'app', essential: true }],
      };
  return {
    ...definition,
    containerDefinitions: (definition.containerDefinitions ?? []).map((c) => ({
      ...c,
      image: PREVIOUS_RELEASE,
    })),
  };
}

async function settled(ecs: ECSClient, cluster: string, service: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const out = await ecs.send(new DescribeServicesCommand({ cluster, services: [service] }));
    const deployments = out.services?.[0]?.deployments ?? [];
    if (deployments.length === 1 && deployments[0]!.rolloutState === 'COMPLETED') return;
    if (Date.now() > deadline)
      throw new Error(`the world's service ${service} did not settle: ${JSON.stringify(deployments)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

// --- Running an example -----------------------------------------------------------------------

const withEngine = requirePodman();
const engineReady = withEngine === test;
let engine: PodmanService | undefined;
/** One CA for every local-aws of this file, so the engine trusts them all. */
const caDir = path.join(mkdtempSync(path.join(os.tmpdir(), 'readme-examples-')), 'ca');

beforeAll(async () => {
  if (engineReady && runnable.some((e) => needsEngine(e.workflow))) engine = await startPodman();
}, 90_000);
afterAll(async () => {
  await engine?.stop();
  rmSync(path.dirname(caDir), { recursive: true, force: true });
}, 30_000);

interface ExampleRun {
  run: WorkflowRun;
  steps: StepRun[];
  aws: LocalAws;
  /** local-github, for a workflow with a preview step. */
  github: LocalGitHub | undefined;
}

async function runExample(example: Example, check: (r: ExampleRun) => Promise<void>): Promise<void> {
  const trigger = triggerOf(example.workflow);
  const preview = previewStep(example.workflow);
  const tokenService = await startOidcStandIn({
    issuer: GITHUB_ISSUER,
    run: { repository: pushToMain.env.GITHUB_REPOSITORY, ...trigger.tokenService },
  });
  const github = preview
    ? await startLocalGitHub({
        tokens: [
          {
            token: GITHUB_TOKEN,
            login: 'github-actions[bot]',
            type: 'Bot',
            permissions: tokenPermissions(example.workflow),
          },
        ],
      })
    : undefined;
  const aws = await startLocalAws({
    oidcIssuers: { [GITHUB_ISSUER]: tokenService.url },
    accountId: ACCOUNT,
    region: REGION,
    timeScale: 60,
    caDir,
    credentials: {
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    },
  });
  try {
    if (engine) engine.trustCa(aws.registryHost, aws.caCertPath);
    await prepareTaskRoles(aws, example.workflow);
    const vars = await prepareWorld(aws, example.workflow);
    await prepareRole(aws, example.workflow, vars);
    await prepareEks(aws, example.workflow);
    if (github && preview) {
      await prepareExistingPreview(aws, github, preview, vars);
      if (trigger.pullRequest) {
        github.setPullRequest('acme', 'app', PULL_REQUEST, {
          state: trigger.pullRequest,
          headSha: HEAD_SHA,
          headRef: HEAD_REF,
        });
      }
    }
    aws.opLog.clear();
    const parsed = await parseWorkflowText('readme.yml', example.workflow);
    const run = await runWorkflow(parsed, {
      machineEnv: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        AWS_ENDPOINT_URL: aws.endpoint,
        NODE_EXTRA_CA_CERTS: aws.caCertPath,
        ...engine?.env,
      },
      github: {
        ...trigger.github,
        repository: pushToMain.env.GITHUB_REPOSITORY,
        repository_owner: 'acme',
        actor: 'octocat',
        run_id: '1',
        run_number: '1',
        run_attempt: '1',
        server_url: 'https://github.com',
        api_url: github?.url ?? 'https://api.github.com',
        workflow: 'release',
        token: GITHUB_TOKEN,
      },
      secrets: { GITHUB_TOKEN },
      vars,
      standIns: {
        'actions/checkout': checkout(REPOSITORY),
        'aws-actions/configure-aws-credentials': configureAwsCredentials(aws),
        'docker/setup-buildx-action': setupBuildx,
      },
      idToken: tokenService.env,
      stepTimeoutMs: 180_000,
    });
    const failed = run.jobs.some((j) => j.result !== 'success' || j.warnings.length > 0);
    if (failed) throw new Error(`the example did not pass:\n${describeRun(run)}`);
    // Every AWS call of the run was the role's OIDC session, and its policies refused nothing.
    const session = `arn:aws:sts::${ACCOUNT}:assumed-role/${ROLE}/GitHubActions`;
    const calls = aws.opLog.entries().filter((e) => e.action !== 'sts:AssumeRoleWithWebIdentity');
    expect(calls.length).toBeGreaterThan(0);
    expect(
      calls.filter((e) => e.identityArn !== session).map((e) => `${e.action} by ${e.identityArn}`),
    ).toEqual([]);
    expect(
      aws.opLog
        .iamChecks()
        .filter((c) => !c.allowed)
        .map((c) => `${c.action} on ${c.resource}`),
    ).toEqual([]);
    await check({ run, steps: run.jobs.flatMap((j) => j.steps), aws, github });
  } finally {
    await aws.stop();
    await github?.stop();
    await tokenService.stop();
  }
}

/** Every image and service the suite's steps report is there, as reported. */
async function checkReported({ steps, aws, github }: ExampleRun): Promise<void> {
  const config = { endpoint: aws.endpoint, region: REGION, credentials: aws.credentials, maxAttempts: 3 };
  const ecr = new ECRClient(config);
  const ecs = new ECSClient(config);
  try {
    for (const step of steps.filter((s) => s.phase === 'main' && s.uses)) {
      const ref = suiteActionOf(step.uses!)?.ref;
      if (ref === 'ecr-push' || ref === '') {
        const images = await ecr.send(
          new DescribeImagesCommand({
            repositoryName: step.inputs.repository,
            imageIds: [{ imageDigest: step.outputs.digest }],
          }),
        );
        expect(step.outputs['image-uri']).toMatch(/@sha256:[0-9a-f]{64}$/);
        expect(new Set(images.imageDetails?.[0]?.imageTags)).toEqual(new Set(step.outputs.tags!.split('\n')));
      }
      if (ref === 'eks-rollout') {
        expect(step.outputs['rollout-state']).toBe('COMPLETED');
        expect(step.outputs['rolled-back']).toBe('false');
        // Each workload whose image was set by container name runs that image now.
        const store = aws.admin.eks.kubernetes(step.inputs.cluster!)!.store;
        const deployments = findByPath('apps', 'v1', 'deployments')!;
        for (const line of (step.inputs.images ?? '').split('\n').filter((l) => /^[\w-]+=/.test(l))) {
          const [container, image] = [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)];
          for (const workload of (step.inputs.workloads ?? '').split(/[\s,]+/).filter(Boolean)) {
            const d = store.get(deployments, step.inputs.namespace || 'default', workload.split('/')[1]!);
            const containers = (
              d?.spec as { template: { spec: { containers: Array<{ name: string; image: string }> } } }
            ).template.spec.containers;
            expect(containers.find((c) => c.name === container)?.image).toBe(image);
          }
        }
      }
      if (ref === '' && step.inputs['eks-cluster']) {
        // The root action to EKS: the container runs the pushed image by digest.
        expect(step.outputs['rollout-state']).toBe('COMPLETED');
        const store = aws.admin.eks.kubernetes(step.inputs['eks-cluster'])!.store;
        const deployments = findByPath('apps', 'v1', 'deployments')!;
        for (const workload of (step.inputs.workloads ?? '').split(/[\s,]+/).filter(Boolean)) {
          const d = store.get(deployments, step.inputs.namespace || 'default', workload.split('/')[1]!);
          const containers = (
            d?.spec as { template: { spec: { containers: Array<{ name: string; image: string }> } } }
          ).template.spec.containers;
          expect(containers.find((c) => c.name === step.inputs['container-name'])?.image).toBe(
            step.outputs['image-uri'],
          );
        }
        continue;
      }
      if (ref === 'ecs-deploy' && step.inputs.preview) {
        await checkPreview(step, ecs, github!);
        continue;
      }
      if (ref === 'ecs-deploy' || ref === '') {
        expect(step.outputs['rollout-state']).toBe('COMPLETED');
        const cluster = step.inputs.cluster!;
        const service = (step.inputs.service || step.inputs.services)!;
        const out = await ecs.send(new DescribeServicesCommand({ cluster, services: [service] }));
        expect(out.services?.[0]?.taskDefinition).toBe(step.outputs['task-definition-arn']);
        // The root action's `image` is a source to push; what it deploys is the digest it pushed.
        const deployed = ref === '' ? step.outputs['image-uri'] : step.inputs.image;
        if (deployed) {
          const { taskDefinition } = await ecs.send(
            new DescribeTaskDefinitionCommand({ taskDefinition: step.outputs['task-definition-arn'] }),
          );
          const containers = taskDefinition?.containerDefinitions ?? [];
          const container = step.inputs['container-name']
            ? containers.find((c) => c.name === step.inputs['container-name'])
            : containers[0];
          expect(container?.image).toBe(deployed);
        }
      }
    }
  } finally {
    ecr.destroy();
    ecs.destroy();
  }
}

/**
 * A preview step's report is there: after a deploy, the service runs the reported revision with
 * the step's image, and the pull request has the comment with the URL and a successful deployment;
 * after a teardown or a sweep, the service is gone and the deployment inactive.
 */
async function checkPreview(step: StepRun, ecs: ECSClient, github: LocalGitHub): Promise<void> {
  const service = `${step.inputs['preview-base-service']}-pr-${PULL_REQUEST}`;
  const { services } = await ecs.send(
    new DescribeServicesCommand({ cluster: step.inputs.cluster!, services: [service] }),
  );
  const live = services?.find((s) => s.status !== 'INACTIVE');
  const state = github.state();
  const deployment = state.deployments.find((d) => d.environment === `preview/${service}`);
  const statuses = state.statuses[String(deployment?.id)] ?? [];
  if (step.inputs.preview === 'deploy') {
    const url = `http://pr-${PULL_REQUEST}.${step.inputs['preview-domain']}`;
    expect(step.outputs).toMatchObject({
      'preview-state': 'CREATED',
      'preview-url': url,
      'rollout-state': 'COMPLETED',
    });
    expect(live?.taskDefinition).toBe(step.outputs['task-definition-arn']);
    const { taskDefinition } = await ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: step.outputs['task-definition-arn'] }),
    );
    expect(taskDefinition?.containerDefinitions?.[0]?.image).toBe(step.inputs.image);
    const comments = state.comments.filter((c) => c.issueNumber === PULL_REQUEST && c.body.includes(url));
    expect(comments).toHaveLength(1);
    expect(deployment?.sha).toBe(HEAD_SHA);
    expect(statuses.at(-1)).toMatchObject({ state: 'success', environmentUrl: url });
  } else {
    expect(step.outputs['preview-state']).toBe('DELETED');
    expect(live).toBeUndefined();
    expect(statuses.at(-1)?.state).toBe('inactive');
  }
}

// --- The tests --------------------------------------------------------------------------------

test("the README has examples: the release workflow and each action's", () => {
  expect(runnable.map((e) => e.block.section)).toEqual(
    expect.arrayContaining(['ecr-push', 'ecs-deploy', 'Example workflow']),
  );
});

test('every yaml block is a workflow, a list of steps or workflow-level keys (no half workflows)', () => {
  expect(all.filter((e) => e.kind === 'broken').map((e) => e.title)).toEqual([]);
});

describe.each(all.filter((e) => e.kind !== 'other').map((e) => [e.title, e] as const))(
  '%s',
  (_title, example) => {
    test("parses with GitHub's workflow parser, no errors", async () => {
      const parsed = await parseWorkflowText('readme.yml', example.workflow);
      expect(parsed.errors).toEqual([]);
    });

    if ((example.kind === 'workflow' || example.kind === 'steps') && example !== release) {
      const it = needsEngine(example.workflow) ? withEngine : test;
      it(
        'runs on local-aws: every step succeeds, and what it reports is there',
        () => runExample(example, checkReported),
        300_000,
      );
    }
  },
);

describe('the release example', () => {
  test('pushes, then deploys the pushed image by digest', () => {
    const steps = suiteSteps(release?.workflow ?? '');
    expect(steps.map((s) => s.ref)).toEqual(['ecr-push', 'ecs-deploy']);
    const doc = parseYaml(release!.workflow) as {
      jobs: Record<string, { steps: Array<{ id?: string; uses?: string }> }>;
    };
    const push = Object.values(doc.jobs)
      .flatMap((j) => j.steps)
      .find((s) => s.uses && suiteActionOf(s.uses)?.ref === 'ecr-push');
    expect(steps[1]!.with.image).toBe(`\${{ steps.${push?.id}.outputs.image-uri }}`);
  });

  const it = release && needsEngine(release.workflow) ? withEngine : test;
  it(
    'runs on local-aws end to end: every step succeeds, and the service runs the digest ecr-push pushed',
    () =>
      runExample(release!, async (r) => {
        await checkReported(r);
        const { steps, aws } = r;
        const push = steps.find((s) => s.uses && suiteActionOf(s.uses)?.ref === 'ecr-push')!;
        const deploy = steps.find((s) => s.uses && suiteActionOf(s.uses)?.ref === 'ecs-deploy')!;
        expect(push.outputs['image-uri']).toMatch(/@sha256:[0-9a-f]{64}$/);
        const ecs = new ECSClient({ endpoint: aws.endpoint, region: REGION, credentials: aws.credentials });
        try {
          const { services } = await ecs.send(
            new DescribeServicesCommand({
              cluster: deploy.inputs.cluster!,
              services: [deploy.inputs.service!],
            }),
          );
          const { taskDefinition } = await ecs.send(
            new DescribeTaskDefinitionCommand({ taskDefinition: services![0]!.taskDefinition! }),
          );
          const running = taskDefinition!.containerDefinitions!.find(
            (c) => c.name === deploy.inputs['container-name'],
          );
          expect(running?.image).toBe(push.outputs['image-uri']);
          expect(services![0]!.deployments).toHaveLength(1);
          expect(services![0]!.deployments![0]!.rolloutState).toBe('COMPLETED');
        } finally {
          ecs.destroy();
        }
      }),
    300_000,
  );
});

describe('the workflow runner', () => {
  const github = { event_name: 'push', ref: 'refs/heads/main', ref_name: 'main', sha: pushToMain.sha };
  const run = async (workflow: string, secrets: Record<string, string> = {}) =>
    runWorkflow(await parseWorkflowText('runner.yml', workflow), {
      machineEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      github,
      secrets,
      vars: { SKIP: 'yes' },
      idToken: { ACTIONS_ID_TOKEN_REQUEST_URL: 'http://127.0.0.1:1/token?x=1' },
    });
  const outcomes = (r: WorkflowRun) => r.jobs[0]!.steps.map((s) => `${s.id}:${s.outcome}`);

  test('passes outputs, GITHUB_ENV and env between steps, evaluates if:, masks secrets, stops at a failure', async () => {
    const r = await run(
      `on: push
env:
  GREETING: hello
jobs:
  one:
    runs-on: ubuntu-latest
    steps:
      - id: a
        run: |
          echo "word=$GREETING-\${{ github.ref_name }}" >> "$GITHUB_OUTPUT"
          echo "LATER=from-env-file" >> "$GITHUB_ENV"
      - id: b
        env:
          TOKEN: \${{ secrets.TOKEN }}
        run: |
          test "\${{ steps.a.outputs.word }}" = hello-main
          test "\${{ env.LATER }}" = from-env-file
          echo "the token is $TOKEN"
      - id: skipped
        if: vars.SKIP != 'yes'
        run: exit 3
      - id: fails
        run: exit 4
      - id: after
        run: echo never
      - id: cleanup
        if: failure()
        run: echo cleaning
`,
      { TOKEN: 's3cr3t-value' },
    );
    expect(outcomes(r)).toEqual([
      'a:success',
      'b:success',
      'skipped:skipped',
      'fails:failure',
      'after:skipped',
      'cleanup:success',
    ]);
    expect(r.jobs[0]!.result).toBe('failure');
    expect(r.jobs[0]!.steps[1]!.log).toContain('the token is ***');
    expect(r.jobs[0]!.steps[3]!.log).toContain('Process completed with exit code 4.');
  });

  test.each([
    ['permissions:\n  id-token: write\n', 'http://127.0.0.1:1/token?x=1'],
    ['permissions: write-all\n', 'http://127.0.0.1:1/token?x=1'],
    ['permissions:\n  contents: read\n', 'none'],
    ['', 'none'],
  ])(
    'the OIDC token request reaches a job only when permissions grant id-token: write (%j)',
    async (permissions, url) => {
      const r = await run(
        `on: push\n${permissions}jobs:\n  one:\n    runs-on: ubuntu-latest\n    steps:\n` +
          '      - id: s\n        run: echo "url=${ACTIONS_ID_TOKEN_REQUEST_URL:-none}" >> "$GITHUB_OUTPUT"\n',
      );
      expect(r.jobs[0]!.steps[0]!.outputs.url).toBe(url);
    },
  );

  test('an action without a stand-in fails its step, saying so', async () => {
    const r = await run(
      'on: push\njobs:\n  one:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: someone/else@v1\n',
    );
    expect(outcomes(r)).toEqual(['__someone_else:failure']);
    expect(r.jobs[0]!.steps[0]!.log).toMatch(/no stand-in for `uses: someone\/else@v1`/);
  });

  test("the suite's actions run from dist/, and an input action.yml does not declare is a warning", async () => {
    const r = await run(
      'on: push\njobs:\n  one:\n    runs-on: ubuntu-latest\n    steps:\n' +
        '      - id: deploy\n        uses: acme/aws-containers/ecs-deploy@v1\n        with:\n          clusterr: production\n',
    );
    expect(outcomes(r)).toEqual(['deploy:failure']);
    expect(r.jobs[0]!.warnings).toEqual([
      expect.stringMatching(/^Unexpected input\(s\) 'clusterr', valid inputs are \['cluster', /),
    ]);
    expect(r.jobs[0]!.steps[0]!.log).toMatch(/::error::Input "cluster": .*required/);
    // The runner passed action.yml's defaults, as GitHub's does.
    expect(r.jobs[0]!.steps[0]!.inputs).toMatchObject({ timeout: '15m', 'poll-interval': '5s' });
  });
});

test('each file the example workflow shows (a block after "`<path>`:") is the fixture file', () => {
  const shown = blocks(README)
    .filter((b) => b.section === 'Example workflow')
    .map((b) => ({ b, file: /`([^`\s]+)`:\s*$/.exec(b.before)?.[1] }))
    .filter((x): x is { b: Block; file: string } => x.file !== undefined);
  expect(shown.map((s) => s.file)).toContain('.aws/task-definition.json');
  for (const { b, file } of shown) {
    expect(`${file}:\n${b.text}`).toBe(
      `${file}:\n${readFileSync(path.join(FIXTURES, REPOSITORY, file), 'utf8')}`,
    );
  }
});
