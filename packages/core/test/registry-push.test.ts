// pushImage against Debian's reference registry (docker-registry), checked with skopeo — another
// client — rather than with our own code.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  renameSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  getManifestDigest,
  manifestExists,
  pushImage,
  readDockerArchive,
  readOciLayout,
  type PushProgress,
} from '../src/registry/index.js';
import { DigestMismatchError } from '../src/registry/digest.js';
import { RegistryError } from '../src/registry/client.js';
import { NetworkError } from '../src/registry/http.js';
import { hasTool, requireTools } from '../../../test/helpers/tools.js';
import {
  makeDockerArchive,
  makeMultiArchLayout,
  makeOciLayout,
  sha256,
  writeBlob,
  writeLayoutIndex,
} from './helpers/registry-oci-layout.js';
import {
  DOCKER_REGISTRY,
  SKOPEO,
  startProxy,
  startRegistry,
  type RunningRegistry,
} from './helpers/registry-server.js';

const run = promisify(execFile);
const withTools = requireTools([
  { name: 'docker-registry', path: DOCKER_REGISTRY },
  { name: 'skopeo', path: SKOPEO },
]);

let registry: RunningRegistry;
let work: string;
let counter = 0;
const fresh = (name: string): string => join(work, `${name}-${++counter}`);

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'registry-push-'));
  if (hasTool(DOCKER_REGISTRY)) registry = await startRegistry();
});

afterAll(async () => {
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function skopeo(...args: string[]): Promise<string> {
  const { stdout } = await run(SKOPEO, args, { maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

async function inspectRaw(host: string, ref: string): Promise<Buffer> {
  return Buffer.from(await skopeo('inspect', '--raw', '--tls-verify=false', `docker://${host}/${ref}`));
}

const LAYERS = [512 * 1024, 256 * 1024, 64 * 1024];

describe('pushImage with an OCI layout', () => {
  withTools(
    'pushes an image that skopeo reads back byte for byte, then skips everything the second time',
    async () => {
      const dir = fresh('layout');
      const image = makeOciLayout(dir, { layerSizes: LAYERS, ref: 'v1' });
      const source = await readOciLayout(dir, { ref: 'v1' });
      const events: PushProgress[] = [];
      const result = await pushImage({
        registry: registry.url,
        repository: 'team/app',
        image: source,
        tags: ['v1', 'latest'],
        onProgress: (e) => events.push(e),
      });
      expect(result.digest).toBe(image.manifest.digest);
      expect(result.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
      const blobBytes = image.config.size + image.layers.reduce((s, l) => s + l.size, 0);
      expect(result.size).toBe(blobBytes);
      expect(result.blobs).toEqual({
        total: 4,
        uploaded: 4,
        skipped: 0,
        mounted: 0,
        bytesUploaded: blobBytes,
      });
      expect(result.tags).toEqual(['v1', 'latest']);
      expect(events.filter((e) => e.type === 'blob')).toHaveLength(4);

      // skopeo's view: same digest under both tags, same layers.
      for (const tag of ['v1', 'latest']) {
        const inspected = JSON.parse(
          await skopeo('inspect', '--tls-verify=false', `docker://${registry.host}/team/app:${tag}`),
        ) as {
          Digest: string;
          Layers: string[];
        };
        expect(inspected.Digest).toBe(image.manifest.digest);
        expect(inspected.Layers).toEqual(image.layers.map((l) => l.digest));
      }
      // Round trip: skopeo copies it back into an OCI layout with identical blobs.
      const back = fresh('back');
      await skopeo(
        'copy',
        '--src-tls-verify=false',
        `docker://${registry.host}/team/app:v1`,
        `oci:${back}:v1`,
      );
      const original = readdirSync(join(dir, 'blobs', 'sha256')).sort();
      const copied = readdirSync(join(back, 'blobs', 'sha256')).sort();
      expect(copied).toEqual(original);
      for (const name of copied) {
        expect(
          readFileSync(join(back, 'blobs', 'sha256', name)).equals(
            readFileSync(join(dir, 'blobs', 'sha256', name)),
          ),
        ).toBe(true);
      }

      // Unchanged image again: nothing uploaded.
      const again = await pushImage({
        registry: registry.url,
        repository: 'team/app',
        image: source,
        tags: ['v1'],
      });
      expect(again.digest).toBe(image.manifest.digest);
      expect(again.blobs).toEqual({ total: 4, uploaded: 0, skipped: 4, mounted: 0, bytesUploaded: 0 });

      // skip-if-exists lookups.
      const connection = { registry: registry.url };
      expect(await getManifestDigest(connection, 'team/app', 'v1')).toBe(image.manifest.digest);
      expect(await manifestExists(connection, 'team/app', 'latest')).toBe(true);
      expect(await manifestExists(connection, 'team/app', 'nope')).toBe(false);
      expect(await manifestExists(connection, 'team/never-pushed', 'v1')).toBe(false);
      expect(await getManifestDigest(connection, 'team/app', image.manifest.digest)).toBe(
        image.manifest.digest,
      );
    },
    60_000,
  );

  withTools(
    'mounts blobs from another repository instead of uploading them',
    async () => {
      const dir = fresh('layout');
      makeOciLayout(dir, { layerSizes: [128 * 1024, 64 * 1024] });
      const source = await readOciLayout(dir);
      await pushImage({ registry: registry.url, repository: 'mount/src', image: source, tags: ['1'] });
      const result = await pushImage({
        registry: registry.url,
        repository: 'mount/dst',
        image: source,
        tags: ['1'],
        mountFrom: ['mount/elsewhere', 'mount/src'],
      });
      expect(result.blobs).toEqual({ total: 3, uploaded: 0, skipped: 0, mounted: 3, bytesUploaded: 0 });
      const inspected = JSON.parse(
        await skopeo('inspect', '--tls-verify=false', `docker://${registry.host}/mount/dst:1`),
      ) as {
        Digest: string;
      };
      expect(inspected.Digest).toBe(result.digest);
    },
    60_000,
  );

  withTools(
    'pushes a two-platform index child-first and shares the common layer once',
    async () => {
      const dir = fresh('multi');
      const { index, images } = makeMultiArchLayout(dir, { ref: 'multi' });
      const proxy = await startProxy(registry.url);
      try {
        const result = await pushImage({
          registry: proxy.url,
          repository: 'multi/app',
          image: await readOciLayout(dir),
          tags: ['1.0'],
        });
        expect(result.digest).toBe(index.digest);
        expect(result.mediaType).toBe('application/vnd.oci.image.index.v1+json');
        expect(result.manifests).toBe(3);
        // 2 configs + 1 shared layer + 2 platform layers.
        expect(result.blobs.total).toBe(5);
        expect(result.blobs.uploaded).toBe(5);
        const manifestPuts = proxy.log
          .filter((r) => r.method === 'PUT' && r.path.includes('/manifests/'))
          .map((r) => r.path);
        expect(manifestPuts).toEqual([
          `/v2/multi/app/manifests/${images[0]!.manifest.digest}`,
          `/v2/multi/app/manifests/${images[1]!.manifest.digest}`,
          '/v2/multi/app/manifests/1.0',
        ]);
        // Every blob went up before the first manifest.
        const firstManifest = proxy.log.findIndex((r) => r.path.includes('/manifests/'));
        const lastBlobPut = proxy.log
          .map((r) => r.method === 'PUT' && r.path.includes('/blobs/uploads/'))
          .lastIndexOf(true);
        expect(lastBlobPut).toBeLessThan(firstManifest);
      } finally {
        await proxy.close();
      }
      const raw = await inspectRaw(registry.host, 'multi/app:1.0');
      expect(sha256(raw)).toBe(index.digest);
      for (const image of images) {
        const child = await inspectRaw(registry.host, `multi/app@${image.manifest.digest}`);
        expect(sha256(child)).toBe(image.manifest.digest);
      }
      const back = fresh('back');
      await skopeo(
        'copy',
        '--all',
        '--src-tls-verify=false',
        `docker://${registry.host}/multi/app:1.0`,
        `oci:${back}:x`,
      );
      expect(readdirSync(join(back, 'blobs', 'sha256')).sort()).toEqual(
        readdirSync(join(dir, 'blobs', 'sha256')).sort(),
      );
    },
    60_000,
  );

  withTools(
    'fails with a clear error on a corrupted blob and tags nothing',
    async () => {
      const dir = fresh('corrupt');
      const image = makeOciLayout(dir, { layerSizes: [200 * 1024, 100 * 1024] });
      const victim = image.layers[0]!;
      const path = join(dir, 'blobs', 'sha256', victim.digest.slice(7));
      const bytes = readFileSync(path);
      bytes[bytes.length - 10]! ^= 0xff; // same size, different content
      writeFileSync(path, bytes);
      const source = await readOciLayout(dir);
      const error = await pushImage({
        registry: registry.url,
        repository: 'corrupt/app',
        image: source,
        tags: ['v1'],
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(DigestMismatchError);
      expect((error as Error).message).toContain(
        `Blob ${victim.digest} in oci-layout ${dir} does not match its digest`,
      );
      expect(await manifestExists({ registry: registry.url }, 'corrupt/app', 'v1')).toBe(false);
      await expect(
        skopeo('inspect', '--tls-verify=false', `docker://${registry.host}/corrupt/app:v1`),
      ).rejects.toThrow();
    },
    60_000,
  );
});

describe('pushImage memory', () => {
  withTools(
    'streams a 96 MiB layer without holding it in memory',
    async () => {
      const dir = fresh('big');
      mkdirSync(dir, { recursive: true });
      // One large random blob (written in chunks) as the only layer.
      const size = 96 * 1024 * 1024;
      const hash = createHash('sha256');
      const tmp = join(dir, 'layer');
      const out = createWriteStream(tmp);
      for (let written = 0; written < size; written += 1024 * 1024) {
        const chunk = randomBytes(1024 * 1024);
        hash.update(chunk);
        if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      }
      await new Promise<void>((r) => out.end(() => r()));
      const layer = {
        mediaType: 'application/vnd.oci.image.layer.v1.tar',
        digest: `sha256:${hash.digest('hex')}`,
        size,
      };
      mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
      renameSync(tmp, join(dir, 'blobs', 'sha256', layer.digest.slice(7)));
      const configBytes = Buffer.from(
        JSON.stringify({
          os: 'linux',
          architecture: 'amd64',
          rootfs: { type: 'layers', diff_ids: [layer.digest] },
        }),
      );
      const config = {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: writeBlob(dir, configBytes),
        size: configBytes.length,
      };
      const manifestBytes = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config,
          layers: [layer],
        }),
      );
      const manifest = {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: writeBlob(dir, manifestBytes),
        size: manifestBytes.length,
      };
      writeLayoutIndex(dir, [{ descriptor: manifest }]);

      global.gc?.();
      const baseline = process.memoryUsage().rss;
      let peak = baseline;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
      try {
        const result = await pushImage({
          registry: registry.url,
          repository: 'big/app',
          image: await readOciLayout(dir),
          tags: ['v1'],
        });
        expect(result.blobs.bytesUploaded).toBe(size + configBytes.length);
      } finally {
        clearInterval(sampler);
      }
      // A buffered layer would add at least its 96 MiB. RSS also moves with whatever else the jest
      // worker does and frees meanwhile (61 MiB was seen once in a loaded full run, 20-30 alone),
      // so the bound sits below the buffered case with room, not at half of it.
      expect((peak - baseline) / 1024 / 1024).toBeLessThan(80);
      rmSync(dir, { recursive: true, force: true });
    },
    120_000,
  );
});

describe('pushImage with a docker save archive', () => {
  withTools(
    'gzips the layers like skopeo, checks them against diff_ids, and pushes a Docker schema 2 image',
    async () => {
      const dir = fresh('archive');
      const archive = makeDockerArchive(dir, {
        layerSizes: [300 * 1024, 20 * 1024],
        duplicateFirstLayer: true,
      });
      const source = await readDockerArchive(archive.path, { tempDir: dir });
      try {
        const result = await pushImage({
          registry: registry.url,
          repository: 'archive/app',
          image: source,
          tags: ['v1'],
        });
        expect(result.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
        // config + 2 distinct layers (the third entry repeats the first).
        expect(result.blobs.total).toBe(3);
        const raw = await inspectRaw(registry.host, 'archive/app:v1');
        expect(sha256(raw)).toBe(result.digest);
        const manifest = JSON.parse(raw.toString()) as {
          config: { mediaType: string; digest: string };
          layers: Array<{ mediaType: string; digest: string }>;
        };
        expect(manifest.config).toMatchObject({
          mediaType: 'application/vnd.docker.container.image.v1+json',
          digest: sha256(archive.config),
        });
        expect(manifest.layers.map((l) => l.mediaType)).toEqual(
          Array(3).fill('application/vnd.docker.image.rootfs.diff.tar.gzip'),
        );
        expect(manifest.layers[2]!.digest).toBe(manifest.layers[0]!.digest);
        // skopeo unpacks it into a docker archive again: the layers decompress to the originals.
        const out = join(dir, 'copied.tar');
        await skopeo(
          'copy',
          '--src-tls-verify=false',
          `docker://${registry.host}/archive/app:v1`,
          `docker-archive:${out}`,
        );
        const copied = await readDockerArchive(out, { compress: false });
        expect(copied.manifest.blobs.slice(1).map((b) => b.digest)).toEqual([
          sha256(archive.layers[0]!),
          sha256(archive.layers[1]!),
          sha256(archive.layers[0]!),
        ]);
        await copied.close();
      } finally {
        await source.close();
      }
      // Compression is deterministic: reading the archive again gives the same image, nothing to upload.
      const again = await readDockerArchive(archive.path, { tempDir: dir });
      const second = await pushImage({
        registry: registry.url,
        repository: 'archive/app',
        image: again,
        tags: ['v1'],
      });
      await again.close();
      expect(second.blobs.bytesUploaded).toBe(0);
      expect(readdirSync(dir).filter((n) => n.startsWith('docker-archive-'))).toEqual([]);
    },
    60_000,
  );

  withTools(
    'pushes uncompressed layers as rootfs.diff.tar with compress: false',
    async () => {
      const dir = fresh('archive');
      const archive = makeDockerArchive(dir, { layerSizes: [40 * 1024], format: 'gnu' });
      const source = await readDockerArchive(archive.path, { compress: false });
      const result = await pushImage({
        registry: registry.url,
        repository: 'archive/plain',
        image: source,
        tags: ['v1'],
      });
      const manifest = JSON.parse((await inspectRaw(registry.host, 'archive/plain:v1')).toString()) as {
        layers: Array<{ mediaType: string; digest: string; size: number }>;
      };
      expect(manifest.layers).toEqual([
        {
          mediaType: 'application/vnd.docker.image.rootfs.diff.tar',
          digest: sha256(archive.layers[0]!),
          size: archive.layers[0]!.length,
        },
      ]);
      expect(result.blobs.uploaded).toBe(2);
    },
    60_000,
  );
});

describe('pushImage when the network or the registry misbehaves', () => {
  withTools(
    'retries a 503 and a dropped connection on blob uploads, restarting each upload',
    async () => {
      const dir = fresh('retry');
      makeOciLayout(dir, { layerSizes: [256 * 1024, 128 * 1024] });
      let uploads = 0;
      let heads = 0;
      const proxy = await startProxy(registry.url, (req) => {
        if (req.method === 'HEAD' && req.url?.includes('/blobs/') && ++heads === 1) {
          return {
            status: 429,
            headers: { 'Retry-After': '0' },
            body: '{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}',
          };
        }
        if (req.method === 'PUT' && req.url?.includes('/blobs/uploads/')) {
          uploads++;
          if (uploads === 1)
            return { status: 503, body: '{"errors":[{"code":"UNAVAILABLE","message":"try again"}]}' };
          if (uploads === 2) return 'drop';
        }
        return 'forward';
      });
      const retries: PushProgress[] = [];
      try {
        const result = await pushImage({
          registry: proxy.url,
          repository: 'retry/app',
          image: await readOciLayout(dir),
          tags: ['v1'],
          concurrency: 1,
          retryDelayMs: 10,
          onProgress: (e) => e.type === 'retry' && retries.push(e),
        });
        expect(result.retries).toBe(3);
        expect(result.blobs.uploaded).toBe(3);
        expect(retries.map((e) => (e.type === 'retry' ? e.error : ''))).toEqual([
          expect.stringContaining('TOOMANYREQUESTS'),
          expect.stringContaining('HTTP 503 UNAVAILABLE: try again'),
          expect.stringMatching(/socket hang up|ECONNRESET|EPIPE/),
        ]);
        const inspected = JSON.parse(
          await skopeo('inspect', '--tls-verify=false', `docker://${registry.host}/retry/app:v1`),
        ) as {
          Digest: string;
        };
        expect(inspected.Digest).toBe(result.digest);
      } finally {
        await proxy.close();
      }
    },
    60_000,
  );

  withTools(
    'gives up after the retries with the registry error',
    async () => {
      const dir = fresh('down');
      makeOciLayout(dir, { layerSizes: [1024] });
      const proxy = await startProxy(registry.url, (req) =>
        req.method === 'POST' ? { status: 502, body: 'bad gateway' } : 'forward',
      );
      try {
        const error = await pushImage({
          registry: proxy.url,
          repository: 'down/app',
          image: await readOciLayout(dir),
          retries: 2,
          retryDelayMs: 1,
          concurrency: 1,
        }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(RegistryError);
        expect((error as RegistryError).status).toBe(502);
        expect((error as Error).message).toMatch(
          /^Starting an upload to 127\.0\.0\.1:\d+\/down\/app failed: HTTP 502 SERVER_ERROR: bad gateway$/,
        );
        expect(proxy.log.filter((r) => r.method === 'POST')).toHaveLength(3);
      } finally {
        await proxy.close();
      }
    },
    60_000,
  );

  withTools(
    'reports registry error codes with a hint: NAME_UNKNOWN, TAG_INVALID',
    async () => {
      const dir = fresh('errors');
      makeOciLayout(dir, { layerSizes: [1024] });
      const proxy = await startProxy(registry.url, (req) => {
        if (req.url?.startsWith('/v2/missing/') && req.method === 'HEAD') {
          return {
            status: 404,
            body: '',
          };
        }
        if (req.url?.startsWith('/v2/missing/') && req.method === 'POST') {
          return {
            status: 404,
            body: '{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}',
          };
        }
        if (req.method === 'PUT' && req.url?.endsWith('/manifests/taken')) {
          return {
            status: 400,
            body: JSON.stringify({
              errors: [
                {
                  code: 'TAG_INVALID',
                  message:
                    "The image tag 'taken' already exists in the 'immutable/app' repository and cannot be overwritten because the repository is immutable.",
                },
              ],
            }),
          };
        }
        return 'forward';
      });
      try {
        const image = await readOciLayout(dir);
        const missing = (await pushImage({ registry: proxy.url, repository: 'missing', image }).catch(
          (e: unknown) => e,
        )) as RegistryError;
        expect(missing).toBeInstanceOf(RegistryError);
        expect(missing.code).toBe('NAME_UNKNOWN');
        expect(missing.hint).toBe(
          `The repository "missing" does not exist in ${proxy.host}: create it, or set create-repository: true`,
        );

        const taken = (await pushImage({
          registry: proxy.url,
          repository: 'immutable/app',
          image,
          tags: ['taken'],
        }).catch((e: unknown) => e)) as RegistryError;
        expect(taken.code).toBe('TAG_INVALID');
        expect(taken.message).toContain(
          `Tagging ${proxy.host}/immutable/app:taken failed: HTTP 400 TAG_INVALID: The image tag 'taken' already exists`,
        );
        expect(taken.hint).toContain('immutable tags');
      } finally {
        await proxy.close();
      }
    },
    60_000,
  );
});

describe('registry authentication', () => {
  const USER = 'ci';
  const PASSWORD = 's3cret';
  const basic = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

  withTools(
    'answers a Basic challenge (as ECR sends) and reports rejected credentials',
    async () => {
      const dir = fresh('basic');
      makeOciLayout(dir, { layerSizes: [4096] });
      const proxy = await startProxy(registry.url, (req) =>
        req.headers.authorization === basic
          ? 'forward'
          : {
              status: 401,
              headers: {
                'WWW-Authenticate': 'Basic realm="https://registry.example/",service="ecr.amazonaws.com"',
              },
              body: '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
            },
      );
      try {
        const image = await readOciLayout(dir);
        const result = await pushImage({
          registry: proxy.url,
          repository: 'auth/basic',
          image,
          tags: ['v1'],
          auth: { username: USER, password: PASSWORD },
        });
        expect(
          await getManifestDigest(
            { registry: proxy.url, auth: { username: USER, password: PASSWORD } },
            'auth/basic',
            'v1',
          ),
        ).toBe(result.digest);
        // Only the first request went without credentials.
        expect(proxy.log.length).toBeGreaterThan(5);

        const wrong = (await pushImage({
          registry: proxy.url,
          repository: 'auth/basic',
          image,
          auth: { username: USER, password: 'nope' },
        }).catch((e: unknown) => e)) as RegistryError;
        expect(wrong.code).toBe('UNAUTHORIZED');
        expect(wrong.hint).toContain('did not accept the credentials');
        const none = (await pushImage({ registry: proxy.url, repository: 'auth/basic', image }).catch(
          (e: unknown) => e,
        )) as RegistryError;
        expect(none.code).toBe('UNAUTHORIZED');
      } finally {
        await proxy.close();
      }
    },
    60_000,
  );

  withTools(
    'fetches a Bearer token from the realm with the push and mount scopes',
    async () => {
      const dir = fresh('bearer');
      makeOciLayout(dir, { layerSizes: [4096] });
      const tokenRequests: string[] = [];
      let realm = '';
      const proxy = await startProxy(registry.url, (req) => {
        if (req.url?.startsWith('/token')) {
          tokenRequests.push(req.url);
          return req.headers.authorization === basic
            ? { status: 200, body: '{"token":"tok-1"}' }
            : { status: 401, body: '' };
        }
        if (req.headers.authorization === 'Bearer tok-1') return 'forward';
        return {
          status: 401,
          headers: { 'WWW-Authenticate': `Bearer realm="${realm}",service="test-registry"` },
          body: '{"errors":[{"code":"UNAUTHORIZED","message":"token required"}]}',
        };
      });
      realm = `${proxy.url}/token`;
      try {
        await pushImage({
          registry: proxy.url,
          repository: 'auth/bearer',
          image: await readOciLayout(dir),
          tags: ['v1'],
          mountFrom: ['auth/base'],
          auth: { username: USER, password: PASSWORD },
        });
        expect(tokenRequests).toHaveLength(1);
        const params = new URL(tokenRequests[0]!, proxy.url).searchParams;
        expect(params.get('service')).toBe('test-registry');
        expect(params.getAll('scope')).toEqual([
          'repository:auth/bearer:pull,push',
          'repository:auth/base:pull',
        ]);
      } finally {
        await proxy.close();
      }
    },
    60_000,
  );
});

describe('https with a private CA', () => {
  const withOpenssl = requireTools([
    { name: 'docker-registry', path: DOCKER_REGISTRY },
    { name: 'skopeo', path: SKOPEO },
    { name: 'openssl', path: '/usr/bin/openssl' },
  ]);

  withOpenssl(
    'trusts the CA given as a file, and fails with a TLS hint without it',
    async () => {
      const dir = fresh('tls');
      mkdirSync(dir, { recursive: true });
      const ssl = (...args: string[]): Promise<unknown> => run('/usr/bin/openssl', args, { cwd: dir });
      await ssl(
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'ca.key',
        '-out',
        'ca.crt',
        '-subj',
        '/CN=test CA',
        '-days',
        '2',
      );
      await ssl(
        'req',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'leaf.key',
        '-out',
        'leaf.csr',
        '-subj',
        '/CN=127.0.0.1',
      );
      writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
      await ssl(
        'x509',
        '-req',
        '-in',
        'leaf.csr',
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        'leaf.crt',
        '-days',
        '2',
        '-extfile',
        'ext.cnf',
      );
      const secure = await startRegistry({
        tls: { certFile: join(dir, 'leaf.crt'), keyFile: join(dir, 'leaf.key') },
      });
      try {
        const layout = join(dir, 'layout');
        makeOciLayout(layout, { layerSizes: [8192] });
        const image = await readOciLayout(layout);
        const result = await pushImage({
          registry: secure.url,
          caFile: join(dir, 'ca.crt'),
          repository: 'tls/app',
          image,
          tags: ['v1'],
        });
        // skopeo verifies the server against the same CA (a cert dir holds only ca.crt).
        const certDir = join(dir, 'certs');
        mkdirSync(certDir);
        writeFileSync(join(certDir, 'ca.crt'), readFileSync(join(dir, 'ca.crt')));
        const inspected = JSON.parse(
          await skopeo('inspect', `--cert-dir=${certDir}`, `docker://${secure.host}/tls/app:v1`),
        ) as { Digest: string };
        expect(inspected.Digest).toBe(result.digest);
        const untrusted = (await pushImage({
          registry: secure.url,
          repository: 'tls/app',
          image,
          retries: 0,
        }).catch((e: unknown) => e)) as NetworkError;
        expect(untrusted).toBeInstanceOf(NetworkError);
        expect(untrusted.hint).toContain('set NODE_EXTRA_CA_CERTS');
      } finally {
        await secure.stop();
      }
    },
    60_000,
  );
});
