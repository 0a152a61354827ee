// Fidelity checked by clients no one here wrote: the AWS CLI v2 (/usr/bin/aws), skopeo, and the
// reference distribution registry (Debian's docker-registry) answering the same requests.
import { CreateRepositoryCommand, DescribeImagesCommand, type ECRClient } from '@aws-sdk/client-ecr';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  blobOf,
  buildImage,
  buildOciLayout,
  startLocalAws,
  type LocalAws,
  type OciLayout,
} from '../src/index.js';
import { ecrClient } from './helpers/clients.js';
import { ALL_MANIFEST_TYPES, RegistryClient, type RegistryResponse } from './helpers/registry-client.js';
import { hasTool, requireTool } from '../../../test/helpers/tools.js';

// Tools are found on PATH, except the AWS CLI v2: an `aws` on PATH may be an old v1.
const AWS_CLI = '/usr/bin/aws';
const SKOPEO = 'skopeo';
const DOCKER_REGISTRY = 'docker-registry';

const withAwsCli = requireTool('AWS CLI v2', AWS_CLI);
const withSkopeoAndCli = hasTool(AWS_CLI)
  ? requireTool('skopeo', SKOPEO)
  : requireTool('AWS CLI v2', AWS_CLI);
const withReference = hasTool(SKOPEO)
  ? requireTool('docker-registry', DOCKER_REGISTRY)
  : requireTool('skopeo', SKOPEO);

let aws: LocalAws;
let ecr: ECRClient;
let work: string;
let certDir: string;
let layout: OciLayout;

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool without blocking the event loop (the server under test lives in this process). */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function cliEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: work,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: 'us-east-1',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  };
}

const cli = (...args: string[]) =>
  run(AWS_CLI, ['--endpoint-url', aws.httpUrl, '--output', 'json', ...args], cliEnv());

async function loginPassword(): Promise<string> {
  const r = await cli('ecr', 'get-login-password');
  expect(r.code).toBe(0);
  return r.stdout.trim();
}

beforeAll(async () => {
  aws = await startLocalAws();
  ecr = ecrClient(aws);
  work = mkdtempSync(join(tmpdir(), 'conformance-'));
  certDir = join(work, 'certs');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(certDir);
  copyFileSync(aws.caCertPath, join(certDir, 'ca.crt'));
  // gzip layers only: skopeo compresses uncompressed layers on push, which would change digests.
  layout = await buildOciLayout({
    layers: [{ size: 1024 * 1024 }, { size: 200_000 }, { size: 5000 }],
    tag: 'latest',
  });
});
afterAll(async () => {
  ecr?.destroy();
  await aws?.stop();
  await layout?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('AWS CLI v2', () => {
  withAwsCli(
    'create-repository, describe-repositories and the errors with their exit codes',
    async () => {
      const created = await cli('ecr', 'create-repository', '--repository-name', 'demo/app');
      expect(created.stderr).toBe('');
      expect(created.code).toBe(0);
      const repo = (JSON.parse(created.stdout) as { repository: Record<string, unknown> }).repository;
      expect(repo).toMatchObject({
        repositoryName: 'demo/app',
        repositoryArn: 'arn:aws:ecr:us-east-1:000000000000:repository/demo/app',
        repositoryUri: `${new URL(aws.httpsUrl).host}/demo/app`,
        imageTagMutability: 'MUTABLE',
      });
      const described = await cli('ecr', 'describe-repositories', '--repository-names', 'demo/app');
      expect(described.code).toBe(0);
      expect(JSON.parse(described.stdout).repositories).toHaveLength(1);

      const again = await cli('ecr', 'create-repository', '--repository-name', 'demo/app');
      expect(again.code).toBe(254);
      expect(again.stderr).toContain(
        'An error occurred (RepositoryAlreadyExistsException) when calling the CreateRepository operation',
      );
      const bad = await cli('ecr', 'create-repository', '--repository-name', 'Demo/App');
      expect(bad.code).toBe(254);
      expect(bad.stderr).toContain('(InvalidParameterException)');
      expect(bad.stderr).toContain("Invalid parameter at 'repositoryName' failed to satisfy constraint");
      const missing = await cli('ecr', 'describe-images', '--repository-name', 'demo/none');
      expect(missing.code).toBe(254);
      expect(missing.stderr).toContain('(RepositoryNotFoundException)');
      const immutable = await cli(
        'ecr',
        'create-repository',
        '--repository-name',
        'demo/imm',
        '--image-tag-mutability',
        'IMMUTABLE',
        '--image-scanning-configuration',
        'scanOnPush=true',
      );
      expect(immutable.code).toBe(0);
      expect(JSON.parse(immutable.stdout).repository).toMatchObject({
        imageTagMutability: 'IMMUTABLE',
        imageScanningConfiguration: { scanOnPush: true },
      });
    },
    60_000,
  );

  withAwsCli(
    'get-login-password gives the password the registry accepts',
    async () => {
      const password = await loginPassword();
      const registry = new RegistryClient({ baseUrl: aws.httpUrl, auth: { user: 'AWS', password } });
      expect((await registry.request('GET', '/v2/')).status).toBe(200);
    },
    60_000,
  );
});

describe('skopeo', () => {
  withSkopeoAndCli(
    'copies an OCI layout over HTTPS with the CA; inspect agrees with DescribeImages; a second copy uploads nothing',
    async () => {
      await ecr.send(new CreateRepositoryCommand({ repositoryName: 'skopeo/app' }));
      const password = await loginPassword();
      const host = new URL(aws.httpsUrl).host;
      const dest = `docker://${host}/skopeo/app:v1`;
      const copy = await run(SKOPEO, [
        'copy',
        '--dest-creds',
        `AWS:${password}`,
        '--dest-cert-dir',
        certDir,
        `oci:${layout.dir}:latest`,
        dest,
      ]);
      expect(copy.stderr).toBe('');
      expect(copy.code).toBe(0);
      const inspect = await run(SKOPEO, [
        'inspect',
        '--creds',
        `AWS:${password}`,
        '--cert-dir',
        certDir,
        dest,
      ]);
      expect(inspect.code).toBe(0);
      const info = JSON.parse(inspect.stdout) as { Digest: string; Layers: string[]; RepoTags: string[] };
      const { imageDetails } = await ecr.send(new DescribeImagesCommand({ repositoryName: 'skopeo/app' }));
      expect(imageDetails).toHaveLength(1);
      expect(info.Digest).toBe(imageDetails![0]!.imageDigest);
      expect(info.Digest).toBe(layout.top.digest);
      expect(info.Layers).toEqual(layout.images[0]!.layers.map((l) => l.digest));
      expect(info.RepoTags).toEqual(['v1']);
      expect(imageDetails![0]!.imageSizeInBytes).toBe(layout.images[0]!.sizeInBytes);

      const uploadsBefore = aws.opLog.entries({ action: 'ecr:InitiateLayerUpload' }).length;
      const again = await run(SKOPEO, [
        'copy',
        '--dest-creds',
        `AWS:${password}`,
        '--dest-cert-dir',
        certDir,
        `oci:${layout.dir}:latest`,
        `docker://${host}/skopeo/app:v2`,
      ]);
      expect(again.code).toBe(0);
      // every blob was found by HEAD and none uploaded again (skopeo's non-tty output does not say so)
      expect(aws.opLog.entries({ action: 'ecr:InitiateLayerUpload' }).length).toBe(uploadsBefore);
      const found = aws.opLog
        .entries({ action: 'ecr:BatchCheckLayerAvailability' })
        .filter((e) => e.status === 200);
      expect(found.length).toBeGreaterThanOrEqual(layout.images[0]!.layers.length + 1);
    },
    120_000,
  );

  withSkopeoAndCli(
    'copies a multi-platform index over plain HTTP (--dest-tls-verify=false)',
    async () => {
      await ecr.send(new CreateRepositoryCommand({ repositoryName: 'skopeo/multi' }));
      const password = await loginPassword();
      const multi = await buildOciLayout({
        platforms: [
          { os: 'linux', architecture: 'amd64', layers: [{ size: 30_000 }] },
          { os: 'linux', architecture: 'arm64', layers: [{ size: 31_000 }] },
        ],
      });
      try {
        const host = new URL(aws.httpUrl).host;
        const copy = await run(SKOPEO, [
          'copy',
          '--all',
          '--dest-tls-verify=false',
          '--dest-creds',
          `AWS:${password}`,
          `oci:${multi.dir}:latest`,
          `docker://${host}/skopeo/multi:v1`,
        ]);
        expect(copy.stderr).toBe('');
        expect(copy.code).toBe(0);
        const { imageDetails } = await ecr.send(
          new DescribeImagesCommand({ repositoryName: 'skopeo/multi' }),
        );
        const byDigest = new Map(imageDetails!.map((d) => [d.imageDigest, d]));
        expect(byDigest.get(multi.top.digest)).toMatchObject({
          imageTags: ['v1'],
          imageManifestMediaType: 'application/vnd.oci.image.index.v1+json',
        });
        for (const img of multi.images) expect(byDigest.get(img.manifest.digest)?.imageTags).toBeUndefined();
      } finally {
        await multi.cleanup();
      }
    },
    120_000,
  );

  withSkopeoAndCli(
    'a wrong password is refused',
    async () => {
      const host = new URL(aws.httpsUrl).host;
      const r = await run(SKOPEO, [
        'inspect',
        '--creds',
        'AWS:nope',
        '--cert-dir',
        certDir,
        `docker://${host}/skopeo/app:v1`,
      ]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/unauthorized|authentication required|401/i);
    },
    60_000,
  );
});

describe('the reference registry (docker-registry) gives the same answers', () => {
  let child: ChildProcess | undefined;
  let refUrl: string;
  let ours: RegistryClient;
  let ref: RegistryClient;

  async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
  }

  beforeAll(async () => {
    if (!hasTool(DOCKER_REGISTRY) || !hasTool(SKOPEO)) return;
    const port = await freePort();
    const dir = join(work, 'reference');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    const config = join(dir, 'config.yml');
    writeFileSync(
      config,
      [
        'version: 0.1',
        'log:',
        '  level: error',
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${join(dir, 'data')}`,
        'http:',
        `  addr: 127.0.0.1:${port}`,
        '',
      ].join('\n'),
    );
    child = spawn(DOCKER_REGISTRY, ['serve', config], { stdio: 'ignore' });
    refUrl = `http://127.0.0.1:${port}`;
    ref = new RegistryClient({ baseUrl: refUrl });
    for (let i = 0; i < 100; i++) {
      try {
        if ((await ref.request('GET', '/v2/')).status === 200) break;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'conf/app' }));
    const token = await run(AWS_CLI, ['--endpoint-url', aws.httpUrl, 'ecr', 'get-login-password'], cliEnv());
    ours = new RegistryClient({ baseUrl: aws.httpUrl, auth: { user: 'AWS', password: token.stdout.trim() } });
    for (const [base, creds] of [
      [refUrl, []],
      [aws.httpUrl, ['--dest-creds', `AWS:${token.stdout.trim()}`]],
    ] as const) {
      const host = new URL(base).host;
      const copy = await run(SKOPEO, [
        'copy',
        '--dest-tls-verify=false',
        ...creds,
        `oci:${layout.dir}:latest`,
        `docker://${host}/conf/app:v1`,
      ]);
      if (copy.code !== 0) throw new Error(`skopeo copy to ${base} failed: ${copy.stderr}`);
    }
  }, 120_000);
  afterAll(() => {
    child?.kill('SIGTERM');
  });

  const same = (a: RegistryResponse, b: RegistryResponse, headers: string[]) => {
    expect({
      status: a.status,
      code: a.errorCode(),
      ...Object.fromEntries(headers.map((h) => [h, a.header(h)])),
    }).toEqual({
      status: b.status,
      code: b.errorCode(),
      ...Object.fromEntries(headers.map((h) => [h, b.header(h)])),
    });
  };

  withReference(
    'the same digests, and the same HEAD/GET answers for every blob and the manifest',
    async () => {
      const refInspect = await run(SKOPEO, [
        'inspect',
        '--tls-verify=false',
        '--raw',
        `docker://${new URL(refUrl).host}/conf/app:v1`,
      ]);
      expect(refInspect.code).toBe(0);
      const ourManifest = await ours.request('GET', '/v2/conf/app/manifests/v1', {
        headers: { accept: ALL_MANIFEST_TYPES },
      });
      expect(ourManifest.body.toString()).toBe(refInspect.stdout);
      for (const method of ['HEAD', 'GET']) {
        for (const refName of ['v1', layout.top.digest]) {
          const path = `/v2/conf/app/manifests/${refName}`;
          const opts = { headers: { accept: ALL_MANIFEST_TYPES } };
          const [a, b] = [await ours.request(method, path, opts), await ref.request(method, path, opts)];
          same(a, b, [
            'content-type',
            'content-length',
            'docker-content-digest',
            'docker-distribution-api-version',
          ]);
          expect(a.body.equals(b.body)).toBe(true);
        }
        for (const blob of layout.blobs.values()) {
          if (blob.digest === layout.top.digest) continue;
          const path = `/v2/conf/app/blobs/${blob.digest}`;
          const [a, b] = [await ours.request(method, path), await ref.request(method, path)];
          same(a, b, [
            'content-length',
            'docker-content-digest',
            'content-type',
            'docker-distribution-api-version',
          ]);
          expect(a.body.equals(b.body)).toBe(true);
        }
      }
      const layer = layout.images[0]!.layers[0]!;
      const range = { headers: { range: 'bytes=10-99' } };
      const [ra, rb] = [
        await ours.request('GET', `/v2/conf/app/blobs/${layer.digest}`, range),
        await ref.request('GET', `/v2/conf/app/blobs/${layer.digest}`, range),
      ];
      same(ra, rb, ['content-length', 'content-range']);
      expect(ra.body.equals(rb.body)).toBe(true);
    },
    60_000,
  );

  withReference(
    'the same errors for bad input',
    async () => {
      const both = async (
        method: string,
        path: string,
        opts: { headers?: Record<string, string>; body?: Buffer | string } = {},
      ) => [await ours.request(method, path, opts), await ref.request(method, path, opts)] as const;
      const unknownDigest = blobOf('application/octet-stream', Buffer.from('never uploaded')).digest;

      // unknown blob and manifest
      for (const method of ['HEAD', 'GET']) {
        const [a, b] = await both(method, `/v2/conf/app/blobs/${unknownDigest}`);
        same(a, b, []);
      }
      {
        const [a, b] = await both('GET', '/v2/conf/app/manifests/no-such-tag', {
          headers: { accept: ALL_MANIFEST_TYPES },
        });
        same(a, b, []);
      }
      // a client that does not accept the manifest's media type
      {
        const [a, b] = await both('GET', '/v2/conf/app/manifests/v1', {
          headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
        });
        same(a, b, []);
      }
      // manifests: blobs missing, unknown media type, digest reference that does not match
      const stranger = buildImage([{ size: 64 }]);
      {
        const [a, b] = [
          await ours.putManifest('conf/app', 'bad', stranger.manifest),
          await ref.putManifest('conf/app', 'bad', stranger.manifest),
        ];
        same(a, b, []);
        expect(a.errorCode()).toBe('MANIFEST_BLOB_UNKNOWN');
      }
      {
        const weird = { mediaType: 'application/vnd.example.thing+json', bytes: layout.top.bytes };
        const [a, b] = [
          await ours.putManifest('conf/app', 'bad', weird),
          await ref.putManifest('conf/app', 'bad', weird),
        ];
        same(a, b, []);
        expect(a.errorCode()).toBe('MANIFEST_INVALID');
      }
      {
        const top = { mediaType: layout.top.mediaType, bytes: layout.top.bytes };
        const [a, b] = [
          await ours.putManifest('conf/app', unknownDigest, top),
          await ref.putManifest('conf/app', unknownDigest, top),
        ];
        same(a, b, []);
        expect(a.errorCode()).toBe('DIGEST_INVALID');
      }
      // uploads: a chunk out of order, then a digest that does not match the bytes
      for (const client of [ours, ref]) {
        const start = await client.request('POST', '/v2/conf/app/blobs/uploads/');
        expect(start.status).toBe(202);
        const patch = await client.request('PATCH', start.header('location')!, {
          headers: { 'content-type': 'application/octet-stream', 'content-range': '0-4' },
          body: 'hello',
        });
        expect(patch.status).toBe(202);
        expect(patch.header('range')).toBe('0-4');
        if (client === ours) {
          // The OCI distribution spec: an out-of-order chunk is 416. (docker-registry 2.8 predates
          // that rule and appends it anyway, so this one is checked against the spec only.)
          const skip = await client.request('PATCH', patch.header('location')!, {
            headers: { 'content-type': 'application/octet-stream', 'content-range': '10-14' },
            body: 'world',
          });
          expect(skip.status).toBe(416);
          expect(skip.header('range')).toBe('0-4');
        }
        const loc = new URL(patch.header('location')!, client.options.baseUrl);
        loc.searchParams.set('digest', unknownDigest);
        const put = await client.request('PUT', loc.pathname + loc.search);
        expect({ status: put.status, code: put.errorCode() }).toEqual({
          status: 400,
          code: 'DIGEST_INVALID',
        });
      }
      // nothing of that was stored
      const listed = await ours.request('GET', '/v2/conf/app/tags/list');
      const refListed = await ref.request('GET', '/v2/conf/app/tags/list');
      expect(listed.json()).toEqual(refListed.json());
      expect(listed.json()).toEqual({ name: 'conf/app', tags: ['v1'] });
    },
    60_000,
  );
});
