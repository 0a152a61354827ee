// ECS pulls an image from whichever local-aws registry host it names, in that host's account and
// region — as a task pulls <account>.dkr.ecr.<region>.amazonaws.com/… whoever runs it: the same
// repository and tag in two registries are two images. The AWS CLI v2 reads the tasks back (the
// digest each container ran, its labelled exit code, the pull error of a tag that is not there).
// An image named by ECR's own host form (<account>.dkr.ecr.<region>.amazonaws.com) pulls from the
// registry local-aws keeps for that account and region.
import { CreateRepositoryCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { jest } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { buildImage, defaultNetwork, startLocalAws, type LocalAws } from '../src/index.js';
import { awsCli, withCli } from './helpers/ecs-judges.js';
import { passwordFromToken, RegistryClient } from './helpers/registry-client.js';

jest.setTimeout(120_000);

const S = 1000;
const A = { accountId: '000000000000', accessKeyId: 'test', secretAccessKey: 'test' };
const B = { accountId: '111111111111', accessKeyId: 'key-of-b', secretAccessKey: 'secret-of-b' };

let aws: LocalAws;
/** B's registry in eu-west-1 and A's default one, each with tools/job:v1 (exit codes 7 and 3). */
const pushed: Record<'b' | 'a', { host: string; digest: string }> = {} as never;

async function push(who: typeof A, region: string, host: string, exitCode: number): Promise<string> {
  const ecr = new ECRClient({ endpoint: aws.endpoint, region, credentials: who, maxAttempts: 1 });
  try {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'tools/job' }));
    const token = await ecr.send(new GetAuthorizationTokenCommand({}));
    const registry = new RegistryClient({
      baseUrl: `https://${host}`,
      auth: { user: 'AWS', password: passwordFromToken(token.authorizationData![0]!.authorizationToken!) },
      ca: readFileSync(aws.caCertPath, 'utf8'),
    });
    const image = buildImage([{ size: 64 }], { labels: { 'local-aws.exit-code': String(exitCode) } });
    const r = await registry.pushImage('tools/job', image, 'v1');
    if (r.status !== 201) throw new Error(`push to ${host} failed: ${r.status} ${r.body.toString()}`);
    return r.header('docker-content-digest')!;
  } finally {
    ecr.destroy();
  }
}

beforeAll(async () => {
  aws = await startLocalAws({ steppedClock: true, credentials: [A, B] });
  const hostB = await aws.registryHostFor(B.accountId, 'eu-west-1');
  pushed.b = { host: hostB, digest: await push(B, 'eu-west-1', hostB, 7) };
  pushed.a = { host: aws.registryHost, digest: await push(A, 'us-east-1', aws.registryHost, 3) };
  await awsCli(aws, ['ecs', 'create-cluster', '--cluster-name', 'pull']);
});
afterAll(async () => {
  await aws?.stop();
});

interface CliTask {
  lastStatus: string;
  stopCode?: string;
  stoppedReason?: string;
  containers: Array<{ exitCode?: number; imageDigest?: string }>;
}

const localhost = (host: string) => host.replace('127.0.0.1', 'localhost');

withCli.each([
  [
    "B's registry in eu-west-1",
    () => `${pushed.b.host}/tools/job:v1`,
    () => ({ exitCode: 7, digest: pushed.b.digest }),
  ],
  [
    'the same host as localhost',
    () => `${localhost(pushed.b.host)}/tools/job:v1`,
    () => ({ exitCode: 7, digest: pushed.b.digest }),
  ],
  [
    "B's registry by digest",
    () => `${pushed.b.host}/tools/job@${pushed.b.digest}`,
    () => ({ exitCode: 7, digest: pushed.b.digest }),
  ],
  [
    "A's default registry",
    () => `${pushed.a.host}/tools/job:v1`,
    () => ({ exitCode: 3, digest: pushed.a.digest }),
  ],
  [
    "B's registry named as on AWS (ECR's host form)",
    () => `${B.accountId}.dkr.ecr.eu-west-1.amazonaws.com/tools/job:v1`,
    () => ({ exitCode: 7, digest: pushed.b.digest }),
  ],
  [
    "A's registry named as on AWS, by digest",
    () => `${A.accountId}.dkr.ecr.us-east-1.amazonaws.com/tools/job@${pushed.a.digest}`,
    () => ({ exitCode: 3, digest: pushed.a.digest }),
  ],
  [
    "a tag B's registry does not have, named as on AWS",
    () => `${B.accountId}.dkr.ecr.eu-west-1.amazonaws.com/tools/job:v2`,
    () => {
      const ref = `${B.accountId}.dkr.ecr.eu-west-1.amazonaws.com/tools/job:v2`;
      return {
        stoppedReason: `CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref ${ref}: ${ref}: not found`,
      };
    },
  ],
  [
    "a tag B's registry does not have",
    () => `${pushed.b.host}/tools/job:v2`,
    () => ({
      stoppedReason: `CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref ${pushed.b.host}/tools/job:v2: ${pushed.b.host}/tools/job:v2: not found`,
    }),
  ],
  [
    "A's digest on B's host",
    () => `${pushed.b.host}/tools/job@${pushed.a.digest}`,
    () => ({
      stoppedReason: `CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref ${pushed.b.host}/tools/job@${pushed.a.digest}: ${pushed.b.host}/tools/job@${pushed.a.digest}: not found`,
    }),
  ],
])('a task run by A in us-east-1 from %s', async (name, image, expected) => {
  const family = `job-${name.replace(/\W+/g, '-')}`.slice(0, 60);
  const registered = await awsCli(aws, [
    'ecs',
    'register-task-definition',
    '--cli-input-json',
    JSON.stringify({
      family,
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: 'job', image: image(), essential: true }],
    }),
  ]);
  expect(registered.code).toBe(0);
  const run = await awsCli(aws, [
    'ecs',
    'run-task',
    '--cluster',
    'pull',
    '--task-definition',
    family,
    '--network-configuration',
    `awsvpcConfiguration={subnets=[${defaultNetwork().subnetIds[0]}]}`,
  ]);
  const arn = (run.json.tasks as Array<{ taskArn: string }>)[0]!.taskArn;
  await aws.clock.advance(2 * 60 * S);
  const [task] = (await awsCli(aws, ['ecs', 'describe-tasks', '--cluster', 'pull', '--tasks', arn])).json
    .tasks as CliTask[];
  const want = expected();
  if ('stoppedReason' in want)
    expect([task!.lastStatus, task!.stopCode, task!.stoppedReason]).toEqual([
      'STOPPED',
      'TaskFailedToStart',
      want.stoppedReason,
    ]);
  else
    expect([task!.lastStatus, task!.containers[0]!.exitCode, task!.containers[0]!.imageDigest]).toEqual([
      'STOPPED',
      want.exitCode,
      want.digest,
    ]);
});
