// The image builder: what it writes must be a genuine layout (digests, sizes and diff_ids that a
// registry or skopeo would check), whether a layer is built in memory or streamed to disk.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { buildImage, buildOciLayout, MEDIA_TYPES, type OciLayout } from '../src/index.js';

const hex = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const blobFile = (layout: OciLayout, digest: string) => join(layout.dir, 'blobs', 'sha256', digest.slice(7));

test('a streamed layout: every blob is stored under its digest, and the config names the tars it holds', async () => {
  const layout = await buildOciLayout({
    layers: [
      { size: 9 * 1024 * 1024 + 3 },
      { size: 1000, gzip: false },
      { path: 'app/hello.txt', content: 'hello\n' },
    ],
    labels: { purpose: 'test' },
    containerConfig: { Cmd: ['/app/server'] },
    tag: 'v1',
  });
  try {
    for (const blob of layout.blobs.values()) {
      const bytes = readFileSync(blobFile(layout, blob.digest));
      expect([hex(bytes), bytes.length]).toEqual([blob.digest.slice(7), blob.size]);
    }
    const [image] = layout.images;
    const index = JSON.parse(readFileSync(join(layout.dir, 'index.json'), 'utf8'));
    expect(index.manifests).toEqual([
      expect.objectContaining({
        digest: image!.manifest.digest,
        annotations: { 'org.opencontainers.image.ref.name': 'v1' },
      }),
    ]);
    expect(image!.layers.map((l) => l.mediaType)).toEqual([
      MEDIA_TYPES.oci.layerGzip,
      MEDIA_TYPES.oci.layerTar,
      MEDIA_TYPES.oci.layerGzip,
    ]);
    const tars = image!.layers.map((l) => {
      const bytes = readFileSync(blobFile(layout, l.digest));
      return l.mediaType === MEDIA_TYPES.oci.layerGzip ? gunzipSync(bytes) : bytes;
    });
    const config = JSON.parse(image!.config.bytes.toString());
    expect(config.rootfs.diff_ids).toEqual(tars.map((t) => `sha256:${hex(t)}`));
    expect(config.config).toMatchObject({ Labels: { purpose: 'test' }, Cmd: ['/app/server'] });
    // One file each: a 512-byte header, the content padded to 512, two zero blocks.
    expect(tars[0]!.length).toBe(512 + Math.ceil((9 * 1024 * 1024 + 3) / 512) * 512 + 1024);
    expect(tars[2]!.subarray(0, 13).toString()).toBe('app/hello.txt');
    expect(tars[2]!.subarray(512, 518).toString()).toBe('hello\n');
    expect(image!.sizeInBytes).toBe(image!.config.size + image!.layers.reduce((n, l) => n + l.size, 0));
  } finally {
    await layout.cleanup();
  }
  expect(() => statSync(layout.dir)).toThrow();
});

test('several platforms under one index; the same content gives the same digests in memory and on disk', async () => {
  const spec = { path: 'same.txt', content: 'same bytes\n' };
  const layout = await buildOciLayout({
    platforms: [
      { os: 'linux', architecture: 'amd64', layers: [spec] },
      { os: 'linux', architecture: 'arm64', layers: [spec] },
    ],
  });
  try {
    expect(layout.top.mediaType).toBe(MEDIA_TYPES.oci.index);
    const index = JSON.parse(layout.top.bytes.toString());
    expect(index.manifests.map((m: { platform: unknown }) => m.platform)).toEqual([
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64' },
    ]);
    const inMemory = buildImage([spec], { platform: { os: 'linux', architecture: 'arm64' } });
    expect(inMemory.manifest.digest).toBe(layout.images[1]!.manifest.digest);
  } finally {
    await layout.cleanup();
  }
});
