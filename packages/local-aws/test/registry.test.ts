// The registry data plane (OCI distribution API v2) at the protocol level, against a running
// local-aws: Basic auth with the ECR token, uploads (monolithic, session, chunked), ranges, mounts,
// manifests, immutability, CREATE_ON_PUSH, the operation log, faults and --data-dir persistence.
import {
  CreateRepositoryCommand,
  CreateRepositoryCreationTemplateCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  type ECRClient,
  GetAuthorizationTokenCommand,
  ListImagesCommand,
  ListTagsForResourceCommand,
  PutImageTagMutabilityCommand,
} from '@aws-sdk/client-ecr';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blobOf, buildImage, buildIndex, startLocalAws, type LocalAws } from '../src/index.js';
import { ecrClient } from './helpers/clients.js';
import { ALL_MANIFEST_TYPES, passwordFromToken, RegistryClient } from './helpers/registry-client.js';

let aws: LocalAws;
let ecr: ECRClient;
let reg: RegistryClient;
let password: string;

const MiB = 1024 * 1024;

async function tokenPassword(client: ECRClient): Promise<string> {
  const t = await client.send(new GetAuthorizationTokenCommand({}));
  return passwordFromToken(t.authorizationData![0]!.authorizationToken!);
}

beforeAll(async () => {
  aws = await startLocalAws();
  ecr = ecrClient(aws);
  password = await tokenPassword(ecr);
  reg = new RegistryClient({ baseUrl: aws.httpUrl, auth: { user: 'AWS', password } });
  for (const name of ['reg/app', 'reg/other', 'reg/imm'])
    await ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
});
afterAll(async () => {
  ecr?.destroy();
  await aws?.stop();
});

describe('authentication', () => {
  test('no credentials: 401 with the Basic challenge ECR sends', async () => {
    const r = await reg.request('GET', '/v2/', { noAuth: true });
    expect(r.status).toBe(401);
    expect(r.header('www-authenticate')).toBe(`Basic realm="${aws.httpUrl}/",service="ecr.amazonaws.com"`);
    expect(r.header('docker-distribution-api-version')).toBe('registry/2.0');
    const blob = await reg.request('HEAD', `/v2/reg/app/blobs/sha256:${'0'.repeat(64)}`, { noAuth: true });
    expect(blob.status).toBe(401);
  });

  test('a forged or wrong password is refused; the token from GetAuthorizationToken works', async () => {
    const forged = new RegistryClient({
      baseUrl: aws.httpUrl,
      auth: { user: 'AWS', password: password.slice(0, -2) + 'xx' },
    });
    expect((await forged.request('GET', '/v2/')).status).toBe(401);
    const wrongUser = new RegistryClient({ baseUrl: aws.httpUrl, auth: { user: 'admin', password } });
    expect((await wrongUser.request('GET', '/v2/')).status).toBe(401);
    const ok = await reg.request('GET', '/v2/');
    expect(ok.status).toBe(200);
    expect(ok.header('docker-distribution-api-version')).toBe('registry/2.0');
  });

  test('the HTTPS listener serves the same registry with the local-aws CA', async () => {
    const { readFileSync } = await import('node:fs');
    const tls = new RegistryClient({
      baseUrl: aws.httpsUrl,
      auth: { user: 'AWS', password },
      ca: readFileSync(aws.caCertPath, 'utf8'),
    });
    expect((await tls.request('GET', '/v2/')).status).toBe(200);
  });
});

describe('blobs and uploads', () => {
  test('monolithic POST ?digest=, then HEAD and GET with the headers distribution sends', async () => {
    const blob = blobOf('application/octet-stream', randomBytes(70_000));
    const put = await reg.uploadMonolithic('reg/app', blob);
    expect(put.status).toBe(201);
    expect(put.header('location')).toBe(`/v2/reg/app/blobs/${blob.digest}`);
    expect(put.header('docker-content-digest')).toBe(blob.digest);
    const head = await reg.request('HEAD', `/v2/reg/app/blobs/${blob.digest}`);
    expect(head.status).toBe(200);
    expect(head.header('content-length')).toBe(String(blob.size));
    expect(head.header('docker-content-digest')).toBe(blob.digest);
    expect(head.header('content-type')).toBe('application/octet-stream');
    const get = await reg.request('GET', `/v2/reg/app/blobs/${blob.digest}`);
    expect(get.status).toBe(200);
    expect(get.body.equals(blob.bytes)).toBe(true);
    const range = await reg.request('GET', `/v2/reg/app/blobs/${blob.digest}`, {
      headers: { range: 'bytes=100-199' },
    });
    expect(range.status).toBe(206);
    expect(range.header('content-range')).toBe(`bytes 100-199/${blob.size}`);
    expect(range.body.equals(blob.bytes.subarray(100, 200))).toBe(true);
    const past = await reg.request('GET', `/v2/reg/app/blobs/${blob.digest}`, {
      headers: { range: `bytes=${blob.size}-` },
    });
    expect(past.status).toBe(416);
  });

  test('blobs are visible per repository; a cross-repository mount links them (201) or falls back (202)', async () => {
    const blob = blobOf('application/octet-stream', randomBytes(5000));
    await reg.uploadMonolithic('reg/app', blob);
    const elsewhere = await reg.request('HEAD', `/v2/reg/other/blobs/${blob.digest}`);
    expect(elsewhere.status).toBe(404);
    const getElsewhere = await reg.request('GET', `/v2/reg/other/blobs/${blob.digest}`);
    expect(getElsewhere.errorCode()).toBe('BLOB_UNKNOWN');
    const mount = await reg.request('POST', `/v2/reg/other/blobs/uploads/?mount=${blob.digest}&from=reg/app`);
    expect(mount.status).toBe(201);
    expect(mount.header('docker-content-digest')).toBe(blob.digest);
    expect((await reg.request('HEAD', `/v2/reg/other/blobs/${blob.digest}`)).status).toBe(200);
    const unknown = `sha256:${'a'.repeat(64)}`;
    const fallback = await reg.request('POST', `/v2/reg/other/blobs/uploads/?mount=${unknown}&from=reg/app`);
    expect(fallback.status).toBe(202);
    expect(fallback.header('docker-upload-uuid')).toBeTruthy();
  });

  test('chunked upload: PATCH with Content-Range in order; out of order is 416; status and cancel', async () => {
    const bytes = randomBytes(5 * MiB + 1000);
    const blob = blobOf('application/octet-stream', bytes);
    const start = await reg.request('POST', '/v2/reg/app/blobs/uploads/');
    expect(start.status).toBe(202);
    expect(start.header('range')).toBe('0-0');
    const loc = start.header('location')!;
    const first = await reg.request('PATCH', loc, {
      headers: { 'content-type': 'application/octet-stream', 'content-range': `0-${5 * MiB - 1}` },
      body: bytes.subarray(0, 5 * MiB),
    });
    expect(first.status).toBe(202);
    expect(first.header('range')).toBe(`0-${5 * MiB - 1}`);
    const skipped = await reg.request('PATCH', loc, {
      headers: {
        'content-type': 'application/octet-stream',
        'content-range': `${5 * MiB + 10}-${5 * MiB + 19}`,
      },
      body: bytes.subarray(0, 10),
    });
    expect(skipped.status).toBe(416);
    const status = await reg.request('GET', loc);
    expect(status.status).toBe(204);
    expect(status.header('range')).toBe(`0-${5 * MiB - 1}`);
    const second = await reg.request('PATCH', loc, {
      headers: {
        'content-type': 'application/octet-stream',
        'content-range': `${5 * MiB}-${bytes.length - 1}`,
      },
      body: bytes.subarray(5 * MiB),
    });
    expect(second.status).toBe(202);
    const done = await reg.request('PUT', `${loc}?digest=${blob.digest}`);
    expect(done.status).toBe(201);
    expect((await reg.request('HEAD', `/v2/reg/app/blobs/${blob.digest}`)).header('content-length')).toBe(
      String(bytes.length),
    );

    const other = await reg.request('POST', '/v2/reg/app/blobs/uploads/');
    const cancel = await reg.request('DELETE', other.header('location')!);
    expect(cancel.status).toBe(204);
    const gone = await reg.request('GET', other.header('location')!);
    expect(gone.status).toBe(404);
    expect(gone.errorCode()).toBe('BLOB_UPLOAD_UNKNOWN');
  });

  test('ECR: every chunk but the last must be at least 5 MiB', async () => {
    const start = await reg.request('POST', '/v2/reg/app/blobs/uploads/');
    const loc = start.header('location')!;
    await reg.request('PATCH', loc, {
      headers: { 'content-type': 'application/octet-stream' },
      body: randomBytes(100),
    });
    const next = await reg.request('PATCH', loc, {
      headers: { 'content-type': 'application/octet-stream' },
      body: randomBytes(100),
    });
    expect(next.status).toBe(400);
    expect(next.errorCode()).toBe('BLOB_UPLOAD_INVALID');
  });

  test('a digest that does not match the bytes is DIGEST_INVALID and nothing is stored', async () => {
    const bytes = randomBytes(2000);
    const claimed = blobOf('application/octet-stream', randomBytes(2000)).digest;
    const mono = await reg.request('POST', `/v2/reg/app/blobs/uploads/?digest=${claimed}`, { body: bytes });
    expect(mono.status).toBe(400);
    expect(mono.errorCode()).toBe('DIGEST_INVALID');
    const session = await reg.request('POST', '/v2/reg/app/blobs/uploads/');
    await reg.request('PATCH', session.header('location')!, { body: bytes });
    const put = await reg.request('PUT', `${session.header('location')!}?digest=${claimed}`);
    expect(put.status).toBe(400);
    expect(put.errorCode()).toBe('DIGEST_INVALID');
    expect((await reg.request('HEAD', `/v2/reg/app/blobs/${claimed}`)).status).toBe(404);
    expect(aws.admin.ecr.hasBlob(claimed)).toBe(false);
    const noDigest = await reg.request('PUT', `${session.header('location')!}`);
    expect(noDigest.status).toBe(404); // the failed PUT ended the session, as in distribution
  });

  test('a push to a missing repository is NAME_UNKNOWN and creates nothing', async () => {
    const r = await reg.request('POST', '/v2/reg/missing/blobs/uploads/');
    expect(r.status).toBe(404);
    expect(r.errorCode()).toBe('NAME_UNKNOWN');
    expect(r.json()).toMatchObject({
      errors: [
        {
          code: 'NAME_UNKNOWN',
          message:
            "The repository with name 'reg/missing' does not exist in the registry with id '000000000000'",
        },
      ],
    });
    const names = (await ecr.send(new DescribeRepositoriesCommand({}))).repositories!.map(
      (x) => x.repositoryName,
    );
    expect(names).not.toContain('reg/missing');
  });
});

describe('manifests', () => {
  const img = buildImage([{ size: 4000 }, { size: 3000 }]);
  const img2 = buildImage([{ size: 4001 }]);

  test('PUT by tag; GET and HEAD by tag and digest; shows in DescribeImages; tags/list', async () => {
    const put = await reg.pushImage('reg/app', img, 'v1');
    expect(put.status).toBe(201);
    expect(put.header('docker-content-digest')).toBe(img.manifest.digest);
    expect(put.header('location')).toBe(`/v2/reg/app/manifests/${img.manifest.digest}`);
    for (const ref of ['v1', img.manifest.digest]) {
      const get = await reg.request('GET', `/v2/reg/app/manifests/${ref}`, {
        headers: { accept: ALL_MANIFEST_TYPES },
      });
      expect(get.status).toBe(200);
      expect(get.header('content-type')).toBe(img.manifest.mediaType);
      expect(get.header('docker-content-digest')).toBe(img.manifest.digest);
      expect(get.body.equals(img.manifest.bytes)).toBe(true);
      const head = await reg.request('HEAD', `/v2/reg/app/manifests/${ref}`, {
        headers: { accept: ALL_MANIFEST_TYPES },
      });
      expect(head.status).toBe(200);
      expect(head.header('content-length')).toBe(String(img.manifest.size));
    }
    const details = await ecr.send(
      new DescribeImagesCommand({ repositoryName: 'reg/app', imageIds: [{ imageTag: 'v1' }] }),
    );
    expect(details.imageDetails![0]).toMatchObject({
      imageDigest: img.manifest.digest,
      imageSizeInBytes: img.sizeInBytes,
    });
    const tags = await reg.request('GET', '/v2/reg/app/tags/list');
    expect(tags.json()).toEqual({ name: 'reg/app', tags: ['v1'] });
  });

  test('Accept negotiation: a manifest the client does not accept is MANIFEST_UNKNOWN', async () => {
    const r = await reg.request('GET', '/v2/reg/app/manifests/v1', {
      headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
    });
    expect(r.status).toBe(404);
    expect(r.errorCode()).toBe('MANIFEST_UNKNOWN');
    const unknownTag = await reg.request('GET', '/v2/reg/app/manifests/nope', {
      headers: { accept: ALL_MANIFEST_TYPES },
    });
    expect(unknownTag.status).toBe(404);
    expect(unknownTag.errorCode()).toBe('MANIFEST_UNKNOWN');
  });

  test('bad manifests: missing blobs, unknown media type, bad JSON, oversize, digest mismatch — state unchanged', async () => {
    const before = await ecr.send(new ListImagesCommand({ repositoryName: 'reg/app' }));
    const missing = await reg.putManifest('reg/app', 'bad', img2.manifest);
    expect(missing.status).toBe(400);
    expect(missing.errorCode()).toBe('MANIFEST_BLOB_UNKNOWN');
    const weird = await reg.putManifest('reg/app', 'bad', {
      mediaType: 'application/vnd.example.thing+json',
      bytes: img.manifest.bytes,
    });
    expect(weird.status).toBe(400);
    expect(weird.errorCode()).toBe('MANIFEST_INVALID');
    const broken = await reg.putManifest('reg/app', 'bad', {
      mediaType: img.manifest.mediaType,
      bytes: Buffer.from('{"schemaVersion": 2,'),
    });
    expect(broken.errorCode()).toBe('MANIFEST_INVALID');
    const huge = await reg.putManifest('reg/app', 'bad', {
      mediaType: img.manifest.mediaType,
      bytes: Buffer.alloc(4 * MiB + 1, 0x20),
    });
    expect(huge.status).toBe(413);
    expect(huge.errorCode()).toBe('MANIFEST_INVALID');
    const wrongDigest = await reg.putManifest('reg/app', img2.manifest.digest, img.manifest);
    expect(wrongDigest.status).toBe(400);
    expect(wrongDigest.errorCode()).toBe('DIGEST_INVALID');
    const index = buildIndex([img, img2]);
    const orphan = await reg.putManifest('reg/app', 'multi', index);
    expect(orphan.errorCode()).toBe('MANIFEST_BLOB_UNKNOWN');
    const after = await ecr.send(new ListImagesCommand({ repositoryName: 'reg/app' }));
    expect(after.imageIds).toEqual(before.imageIds);
  });

  test('an index over pushed children; DELETE by digest', async () => {
    await reg.pushImage('reg/app', img2, 'arm');
    const index = buildIndex([img, img2]);
    const put = await reg.putManifest('reg/app', 'multi', index);
    expect(put.status).toBe(201);
    const got = await reg.request('GET', '/v2/reg/app/manifests/multi', {
      headers: { accept: ALL_MANIFEST_TYPES },
    });
    expect(got.header('content-type')).toBe('application/vnd.oci.image.index.v1+json');
    const del = await reg.request('DELETE', `/v2/reg/app/manifests/${index.digest}`);
    expect(del.status).toBe(202);
    expect((await reg.request('HEAD', `/v2/reg/app/manifests/${index.digest}`)).status).toBe(404);
  });

  test('immutability holds on the registry path too: TAG_INVALID', async () => {
    await ecr.send(
      new PutImageTagMutabilityCommand({ repositoryName: 'reg/imm', imageTagMutability: 'IMMUTABLE' }),
    );
    expect((await reg.pushImage('reg/imm', img, 'v1')).status).toBe(201);
    expect((await reg.putManifest('reg/imm', 'v1', img.manifest)).status).toBe(201); // same manifest again: fine
    const moved = await reg.pushImage('reg/imm', img2, 'v1');
    expect(moved.status).toBe(400);
    expect(moved.json()).toMatchObject({
      errors: [
        {
          code: 'TAG_INVALID',
          message:
            "The image tag 'v1' already exists in the 'reg/imm' repository and cannot be overwritten because the tag is immutable.",
        },
      ],
    });
    const d = await ecr.send(
      new DescribeImagesCommand({ repositoryName: 'reg/imm', imageIds: [{ imageTag: 'v1' }] }),
    );
    expect(d.imageDetails![0]!.imageDigest).toBe(img.manifest.digest);
  });
});

describe('CREATE_ON_PUSH', () => {
  test('a push under a template prefix creates the repository with the template settings', async () => {
    await ecr.send(
      new CreateRepositoryCreationTemplateCommand({
        prefix: 'team',
        appliedFor: ['CREATE_ON_PUSH'],
        imageTagMutability: 'IMMUTABLE',
        resourceTags: [{ Key: 'owner', Value: 'team' }],
      }),
    );
    aws.opLog.clear();
    const img = buildImage([{ size: 1234 }]);
    expect((await reg.pushImage('team/svc', img, 'v1')).status).toBe(201);
    const { repositories } = await ecr.send(
      new DescribeRepositoriesCommand({ repositoryNames: ['team/svc'] }),
    );
    expect(repositories![0]).toMatchObject({ imageTagMutability: 'IMMUTABLE' });
    const tags = await ecr.send(
      new ListTagsForResourceCommand({ resourceArn: repositories![0]!.repositoryArn }),
    );
    expect(tags.tags).toEqual([{ Key: 'owner', Value: 'team' }]);
    const actions = aws.opLog.entries({ service: 'ecr' }).map((e) => e.action);
    expect(actions).toContain('ecr:CreateRepository');
    // a prefix that matches no template still fails
    const other = await reg.request('POST', '/v2/teams/svc/blobs/uploads/');
    expect(other.errorCode()).toBe('NAME_UNKNOWN');
  });
});

describe('operation log and faults', () => {
  test('each registry call is logged under the IAM action it maps to, with the token identity', async () => {
    aws.opLog.clear();
    const img = buildImage([{ size: 321 }]);
    await reg.request('HEAD', `/v2/reg/other/blobs/${img.config.digest}`);
    await reg.pushImage('reg/other', img, 'logged');
    await reg.request('GET', `/v2/reg/other/blobs/${img.config.digest}`);
    await reg.request('GET', '/v2/reg/other/manifests/logged', { headers: { accept: ALL_MANIFEST_TYPES } });
    await reg.request('GET', '/v2/reg/other/tags/list');
    const entries = aws.opLog.entries({ service: 'ecr' });
    expect(entries.map((e) => e.action)).toEqual([
      'ecr:BatchCheckLayerAvailability',
      'ecr:InitiateLayerUpload',
      'ecr:UploadLayerPart',
      'ecr:CompleteLayerUpload',
      'ecr:InitiateLayerUpload',
      'ecr:UploadLayerPart',
      'ecr:CompleteLayerUpload',
      'ecr:PutImage',
      'ecr:GetDownloadUrlForLayer',
      'ecr:BatchGetImage',
      'ecr:ListImages',
    ]);
    expect(entries.every((e) => e.identityArn === 'arn:aws:iam::000000000000:root')).toBe(true);
    expect(entries[0]!.status).toBe(404);
  });

  test('an injected throttling fault answers 429 TOOMANYREQUESTS and changes nothing', async () => {
    aws.faults.arm({ kind: 'throttling', service: 'ecr', operation: 'InitiateLayerUpload', count: 1 });
    const r = await reg.request('POST', '/v2/reg/other/blobs/uploads/');
    expect(r.status).toBe(429);
    expect(r.errorCode()).toBe('TOOMANYREQUESTS');
    expect((await reg.request('POST', '/v2/reg/other/blobs/uploads/')).status).toBe(202);
  });
});

describe('--data-dir', () => {
  test('repositories, images and blobs survive a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'local-aws-data-'));
    const img = buildImage([{ size: 300_000 }]);
    try {
      let local = await startLocalAws({ dataDir });
      let client = ecrClient(local);
      await client.send(new CreateRepositoryCommand({ repositoryName: 'keep/me' }));
      const r = new RegistryClient({
        baseUrl: local.httpUrl,
        auth: { user: 'AWS', password: await tokenPassword(client) },
      });
      expect((await r.pushImage('keep/me', img, 'v1')).status).toBe(201);
      client.destroy();
      await local.stop();

      local = await startLocalAws({ dataDir });
      client = ecrClient(local);
      const d = await client.send(new DescribeImagesCommand({ repositoryName: 'keep/me' }));
      expect(d.imageDetails![0]!.imageDigest).toBe(img.manifest.digest);
      const r2 = new RegistryClient({
        baseUrl: local.httpUrl,
        auth: { user: 'AWS', password: await tokenPassword(client) },
      });
      const layer = await r2.request('GET', `/v2/keep/me/blobs/${img.layers[0]!.digest}`);
      expect(layer.status).toBe(200);
      expect(layer.body.equals(img.layers[0]!.bytes)).toBe(true);
      client.destroy();
      await local.stop();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
