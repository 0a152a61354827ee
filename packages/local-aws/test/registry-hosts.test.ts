// One registry host per account and region, as on AWS: GetAuthorizationToken's proxyEndpoint and
// repositoryUri name the registry's own host, a push lands in the registry its host names, docker
// keeps one credential per registry, a token works only in the region that issued it, hosts
// survive a restart with a data dir, and token expiry runs on one clock. Judged by the AWS CLI v2,
// skopeo, the docker CLI (on podman) and the AWS SDK v3.
import {
  CreateRepositoryCommand,
  DescribeImagesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
} from '@aws-sdk/client-ecr';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildOciLayout, startLocalAws, type LocalAws, type OciLayout } from '../src/index.js';
import { passwordFromToken, RegistryClient } from './helpers/registry-client.js';
import { findTool, requireTool } from '../../../test/helpers/tools.js';
import { DOCKER, requirePodman, startPodman } from '../../../test/helpers/podman.js';

const AWS_CLI = '/usr/bin/aws';
const withAwsCli = requireTool('AWS CLI v2', AWS_CLI);
const withSkopeo = requireTool('skopeo', 'skopeo');
const withPodman = requirePodman();

const A = { accountId: '000000000000', accessKeyId: 'test', secretAccessKey: 'test' };
const B = { accountId: '111111111111', accessKeyId: 'key-of-b', secretAccessKey: 'secret-of-b' };
type Who = typeof A;

let aws: LocalAws;
let work: string;
const layouts: OciLayout[] = [];

beforeAll(async () => {
  aws = await startLocalAws({ credentials: [A, B] });
  work = mkdtempSync(join(tmpdir(), 'registry-hosts-'));
});
afterAll(async () => {
  await aws?.stop();
  for (const l of layouts) await l.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool without blocking the event loop (the server under test lives in this process). */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

async function cli(who: Who, region: string, ...args: string[]): Promise<Record<string, unknown>> {
  const r = await run(AWS_CLI, ['--endpoint-url', aws.endpoint, '--output', 'json', ...args], {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: work,
    AWS_ACCESS_KEY_ID: who.accessKeyId,
    AWS_SECRET_ACCESS_KEY: who.secretAccessKey,
    AWS_REGION: region,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  });
  if (r.code !== 0) throw new Error(`aws ${args.join(' ')} (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

function ecrAs(who: Who, region = 'us-east-1', local: LocalAws = aws): ECRClient {
  return new ECRClient({ endpoint: local.endpoint, region, credentials: who, maxAttempts: 1 });
}

async function passwordOf(who: Who, region = 'us-east-1'): Promise<string> {
  const client = ecrAs(who, region);
  try {
    const t = await client.send(new GetAuthorizationTokenCommand({}));
    return passwordFromToken(t.authorizationData![0]!.authorizationToken!);
  } finally {
    client.destroy();
  }
}

async function createRepository(who: Who, name: string): Promise<string> {
  const client = ecrAs(who);
  try {
    const out = await client.send(new CreateRepositoryCommand({ repositoryName: name }));
    return out.repository!.repositoryUri!;
  } finally {
    client.destroy();
  }
}

async function digestsIn(who: Who, repositoryName: string): Promise<string[]> {
  const client = ecrAs(who);
  try {
    const out = await client.send(new DescribeImagesCommand({ repositoryName }));
    return (out.imageDetails ?? []).map((d) => d.imageDigest!).sort();
  } finally {
    client.destroy();
  }
}

async function layout(size: number): Promise<OciLayout> {
  const built = await buildOciLayout({ layers: [{ size }], tag: 'latest' });
  layouts.push(built);
  return built;
}

const hostOf = (endpointOrUri: string) => endpointOrUri.replace(/^https:\/\//, '').split('/')[0]!;

describe('each account and region has its own registry host', () => {
  withAwsCli(
    'proxyEndpoint and repositoryUri name the host of the registry they are for',
    async () => {
      const hostB = await aws.registryHostFor(B.accountId);
      const hostEu = await aws.registryHostFor(A.accountId, 'eu-west-1');
      expect(aws.registryHost).toBe(new URL(aws.httpsUrl).host);
      expect(new Set([aws.registryHost, hostB, hostEu]).size).toBe(3);
      for (const host of [hostB, hostEu]) expect(host).toMatch(/^127\.0\.0\.1:\d+$/);

      const cases: Array<{ who: Who; region: string; args: string[]; hosts: string[] }> = [
        { who: A, region: 'us-east-1', args: [], hosts: [aws.registryHost] },
        { who: B, region: 'us-east-1', args: [], hosts: [hostB] },
        { who: A, region: 'eu-west-1', args: [], hosts: [hostEu] },
        {
          who: A,
          region: 'us-east-1',
          args: ['--registry-ids', B.accountId, A.accountId],
          hosts: [hostB, aws.registryHost],
        },
      ];
      for (const c of cases) {
        const token = await cli(c.who, c.region, 'ecr', 'get-authorization-token', ...c.args);
        const endpoints = (token.authorizationData as Array<{ proxyEndpoint: string }>).map(
          (d) => d.proxyEndpoint,
        );
        expect([c, endpoints]).toEqual([c, c.hosts.map((h) => `https://${h}`)]);
      }

      const repos: Array<{ who: Who; region: string; host: string }> = [
        { who: A, region: 'us-east-1', host: aws.registryHost },
        { who: B, region: 'us-east-1', host: hostB },
        { who: A, region: 'eu-west-1', host: hostEu },
      ];
      for (const r of repos) {
        const created = await cli(
          r.who,
          r.region,
          'ecr',
          'create-repository',
          '--repository-name',
          'hosts/app',
        );
        expect((created.repository as { repositoryUri: string }).repositoryUri).toBe(`${r.host}/hosts/app`);
      }
      const described = await cli(
        A,
        'us-east-1',
        'ecr',
        'describe-repositories',
        '--registry-id',
        B.accountId,
      );
      expect((described.repositories as Array<{ repositoryUri: string }>)[0]!.repositoryUri).toBe(
        `${hostB}/hosts/app`,
      );

      const health = (await (await fetch(`${aws.endpoint}/_local-aws/health`)).json()) as {
        registries: Array<{ accountId: string; region: string; host: string }>;
      };
      expect(health.registries).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ accountId: A.accountId, region: 'us-east-1', host: aws.registryHost }),
          expect.objectContaining({ accountId: B.accountId, region: 'us-east-1', host: hostB }),
          expect.objectContaining({ accountId: A.accountId, region: 'eu-west-1', host: hostEu }),
        ]),
      );
    },
    120_000,
  );

  withSkopeo(
    'skopeo: pushes to two accounts land each in its own registry; the host, not the token, names it; the CA folder is a --dest-cert-dir',
    async () => {
      const skopeo = findTool('skopeo')!;
      const uriA = await createRepository(A, 'multi/app');
      const uriB = await createRepository(B, 'multi/app');
      expect(hostOf(uriA)).not.toBe(hostOf(uriB));
      const [imageA, imageB] = [await layout(20_000), await layout(21_000)];
      // The CA folder as it is: ca.crt alone (its key lives in <caDir>-private).
      const certDir = dirname(aws.caCertPath);
      const copy = (image: OciLayout, dest: string, password: string) =>
        run(skopeo, [
          'copy',
          '--dest-creds',
          `AWS:${password}`,
          '--dest-cert-dir',
          certDir,
          `oci:${image.dir}:latest`,
          `docker://${dest}`,
        ]);
      const [passwordA, passwordB] = [await passwordOf(A), await passwordOf(B)];
      for (const [image, dest, password] of [
        [imageA, `${uriA}:v1`, passwordA],
        [imageB, `${uriB}:v1`, passwordB],
      ] as const) {
        const result = await copy(image, dest, password);
        expect([dest, result.code, result.stderr]).toEqual([dest, 0, '']);
      }
      expect(await digestsIn(A, 'multi/app')).toEqual([imageA.top.digest]);
      expect(await digestsIn(B, 'multi/app')).toEqual([imageB.top.digest]);

      // B's token on A's host: the image lands in A's registry (no IAM here to refuse it).
      expect((await copy(imageB, `${uriA}:from-b`, passwordB)).code).toBe(0);
      expect(await digestsIn(A, 'multi/app')).toEqual([imageA.top.digest, imageB.top.digest].sort());
      expect(await digestsIn(B, 'multi/app')).toEqual([imageB.top.digest]);
      const pushedByB = aws.opLog
        .entries({ action: 'ecr:PutImage' })
        .filter((e) => e.identityArn === `arn:aws:iam::${B.accountId}:root`);
      expect(pushedByB).toHaveLength(2);
    },
    180_000,
  );

  withPodman(
    'docker CLI: logged in to two accounts, it keeps two credentials and each push lands in its own registry',
    async () => {
      const uriA = await createRepository(A, 'docker/two');
      const uriB = await createRepository(B, 'docker/two');
      const engine = await startPodman({
        trustedCas: { [hostOf(uriA)]: aws.caCertPath, [hostOf(uriB)]: aws.caCertPath },
      });
      const config = mkdtempSync(join(work, 'docker-config-'));
      const docker = async (args: string[], input?: string) => {
        const result = await new Promise<RunResult>((resolve) => {
          const child = execFile(
            DOCKER,
            args,
            { env: { ...process.env, ...engine.env, DOCKER_CONFIG: config }, encoding: 'utf8' },
            (error, stdout, stderr) =>
              resolve({
                code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
                stdout,
                stderr,
              }),
          );
          child.stdin?.end(input);
        });
        if (result.code !== 0)
          throw new Error(`docker ${args.join(' ')}: ${result.stderr}${engine.output()}`);
        return result.stdout;
      };
      try {
        await docker(['login', '--username', 'AWS', '--password-stdin', hostOf(uriA)], await passwordOf(A));
        await docker(['login', '--username', 'AWS', '--password-stdin', hostOf(uriB)], await passwordOf(B));
        const auths = (
          JSON.parse(readFileSync(join(config, 'config.json'), 'utf8')) as {
            auths: Record<string, unknown>;
          }
        ).auths;
        expect(Object.keys(auths).sort()).toEqual([hostOf(uriA), hostOf(uriB)].sort());

        const context = mkdtempSync(join(work, 'context-'));
        for (const [who, uri] of [
          ['a', uriA],
          ['b', uriB],
        ] as const) {
          writeFileSync(join(context, 'hello.txt'), `hello from ${who}\n`);
          writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /\n');
          await docker(['build', '-t', `${uri}:v1`, context]);
          await docker(['push', `${uri}:v1`]);
        }
        const [inA, inB] = [await digestsIn(A, 'docker/two'), await digestsIn(B, 'docker/two')];
        expect(inA).toHaveLength(1);
        expect(inB).toHaveLength(1);
        expect(inA[0]).not.toBe(inB[0]);
      } finally {
        await engine.stop();
      }
    },
    300_000,
  );

  test("a token works only in the region whose ECR issued it: another region's registry answers 400", async () => {
    const ca = readFileSync(aws.caCertPath, 'utf8');
    const euPassword = await passwordOf(A, 'eu-west-1');
    const hostEu = await aws.registryHostFor(A.accountId, 'eu-west-1');
    const cases = [
      { host: aws.registryHost, status: 400, code: 'DENIED' },
      { host: hostEu, status: 200, code: undefined },
    ];
    for (const c of cases) {
      const client = new RegistryClient({
        baseUrl: `https://${c.host}`,
        auth: { user: 'AWS', password: euPassword },
        ca,
      });
      const r = await client.request('GET', '/v2/');
      expect([c, r.status, r.errorCode()]).toEqual([c, c.status, c.code]);
      if (c.status === 400) {
        expect(r.body.toString()).toContain('issued by ECR in eu-west-1');
        expect(r.body.toString()).toContain('is in us-east-1');
      }
    }
  });
});

test('with a data dir, a registry keeps its host across a restart', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'registry-hosts-data-'));
  try {
    let local = await startLocalAws({ dataDir, credentials: [A, B] });
    const before = await local.registryHostFor(B.accountId);
    await local.stop();
    local = await startLocalAws({ dataDir, credentials: [A, B] });
    try {
      expect(local.registries().map((r) => r.host)).toContain(before);
      const client = ecrAs(B, 'us-east-1', local);
      const token = await client.send(new GetAuthorizationTokenCommand({}));
      client.destroy();
      expect(token.authorizationData![0]!.proxyEndpoint).toBe(`https://${before}`);
    } finally {
      await local.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

// A token's expiresAt and its real expiry are on one clock: the one request signatures are checked
// against (wall time by default, the simulated clock with signatureClock 'simulated').
describe.each([
  {
    signatureClock: 'real' as const,
    // The simulated clock starts three days back and is moved 13 hours on: wall time decides.
    start: () => Date.now() - 3 * 24 * 3600_000,
    advance: 13 * 3600_000,
    expiresAt: (start: number, issuedAtWall: number) => issuedAtWall + 12 * 3600_000,
    afterAdvance: 200,
  },
  {
    signatureClock: 'simulated' as const,
    start: () => Date.now(),
    advance: 12 * 3600_000 + 1000,
    expiresAt: (start: number) => start + 12 * 3600_000,
    afterAdvance: 403,
  },
])(
  'signatureClock $signatureClock: token expiry',
  ({ signatureClock, start, advance, expiresAt, afterAdvance }) => {
    test(`expiresAt is on that clock; moving the simulated clock on answers ${afterAdvance}`, async () => {
      const startTime = start();
      const local = await startLocalAws({ steppedClock: true, startTime, signatureClock });
      try {
        const client = new ECRClient({ endpoint: local.endpoint, region: 'us-east-1', credentials: A });
        const issuedAtWall = Date.now();
        const token = await client.send(new GetAuthorizationTokenCommand({}));
        client.destroy();
        const data = token.authorizationData![0]!;
        expect(Math.abs(data.expiresAt!.getTime() - expiresAt(startTime, issuedAtWall))).toBeLessThan(5000);
        const registry = new RegistryClient({
          baseUrl: local.httpUrl,
          auth: { user: 'AWS', password: passwordFromToken(data.authorizationToken!) },
        });
        expect((await registry.request('GET', '/v2/')).status).toBe(200);
        await local.clock.advance(advance);
        const later = await registry.request('GET', '/v2/');
        expect(later.status).toBe(afterAdvance);
        if (afterAdvance === 403) expect(later.errorCode()).toBe('DENIED');
      } finally {
        await local.stop();
      }
    });
  },
);
