// What EKS gives each simulated cluster and keeps across restarts: image pulls resolved as ECS
// resolves them (local-aws's registries by host — digest and labels —, other registries pullable
// unless admin.ecs.setUnpullable() says not), token expiry on a simulated signature clock, and
// clusters reloaded from a data dir with their transitions and endpoints.
import { CreateClusterCommand, DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { CreateRepositoryCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage, defaultNetwork, startLocalAws, type LocalAws } from '../src/index.js';
import { passwordFromToken, RegistryClient } from './helpers/registry-client.js';
import { rawRequest, signer } from './helpers/signing.js';

const ACCOUNT = '000000000000';
const ADMIN = { accessKeyId: 'test', secretAccessKey: 'test' };
const create = (local: LocalAws, name: string) =>
  new EKSClient({ endpoint: local.endpoint, region: 'us-east-1', credentials: ADMIN, maxAttempts: 1 }).send(
    new CreateClusterCommand({
      name,
      roleArn: `arn:aws:iam::${ACCOUNT}:role/eks`,
      resourcesVpcConfig: { subnetIds: defaultNetwork().subnetIds.slice(0, 2) },
    }),
  );

describe('image pulls (KubernetesHost.resolveImage)', () => {
  let local: LocalAws;
  let digest: string;
  beforeAll(async () => {
    local = await startLocalAws({ steppedClock: true });
    const ecr = new ECRClient({
      endpoint: local.endpoint,
      region: 'us-east-1',
      credentials: ADMIN,
      maxAttempts: 1,
    });
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'web' }));
    const token = await ecr.send(new GetAuthorizationTokenCommand({}));
    const registry = new RegistryClient({
      baseUrl: `https://${local.registryHost}`,
      auth: { user: 'AWS', password: passwordFromToken(token.authorizationData![0]!.authorizationToken!) },
      ca: readFileSync(local.caCertPath, 'utf8'),
    });
    const pushed = await registry.pushImage(
      'web',
      buildImage([{ size: 32 }], { labels: { 'local-aws.exit-code': '3' } }),
      'v1',
    );
    expect(pushed.status).toBe(201);
    digest = pushed.header('docker-content-digest')!;
    ecr.destroy();
  });
  afterAll(() => local.stop());

  test("local-aws's registry by tag or digest: the manifest digest and the config's labels; a missing tag does not pull", async () => {
    const tagged = await local.admin.eks.resolveImage(`${local.registryHost}/web:v1`);
    expect(tagged).toEqual({ digest, labels: { 'local-aws.exit-code': '3' } });
    expect(await local.admin.eks.resolveImage(`${local.registryHost}/web@${digest}`)).toEqual(tagged);
    expect(await local.admin.eks.resolveImage(`${local.registryHost}/web:v2`)).toBeUndefined();
    expect(await local.admin.eks.resolveImage(`${local.registryHost}/nothing:v1`)).toBeUndefined();
  });

  test("another registry's image pulls with no labels, unless admin.ecs.setUnpullable() marked it", async () => {
    expect(await local.admin.eks.resolveImage('public.ecr.aws/nginx/nginx:1.27')).toEqual({
      digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      labels: {},
    });
    local.admin.ecs.setUnpullable('public.ecr.aws/nginx/');
    expect(await local.admin.eks.resolveImage('public.ecr.aws/nginx/nginx:1.27')).toBeUndefined();
    local.admin.ecs.clearUnpullable();
    expect(await local.admin.eks.resolveImage('public.ecr.aws/nginx/nginx:1.27')).toBeDefined();
  });
});

describe('token expiry on the simulated signature clock', () => {
  test('a token accepted now is refused once the clock has moved 16 minutes', async () => {
    const local = await startLocalAws({ steppedClock: true, signatureClock: 'simulated' });
    try {
      await create(local, 'timed');
      await local.clock.advance(10 * 60_000);
      const request = await signer('sts', 'us-east-1', ADMIN).presign(
        {
          method: 'GET',
          protocol: 'https:',
          hostname: 'sts.amazonaws.com',
          path: '/',
          query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
          headers: { host: 'sts.amazonaws.com', 'x-k8s-aws-id': 'timed' },
        },
        { expiresIn: 60, signingDate: new Date(local.clock.now()) },
      );
      const url = `https://sts.amazonaws.com/?${new URLSearchParams(request.query as Record<string, string>).toString()}`;
      const bearer = `k8s-aws-v1.${Buffer.from(url).toString('base64url')}`;
      const get = () =>
        rawRequest(`${local.admin.eks.endpoint('timed')}/version`, {
          ca: readFileSync(local.caCertPath, 'utf8'),
          headers: { authorization: `Bearer ${bearer}` },
        });
      expect((await get()).status).not.toBe(401);
      await local.clock.advance(14 * 60_000);
      expect((await get()).status).not.toBe(401);
      await local.clock.advance(2 * 60_000);
      expect((await get()).status).toBe(401);
      expect(local.admin.eks.authenticationRefusals().at(-1)?.reason).toBe(
        'X-Amz-Date parameter is expired (15 minute expiration)',
      );
    } finally {
      await local.stop();
    }
  });
});

describe('persistence', () => {
  test('clusters come back from the data dir: a CREATING one still turns ACTIVE, an ACTIVE one serves at its endpoint', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'eks-state-'));
    try {
      const first = await startLocalAws({ steppedClock: true, dataDir });
      await create(first, 'kept');
      await first.clock.advance(10 * 60_000);
      await create(first, 'pending');
      const endpoint = first.admin.eks.endpoint('kept');
      const stoppedAt = first.clock.now();
      await first.stop();

      const second = await startLocalAws({ steppedClock: true, dataDir, startTime: stoppedAt });
      try {
        const eks = new EKSClient({
          endpoint: second.endpoint,
          region: 'us-east-1',
          credentials: ADMIN,
          maxAttempts: 1,
        });
        expect((await eks.send(new DescribeClusterCommand({ name: 'kept' }))).cluster?.status).toBe('ACTIVE');
        expect(new URL(second.admin.eks.endpoint('kept')).pathname).toBe(new URL(endpoint).pathname);
        expect(second.admin.eks.kubernetes('kept')).toBeDefined();
        await second.clock.advance(9 * 60_000);
        expect((await eks.send(new DescribeClusterCommand({ name: 'pending' }))).cluster?.status).toBe(
          'CREATING',
        );
        await second.clock.advance(60_000);
        expect((await eks.send(new DescribeClusterCommand({ name: 'pending' }))).cluster?.status).toBe(
          'ACTIVE',
        );
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('regions', () => {
  test('a cluster in another region has its own endpoint, and its Kubernetes calls are logged in its region', async () => {
    const local = await startLocalAws({ steppedClock: true });
    try {
      const eks = new EKSClient({
        endpoint: local.endpoint,
        region: 'eu-west-1',
        credentials: ADMIN,
        maxAttempts: 1,
      });
      await eks.send(
        new CreateClusterCommand({
          name: 'euro',
          roleArn: `arn:aws:iam::${ACCOUNT}:role/eks`,
          resourcesVpcConfig: { subnetIds: defaultNetwork(ACCOUNT, 'eu-west-1').subnetIds.slice(0, 2) },
        }),
      );
      await local.clock.advance(10 * 60_000);
      const { cluster } = await eks.send(new DescribeClusterCommand({ name: 'euro' }));
      expect(cluster?.arn).toBe(`arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/euro`);
      expect(cluster?.endpoint).toBe(local.admin.eks.endpoint({ name: 'euro', region: 'eu-west-1' }));
      const request = await signer('sts', 'eu-west-1', ADMIN).presign(
        {
          method: 'GET',
          protocol: 'https:',
          hostname: 'sts.eu-west-1.amazonaws.com',
          path: '/',
          query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
          headers: { host: 'sts.eu-west-1.amazonaws.com', 'x-k8s-aws-id': 'euro' },
        },
        { expiresIn: 60 },
      );
      const url = `https://sts.eu-west-1.amazonaws.com/?${new URLSearchParams(request.query as Record<string, string>).toString()}`;
      const res = await rawRequest(`${cluster!.endpoint!}/version`, {
        ca: readFileSync(local.caCertPath, 'utf8'),
        headers: { authorization: `Bearer k8s-aws-v1.${Buffer.from(url).toString('base64url')}` },
      });
      expect(res.status).not.toBe(401);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const calls = local.opLog.entries({ service: 'eks' }).filter((e) => e.operation.startsWith('k8s:'));
      expect(calls.length).toBeGreaterThan(0);
      expect(calls.every((e) => e.region === 'eu-west-1')).toBe(true);
    } finally {
      await local.stop();
    }
  });
});
