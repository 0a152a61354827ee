// The image readers and the tar reader on inputs built here (GNU tar for the archives).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ActionError } from '../src/errors.js';
import { parseChallenge, readDockerArchive, readOciLayout } from '../src/registry/index.js';
import { TarArchive } from '../src/registry/tar.js';
import {
  makeDockerArchive,
  makeLayerTar,
  makeOciLayout,
  sha256,
  writeImage,
  writeIndex,
  writeLayoutIndex,
} from './helpers/registry-oci-layout.js';
import { requireTool } from '../../../test/helpers/tools.js';

const withTar = requireTool('GNU tar', '/usr/bin/tar');
let work: string;
let counter = 0;
const fresh = (name: string): string => {
  const dir = join(work, `${name}-${++counter}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'registry-readers-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function thrown(promise: Promise<unknown>): Promise<ActionError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ActionError);
  return error as ActionError;
}

describe('readOciLayout', () => {
  test('says what is missing when the directory is not a layout', async () => {
    const empty = fresh('empty');
    expect((await thrown(readOciLayout(empty))).message).toBe(
      `${empty} is not an OCI image layout: no oci-layout file, no index.json`,
    );
    writeFileSync(join(empty, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    expect((await thrown(readOciLayout(empty))).message).toBe(
      `${empty} is not an OCI image layout: no index.json`,
    );
    const error = await thrown(readOciLayout(join(empty, 'nope')));
    expect(error.message).toBe(
      `${join(empty, 'nope')} is not an OCI image layout: the directory does not exist`,
    );
    expect(error.hint).toContain('oci-layout file, index.json and blobs/');
  });

  test('reads one image: manifest bytes, config first, then layers', async () => {
    const dir = fresh('one');
    const image = makeOciLayout(dir, { layerSizes: [1000, 2000] });
    const source = await readOciLayout(dir);
    expect(source.description).toBe(`oci-layout ${dir}`);
    expect(source.manifest.digest).toBe(image.manifest.digest);
    expect(sha256(source.manifest.bytes)).toBe(image.manifest.digest);
    expect(source.manifest.blobs.map((b) => b.digest)).toEqual([
      image.config.digest,
      ...image.layers.map((l) => l.digest),
    ]);
    const chunks: Buffer[] = [];
    for await (const chunk of await source.openBlob(image.layers[0]!)) chunks.push(chunk as Buffer);
    expect(sha256(Buffer.concat(chunks))).toBe(image.layers[0]!.digest);
  });

  test('picks a manifest by ref name, and lists the names when it cannot choose', async () => {
    const dir = fresh('refs');
    const a = writeImage(dir, { layerSizes: [100] });
    const b = writeImage(dir, { layerSizes: [200] });
    writeLayoutIndex(dir, [
      { descriptor: a.manifest, ref: 'a' },
      { descriptor: b.manifest, ref: 'b' },
    ]);
    expect((await readOciLayout(dir, { ref: 'b' })).manifest.digest).toBe(b.manifest.digest);
    const ambiguous = await thrown(readOciLayout(dir));
    expect(ambiguous.message).toBe(`${dir} holds 2 manifests; say which one to push`);
    expect(ambiguous.hint).toBe('Pass one of its ref names: a, b');
    const unknown = await thrown(readOciLayout(dir, { ref: 'c' }));
    expect(unknown.message).toBe(`${dir} has no manifest named "c"`);
  });

  test('follows nested indexes down to the image manifests', async () => {
    const dir = fresh('nested');
    const amd = writeImage(dir, { layerSizes: [100], platform: { architecture: 'amd64', os: 'linux' } });
    const arm = writeImage(dir, { layerSizes: [100], platform: { architecture: 'arm64', os: 'linux' } });
    const inner = writeIndex(dir, [amd.manifest, arm.manifest]);
    const outer = writeIndex(dir, [inner]);
    writeLayoutIndex(dir, [{ descriptor: outer }]);
    const source = await readOciLayout(dir);
    expect(source.manifest.digest).toBe(outer.digest);
    expect(source.manifest.manifests[0]!.digest).toBe(inner.digest);
    expect(source.manifest.manifests[0]!.manifests.map((m) => m.platform?.architecture)).toEqual([
      'amd64',
      'arm64',
    ]);
  });

  test('fails early on a missing blob, a truncated blob, or a manifest that does not match its digest', async () => {
    const dir = fresh('broken');
    const image = makeOciLayout(dir, { layerSizes: [1000, 2000] });
    const blob = (d: { digest: string }): string => join(dir, 'blobs', 'sha256', d.digest.slice(7));
    const layer = readFileSync(blob(image.layers[1]!));
    writeFileSync(blob(image.layers[1]!), layer.subarray(0, 10));
    expect((await thrown(readOciLayout(dir))).message).toBe(
      `The layer blob ${image.layers[1]!.digest} in ${dir} is 10 bytes, but its descriptor says ${layer.length}`,
    );
    rmSync(blob(image.layers[1]!));
    expect((await thrown(readOciLayout(dir))).message).toBe(
      `${dir} is missing the layer blob ${image.layers[1]!.digest}`,
    );
    writeFileSync(blob(image.manifest), '{"schemaVersion":2}');
    expect((await thrown(readOciLayout(dir))).message).toMatch(
      new RegExp(
        `^The manifest blob ${image.manifest.digest} in ${dir} does not match its descriptor: 19 bytes hashing to sha256:`,
      ),
    );
  });
});

describe('TarArchive', () => {
  withTar('indexes pax and GNU long names, ustar, symlinks and hard links', async () => {
    for (const format of ['pax', 'gnu', 'ustar'] as const) {
      const dir = fresh(`tar-${format}`);
      const root = join(dir, 'root');
      const long = format === 'ustar' ? 'short' : `${'d'.repeat(90)}/${'e'.repeat(80)}`;
      mkdirSync(join(root, long), { recursive: true });
      writeFileSync(join(root, long, 'file.bin'), 'hello tar');
      symlinkSync('file.bin', join(root, long, 'link.bin'));
      execFileSync('ln', [join(root, long, 'file.bin'), join(root, 'hard.bin')]);
      const path = join(dir, 'a.tar');
      execFileSync('tar', [`--format=${format}`, '-cf', path, '-C', root, '.']);
      const archive = await TarArchive.open(path);
      const file = archive.find(`${long}/file.bin`);
      expect(file).toMatchObject({ type: 'file', size: 9 });
      expect((await archive.readFile(`./${long}/link.bin`)).toString()).toBe('hello tar');
      expect((await archive.readFile('hard.bin')).toString()).toBe('hello tar');
      const chunks: Buffer[] = [];
      for await (const c of archive.createReadStream(archive.find(`${long}/link.bin`)!))
        chunks.push(c as Buffer);
      expect(Buffer.concat(chunks).toString()).toBe('hello tar');
      expect(archive.entries.get(long)?.type).toBe('directory');
    }
  });

  test('rejects what is not a tar', async () => {
    const dir = fresh('nottar');
    writeFileSync(join(dir, 'x.tar'), gzipSync(Buffer.alloc(4096, 1)));
    const error = await thrown(TarArchive.open(join(dir, 'x.tar')));
    expect(error.message).toMatch(
      /x\.tar is not a tar archive: (bad header checksum at byte 0|it is too short)/,
    );
    expect(error.hint).toContain('not compressed');
  });
});

describe('readDockerArchive', () => {
  withTar('turns a docker save archive into a Docker schema 2 manifest', async () => {
    const dir = fresh('archive');
    const archive = makeDockerArchive(dir, { layerSizes: [5000, 7000] });
    const source = await readDockerArchive(archive.path, { compress: false });
    const manifest = JSON.parse(source.manifest.bytes.toString()) as Record<string, unknown>;
    expect(manifest).toEqual({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: {
        mediaType: 'application/vnd.docker.container.image.v1+json',
        size: archive.config.length,
        digest: sha256(archive.config),
      },
      layers: archive.layers.map((l) => ({
        mediaType: 'application/vnd.docker.image.rootfs.diff.tar',
        size: l.length,
        digest: sha256(l),
      })),
    });
    expect(source.manifest.digest).toBe(sha256(source.manifest.bytes));
    await source.close();
  });

  withTar('chooses an image by tag, and rejects layers that do not match diff_ids', async () => {
    const dir = fresh('archive-bad');
    const root = join(dir, 'root');
    mkdirSync(root);
    const layer = makeLayerTar('a', 100);
    writeFileSync(join(root, 'layer.tar'), layer);
    const config = (diff: string): Buffer =>
      Buffer.from(JSON.stringify({ os: 'linux', rootfs: { type: 'layers', diff_ids: [diff] } }));
    writeFileSync(join(root, 'good.json'), config(sha256(layer)));
    writeFileSync(join(root, 'bad.json'), config(sha256('something else')));
    writeFileSync(
      join(root, 'manifest.json'),
      JSON.stringify([
        { Config: 'good.json', RepoTags: ['app:good'], Layers: ['layer.tar'] },
        { Config: 'bad.json', RepoTags: ['app:bad'], Layers: ['layer.tar'] },
      ]),
    );
    const path = join(dir, 'two.tar');
    execFileSync('tar', ['-cf', path, '-C', root, '.']);
    const both = await thrown(readDockerArchive(path));
    expect(both.message).toBe(`${path} holds 2 images; say which one to push`);
    expect(both.hint).toBe('Pass one of its tags: app:good, app:bad');
    const good = await readDockerArchive(path, { ref: 'app:good', tempDir: dir });
    expect(good.manifest.blobs[1]!.mediaType).toBe('application/vnd.docker.image.rootfs.diff.tar.gzip');
    await good.close();
    const bad = await thrown(readDockerArchive(path, { ref: 'app:bad', tempDir: dir }));
    expect(bad.message).toBe(
      `${path}: layer layer.tar does not match the config's diff_id ${sha256('something else')}: its bytes hash to ${sha256(layer)}`,
    );
    expect((await thrown(readDockerArchive(join(dir, 'root', 'good.json')))).message).toMatch(
      /is not a tar archive/,
    );
  });

  withTar('pushes already-gzipped layers unchanged', async () => {
    const dir = fresh('archive-gz');
    const root = join(dir, 'root');
    mkdirSync(root);
    const tar = makeLayerTar('a', 300);
    const gz = gzipSync(tar);
    writeFileSync(join(root, 'layer.tar.gz'), gz);
    writeFileSync(
      join(root, 'c.json'),
      JSON.stringify({ rootfs: { type: 'layers', diff_ids: [sha256(tar)] } }),
    );
    writeFileSync(
      join(root, 'manifest.json'),
      JSON.stringify([{ Config: 'c.json', RepoTags: null, Layers: ['layer.tar.gz'] }]),
    );
    const path = join(dir, 'gz.tar');
    execFileSync('tar', ['-cf', path, '-C', root, '.']);
    const source = await readDockerArchive(path);
    expect(source.manifest.blobs[1]).toEqual({
      mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
      digest: sha256(gz),
      size: gz.length,
    });
  });
});

describe('parseChallenge', () => {
  test('reads Bearer and Basic challenges', () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"',
      ),
    ).toEqual({
      scheme: 'bearer',
      params: {
        realm: 'https://auth.docker.io/token',
        service: 'registry.docker.io',
        scope: 'repository:library/nginx:pull',
      },
    });
    expect(
      parseChallenge('Basic realm="https://1.dkr.ecr.us-east-1.amazonaws.com/",service="ecr.amazonaws.com"'),
    ).toEqual({
      scheme: 'basic',
      params: { realm: 'https://1.dkr.ecr.us-east-1.amazonaws.com/', service: 'ecr.amazonaws.com' },
    });
    expect(parseChallenge('')).toBeUndefined();
  });
});
