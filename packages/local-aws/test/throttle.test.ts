// `throttle: 'aws'` (`--throttle aws`): AWS's per-account, per-region API rate limits, as token
// buckets refilled on the simulated clock. Judged by clients no one here wrote: the AWS SDK v3
// (and its own retry classification), the AWS CLI v2, fetch against the registry, and the CLI's
// process. On a stepped clock a bucket refills only when the test steps it, so counts are exact.
import {
  CreateClusterCommand,
  DescribeServicesCommand,
  ECSClient,
  ListClustersCommand,
  ListTasksCommand,
} from '@aws-sdk/client-ecs';
import {
  CreateRepositoryCommand,
  GetAuthorizationTokenCommand,
  PutImageCommand,
  type ECRClient,
} from '@aws-sdk/client-ecr';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { jest } from '@jest/globals';
import { isThrottlingError } from '@smithy/core/retry';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ApiThrottle, startLocalAws, type LocalAws, type ThrottleCategory } from '../src/index.js';
import { ecrClient } from './helpers/clients.js';
import { awsCli, withCli } from './helpers/ecs-judges.js';

jest.setTimeout(60_000);

const ROOT = join(import.meta.dirname, '..', '..', '..');
const BIN = join(ROOT, 'packages', 'local-aws', 'bin', 'local-aws.mjs');

/** ECS's "Service read actions" and "Cluster read actions" buckets (request-throttling.html). */
const SERVICE_READ = { burst: 100, rate: 20 };
const CLUSTER_READ = { burst: 50, rate: 20 };
const CLUSTER_MODIFY = { burst: 20, rate: 1 };

const OTHER = { accessKeyId: 'other', secretAccessKey: 'other-secret', accountId: '111111111111' };
const MAKER = { accessKeyId: 'maker', secretAccessKey: 'maker-secret', accountId: '222222222222' };

function ecsClient(
  aws: Pick<LocalAws, 'endpoint'>,
  credentials: { accessKeyId: string; secretAccessKey: string } = {
    accessKeyId: 'test',
    secretAccessKey: 'test',
  },
  region = 'us-east-1',
): ECSClient {
  return new ECSClient({ endpoint: aws.endpoint, region, credentials, maxAttempts: 1 });
}

/** The error a call fails with, or undefined when it succeeds. */
async function failure(
  call: Promise<unknown>,
): Promise<(Error & { $metadata?: { httpStatusCode?: number } }) | undefined> {
  try {
    await call;
    return undefined;
  } catch (error) {
    return error as Error & { $metadata?: { httpStatusCode?: number } };
  }
}

/** How many of `n` calls in a row succeed before the first one is throttled (all n: none was). */
async function succeededBeforeThrottled(n: number, call: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < n; i++) {
    const error = await failure(call());
    if (error?.name === 'ThrottlingException' || error?.name === 'Throttling') return i;
    if (error) throw error;
  }
  return n;
}

describe('the buckets (no server)', () => {
  const category: ThrottleCategory = {
    service: 'svc',
    category: 'Reads',
    burst: 3,
    rate: 2,
    operations: ['Read', 'List'],
    source: 'test',
  };
  let now = 0;
  const throttle = new ApiThrottle({ now: () => now }, true, [category]);

  test('a full bucket gives its burst, then refuses; operations of a category share it', () => {
    expect([1, 2, 3].map((i) => throttle.admit('a', 'r', 'svc', i === 2 ? 'List' : 'Read'))).toEqual([
      true,
      true,
      true,
    ]);
    expect(throttle.admit('a', 'r', 'svc', 'Read')).toBe(false);
    expect(throttle.admit('a', 'r', 'svc', 'List')).toBe(false);
    expect(throttle.admit('a', 'r', 'svc', 'Write')).toBe(true); // in no category: not throttled
  });

  test('it refills continuously on the clock, never past its burst', () => {
    now += 250; // half a token
    expect(throttle.admit('a', 'r', 'svc', 'Read')).toBe(false);
    now += 250; // one token in all
    expect(throttle.admit('a', 'r', 'svc', 'Read')).toBe(true);
    expect(throttle.admit('a', 'r', 'svc', 'Read')).toBe(false);
    now += 60_000;
    expect(throttle.snapshot().buckets).toEqual([
      { account: 'a', region: 'r', service: 'svc', category: 'Reads', tokens: 3, burst: 3, rate: 2 },
    ]);
    expect(throttle.snapshot().throttledCount).toBe(4);
  });

  test('each account and region has its own bucket; off admits everything', () => {
    expect(throttle.admit('b', 'r', 'svc', 'Read')).toBe(true);
    expect(throttle.admit('a', 'r2', 'svc', 'Read')).toBe(true);
    const off = new ApiThrottle({ now: () => 0 }, false, [category]);
    expect(Array.from({ length: 10 }, () => off.admit('a', 'r', 'svc', 'Read'))).not.toContain(false);
  });
});

describe('off by default', () => {
  test('200 DescribeServices in a burst all succeed', async () => {
    const aws = await startLocalAws({ steppedClock: true });
    const ecs = ecsClient(aws);
    try {
      await ecs.send(new CreateClusterCommand({ clusterName: 'free' }));
      const results = await Promise.allSettled(
        Array.from({ length: 200 }, () =>
          ecs.send(new DescribeServicesCommand({ cluster: 'free', services: ['none'] })),
        ),
      );
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      expect(aws.admin.throttle.snapshot()).toEqual({ enabled: false, buckets: [], throttledCount: 0 });
    } finally {
      ecs.destroy();
      await aws.stop();
    }
  });
});

describe("throttle 'aws' on a stepped clock", () => {
  let aws: LocalAws;
  let ecs: ECSClient;
  const describe1 = () => ecs.send(new DescribeServicesCommand({ cluster: 'thr', services: ['none'] }));

  beforeAll(async () => {
    aws = await startLocalAws({
      steppedClock: true,
      throttle: 'aws',
      credentials: [{ accessKeyId: 'test', secretAccessKey: 'test' }, OTHER, MAKER],
    });
    ecs = ecsClient(aws);
    await ecs.send(new CreateClusterCommand({ clusterName: 'thr' }));
  });
  afterAll(async () => {
    ecs?.destroy();
    await aws?.stop();
  });

  test('ECS service reads: exactly the burst, then 400 ThrottlingException the SDK classifies as throttling', async () => {
    expect(await succeededBeforeThrottled(SERVICE_READ.burst + 1, describe1)).toBe(SERVICE_READ.burst);
    const error = await failure(describe1());
    expect(error?.name).toBe('ThrottlingException');
    expect(error?.message).toBe('Rate exceeded');
    expect(error?.$metadata?.httpStatusCode).toBe(400);
    expect(isThrottlingError(error as Parameters<typeof isThrottlingError>[0])).toBe(true);
  });

  test('other categories, regions and accounts have their own buckets', async () => {
    expect(await failure(ecs.send(new ListTasksCommand({ cluster: 'thr' })))).toBeUndefined();
    const west = ecsClient(aws, { accessKeyId: 'test', secretAccessKey: 'test' }, 'us-west-2');
    const other = ecsClient(aws, OTHER);
    try {
      await west.send(new CreateClusterCommand({ clusterName: 'thr' }));
      await other.send(new CreateClusterCommand({ clusterName: 'thr' }));
      for (const client of [west, other]) {
        const call = () => client.send(new DescribeServicesCommand({ cluster: 'thr', services: ['none'] }));
        expect(await succeededBeforeThrottled(SERVICE_READ.burst + 1, call)).toBe(SERVICE_READ.burst);
      }
    } finally {
      west.destroy();
      other.destroy();
    }
    expect((await failure(describe1()))?.name).toBe('ThrottlingException');
  });

  test('a second of simulated time gives `rate` more tokens', async () => {
    await aws.clock.advance(1000);
    expect(await succeededBeforeThrottled(SERVICE_READ.rate + 1, describe1)).toBe(SERVICE_READ.rate);
    const bucket = aws.admin.throttle
      .snapshot()
      .buckets.find(
        (b) =>
          b.account === '000000000000' && b.region === 'us-east-1' && b.category === 'Service read actions',
      );
    expect(bucket).toMatchObject({ service: 'ecs', burst: SERVICE_READ.burst, rate: SERVICE_READ.rate });
    expect(bucket!.tokens).toBeLessThan(1);
  });

  test('the op log marks the refused calls throttled; they ran nothing', async () => {
    const throttled = aws.opLog.entries({ throttled: true, operation: 'DescribeServices' });
    expect(throttled.length).toBeGreaterThanOrEqual(5);
    for (const entry of throttled) {
      expect(entry).toMatchObject({ status: 400, errorCode: 'ThrottlingException', throttled: true });
      expect(entry.iam).toBeUndefined(); // refused before IAM was asked and the operation ran
    }
    expect(aws.opLog.entries({ throttled: false }).every((e) => e.throttled === undefined)).toBe(true);

    // A refused CreateCluster creates nothing (a fresh account: its cluster-modify bucket is full).
    const maker = ecsClient(aws, MAKER);
    try {
      const create = (i: number) => maker.send(new CreateClusterCommand({ clusterName: `c-${i}` }));
      let i = 0;
      expect(await succeededBeforeThrottled(CLUSTER_MODIFY.burst + 1, () => create(i++))).toBe(
        CLUSTER_MODIFY.burst,
      );
      const listed = await maker.send(new ListClustersCommand({}));
      expect(listed.clusterArns).toHaveLength(CLUSTER_MODIFY.burst);
      expect(listed.clusterArns).not.toContain(
        `arn:aws:ecs:us-east-1:${MAKER.accountId}:cluster/c-${CLUSTER_MODIFY.burst}`,
      );
      const refused = aws.opLog.entries({
        throttled: true,
        operation: 'CreateCluster',
        accessKeyId: 'maker',
      });
      expect(refused).toHaveLength(1);
    } finally {
      maker.destroy();
    }
  });

  withCli(
    'the AWS CLI v2 sees ThrottlingException (ECS) and Throttling (STS, Query), "Rate exceeded"',
    async () => {
      // One attempt: the CLI's own retries would hide the refusal.
      const cli = (args: string[]) =>
        awsCli(aws, args, 'us-east-1', { AWS_MAX_ATTEMPTS: '1', AWS_RETRY_MODE: 'standard' });
      // The service-read bucket of the default account is empty (the tests above).
      const ecsRefused = await cli(['ecs', 'describe-services', '--cluster', 'thr', '--services', 'none']);
      expect(ecsRefused.code).not.toBe(0);
      expect(ecsRefused.stderr).toContain(
        'An error occurred (ThrottlingException) when calling the DescribeServices operation',
      );
      expect(ecsRefused.stderr).toContain('Rate exceeded');

      const sts = new STSClient({
        endpoint: aws.endpoint,
        region: 'us-east-1',
        credentials: aws.credentials,
        maxAttempts: 1,
      });
      try {
        expect(await succeededBeforeThrottled(601, () => sts.send(new GetCallerIdentityCommand({})))).toBe(
          600,
        );
      } finally {
        sts.destroy();
      }
      const stsRefused = await cli(['sts', 'get-caller-identity']);
      expect(stsRefused.code).not.toBe(0);
      expect(stsRefused.stderr).toContain(
        'An error occurred (Throttling) when calling the GetCallerIdentity operation',
      );
      expect(stsRefused.stderr).toContain('Rate exceeded');
    },
  );

  test("the registry shares ECR's buckets and answers 429 TOOMANYREQUESTS; the op log records it", async () => {
    const ecr: ECRClient = ecrClient(aws);
    try {
      await ecr.send(new CreateRepositoryCommand({ repositoryName: 'thr' }));
      const token = (await ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData![0]!
        .authorizationToken!;
      const manifest = JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: {
          mediaType: 'application/vnd.oci.image.config.v1+json',
          digest: `sha256:${'0'.repeat(64)}`,
          size: 2,
        },
        layers: [],
      });
      const putManifest = (tag: string) =>
        fetch(`${aws.httpUrl}/v2/thr/manifests/${tag}`, {
          method: 'PUT',
          headers: {
            Authorization: `Basic ${token}`,
            'Content-Type': 'application/vnd.oci.image.manifest.v1+json',
          },
          body: manifest,
        });
      // PutImage: 10 per second, through the API and the registry alike (five each), then refused.
      for (let i = 0; i < 5; i++) {
        const error = await failure(
          ecr.send(
            new PutImageCommand({ repositoryName: 'thr', imageManifest: manifest, imageTag: `api-${i}` }),
          ),
        );
        expect(error?.name).not.toBe('ThrottlingException');
      }
      for (let i = 0; i < 5; i++) expect((await putManifest(`reg-${i}`)).status).not.toBe(429);
      const refused = await putManifest('reg-5');
      expect(refused.status).toBe(429);
      expect(await refused.json()).toEqual({
        errors: [{ code: 'TOOMANYREQUESTS', message: 'Rate exceeded', detail: null }],
      });
      expect(refused.headers.get('docker-distribution-api-version')).toBe('registry/2.0');

      // Manifest reads are BatchGetImage, a bucket of their own.
      const read = await fetch(`${aws.httpUrl}/v2/thr/manifests/reg-0`, {
        headers: { Authorization: `Basic ${token}` },
      });
      expect(read.status).not.toBe(429);

      expect(aws.opLog.entries({ service: 'ecr', operation: 'PutImage', throttled: true })).toEqual([
        expect.objectContaining({
          status: 429,
          errorCode: 'TOOMANYREQUESTS',
          region: 'us-east-1',
          throttled: true,
        }),
      ]);
    } finally {
      ecr.destroy();
    }
  });
});

describe('--throttle on the command line', () => {
  function start(args: string[]) {
    const child = spawn(process.execPath, [BIN, '--port', '0', ...args], { cwd: ROOT, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const ready = new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const line = stdout.split('\n').find((l) => l.startsWith('local-aws ready:'));
        if (line) resolve(line);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code} before ready: ${stdout}${stderr}`)));
    });
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, ready, exit, stderr: () => stderr };
  }

  test("--throttle aws: a call over ECS's cluster-read burst is refused", async () => {
    const { child, ready, exit } = start(['--throttle', 'aws', '--stepped-clock']);
    try {
      const endpoint = /endpoint (http:\/\/127\.0\.0\.1:\d+)/.exec(await ready)![1]!;
      const ecs = ecsClient({ endpoint });
      try {
        const call = () => ecs.send(new ListClustersCommand({}));
        expect(await succeededBeforeThrottled(CLUSTER_READ.burst + 1, call)).toBe(CLUSTER_READ.burst);
      } finally {
        ecs.destroy();
      }
      child.kill('SIGTERM');
      expect(await exit).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  test('--throttle foo is a usage error (exit 2) that says what it takes', async () => {
    const { ready, exit, stderr } = start(['--throttle', 'foo']);
    ready.catch(() => {});
    expect(await exit).toBe(2);
    expect(stderr()).toContain('--throttle must be one of off, aws, got foo');
  });
});
