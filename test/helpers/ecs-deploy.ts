// Shared set-up for the ecs-deploy-fargate end-to-end tests: one local-aws on a scaled clock, images
// pushed to its registry (labels script how their containers behave), and the action run through
// dist/ as the runner runs it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateRepositoryCommand, ECRClient } from '@aws-sdk/client-ecr';
import {
  CreateClusterCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
  type Service,
} from '@aws-sdk/client-ecs';
import {
  buildImage,
  defaultNetwork,
  startLocalAws,
  type LocalAws,
  type LocalAwsOptions,
} from '@aws-containers/local-aws';
import { localAwsEnv, runAction, type ActionRun } from './action-runner.js';
import { loggedInRegistry } from './registry.js';

/** A subnet of the default network local-aws gives the default account and region (zone a). */
export const SUBNET = defaultNetwork().subnetIds[0]!;
/** That VPC's default security group. */
export const SECURITY_GROUP = defaultNetwork().securityGroupId;
/** A pullable image of another registry: local-aws does not resolve it and it has no labels. */
export const NGINX = 'public.ecr.aws/nginx/nginx:1';

export interface EcsWorld {
  aws: LocalAws;
  ecs: ECSClient;
  /** 127.0.0.1:<https port>: the host of images in local-aws's registry. */
  host: string;
  /** Pushes a one-layer image with these labels to `repository:tag`; returns its reference. */
  push(repository: string, tag: string, labels?: Record<string, string>): Promise<string>;
  /** A reference in the local registry that was never pushed (CannotPullContainerError). */
  missing(repository: string, tag: string): Promise<string>;
  /** Writes a file in a temp dir; returns its path. */
  file(name: string, content: string): string;
  createCluster(name: string): Promise<void>;
  deploy(inputs: Record<string, string>, timeoutMs?: number): Promise<ActionRun>;
  service(cluster: string, name: string): Promise<Service>;
  /** Every revision ARN of the family, oldest first, ACTIVE or not. */
  revisions(family: string, status?: 'ACTIVE' | 'INACTIVE'): Promise<string[]>;
  taskDefinition(reference: string): ReturnType<typeof describeTaskDefinition>;
  /** The ECS operations called since `from` (an index into the op log). */
  ecsCalls(from?: number): string[];
  mark(): number;
  stop(): Promise<void>;
}

async function describeTaskDefinition(ecs: ECSClient, reference: string) {
  const out = await ecs.send(
    new DescribeTaskDefinitionCommand({ taskDefinition: reference, include: ['TAGS'] }),
  );
  return { taskDefinition: out.taskDefinition!, tags: out.tags ?? [] };
}

export async function startEcsWorld(
  timeScale: number,
  options: Omit<LocalAwsOptions, 'timeScale'> = {},
): Promise<EcsWorld> {
  const aws = await startLocalAws({ ...options, timeScale });
  // Retries: a kept-alive socket the server has just closed resets the next request now and then.
  const config = { endpoint: aws.endpoint, region: aws.region, credentials: aws.credentials, maxAttempts: 3 };
  const ecs = new ECSClient(config);
  const ecr = new ECRClient(config);
  const { registry, host } = await loggedInRegistry(aws);
  const repositories = new Set<string>();
  const ensureRepository = async (name: string) => {
    if (repositories.has(name)) return;
    await ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
    repositories.add(name);
  };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ecs-deploy-e2e-'));

  return {
    aws,
    ecs,
    host,
    async push(repository, tag, labels = {}) {
      await ensureRepository(repository);
      const pushed = await registry.pushImage(repository, buildImage([{ size: 256 }], { labels }), tag);
      if (pushed.status !== 201) throw new Error(`push failed: ${pushed.status} ${pushed.body.toString()}`);
      return `${host}/${repository}:${tag}`;
    },
    async missing(repository, tag) {
      await ensureRepository(repository);
      return `${host}/${repository}:${tag}`;
    },
    file(name, content) {
      const file = path.join(dir, name);
      writeFileSync(file, content);
      return file;
    },
    async createCluster(name) {
      await ecs.send(new CreateClusterCommand({ clusterName: name }));
    },
    deploy(inputs, timeoutMs = 60_000) {
      return runAction('ecs-deploy-fargate', {
        inputs: { 'poll-interval': '1s', ...inputs },
        env: localAwsEnv(aws, 'ecs-deploy-fargate'),
        timeoutMs,
      });
    },
    async service(cluster, name) {
      const out = await ecs.send(new DescribeServicesCommand({ cluster, services: [name] }));
      const found = out.services?.[0];
      if (!found) throw new Error(`no service ${cluster}/${name}: ${JSON.stringify(out.failures)}`);
      return found;
    },
    async revisions(family, status) {
      const arns: string[] = [];
      let nextToken: string | undefined;
      do {
        const page = await ecs.send(
          new ListTaskDefinitionsCommand({
            familyPrefix: family,
            ...(status ? { status } : {}),
            ...(nextToken ? { nextToken } : {}),
          }),
        );
        arns.push(
          ...(page.taskDefinitionArns ?? []).filter((a) => a.includes(`:task-definition/${family}:`)),
        );
        nextToken = page.nextToken;
      } while (nextToken);
      return arns;
    },
    taskDefinition: (reference) => describeTaskDefinition(ecs, reference),
    ecsCalls(from = 0) {
      return aws.opLog
        .entries({ service: 'ecs' })
        .slice(from)
        .map((e) => e.operation);
    },
    mark: () => aws.opLog.entries({ service: 'ecs' }).length,
    async stop() {
      ecs.destroy();
      ecr.destroy();
      await aws.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A register-task-definition document for Fargate: one container `app` unless others are given. */
export function taskDefinition(
  family: string,
  containers: Array<{ name: string; image: string; [member: string]: unknown }>,
  extra: Record<string, unknown> = {},
): string {
  return JSON.stringify({
    family,
    requiresCompatibilities: ['FARGATE'],
    networkMode: 'awsvpc',
    cpu: '256',
    memory: '512',
    containerDefinitions: containers.map((c) => ({ essential: true, ...c })),
    ...extra,
  });
}

/** Operations that change nothing. */
export const READ_ONLY = /^(Describe|List)/;

/** The ECS calls that change something, in order. */
export function mutations(calls: readonly string[]): string[] {
  return calls.filter((op) => !READ_ONLY.test(op));
}

/** ARNs of local-aws's default account and region start with this. */
export const ACCOUNT_ARN = 'arn:aws:ecs:us-east-1:000000000000';

/** The log lines inside `::group::<title>` … `::endgroup::`. */
export function groupOf(stdout: string, title: string): string {
  const start = stdout.indexOf(`::group::${title}\n`);
  if (start < 0) throw new Error(`no group "${title}" in:\n${stdout}`);
  const end = stdout.indexOf('::endgroup::', start);
  return stdout.slice(start, end < 0 ? undefined : end);
}
