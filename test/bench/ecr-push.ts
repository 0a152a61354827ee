// ecr-push's daemonless push (readOciLayout + pushImage) against `skopeo copy` of the same OCI
// layout to Debian's reference registry (docker-registry) on loopback, alternated, medians and the
// ratio; then a second push of the unchanged image (0 blob bytes), and the peak RSS of a child
// process pushing one 1 GiB layer against bare node.
//
// Fairness: every timed push goes to a registry started on fresh, empty storage (started and
// stopped outside the timing), so neither side can skip, mount or dedupe a blob; each push is
// checked afterwards to have left all the layer bytes in the registry's storage and the layout's
// manifest digest under its tag. skopeo runs with --preserve-digests: the layers are uncompressed
// tars (random bytes do not compress) and skopeo would otherwise gzip them on the way, which is
// not the same work. The order alternates each round so drift hits both alike.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getManifestDigest, pushImage, readOciLayout } from '../../packages/core/src/index.js';
import type { PushResult } from '../../packages/core/src/index.js';
import {
  DOCKER_REGISTRY,
  SKOPEO,
  startRegistry,
  type RunningRegistry,
} from '../../packages/core/test/helpers/registry-server.js';
// The builder's own module, not the package's index: the RSS child loads this file too, and should
// not pay for the emulator it never starts.
import { buildOciLayout } from '../../packages/local-aws/src/oci-image.js';
import { repoRoot } from '../helpers/action-runner.js';
import { formatMs, median } from './stats.js';

const ROUNDS = 5;
const MiB = 1024 * 1024;
const IMAGE_BYTES = 256 * MiB;
const LAYERS = 5;
const BIG_LAYER_BYTES = 1024 * MiB;
const RSS_GOAL_MIB = 200;
const TAG = 'latest';
const CHILD_FLAG = '--ecr-push-rss-child';

interface Layout {
  dir: string;
  manifestDigest: string;
  /** Config + layers. */
  blobBytes: number;
  layerBytes: number;
}

/** An OCI layout of random, uncompressed tar layers, streamed to disk (never whole in memory). */
async function writeLayout(layerSizes: readonly number[]): Promise<Layout> {
  const layout = await buildOciLayout({
    layers: layerSizes.map((size) => ({ size, gzip: false })),
    tag: TAG,
  });
  const image = layout.images[0]!;
  return {
    dir: layout.dir,
    manifestDigest: layout.top.digest,
    blobBytes: image.sizeInBytes,
    layerBytes: image.sizeInBytes - image.config.size,
  };
}

// ---- the two pushers

async function pushOurs(layout: Layout, registry: RunningRegistry, repository: string): Promise<PushResult> {
  const image = await readOciLayout(layout.dir, { ref: TAG });
  try {
    return await pushImage({ registry: registry.url, repository, image, tags: [TAG] });
  } finally {
    await image.close();
  }
}

function run(command: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0
        ? resolve()
        : reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? code}):\n${stderr}`)),
    );
  });
}

function pushSkopeo(layout: Layout, registry: RunningRegistry, repository: string): Promise<void> {
  return run(SKOPEO, [
    'copy',
    '--quiet',
    '--preserve-digests',
    '--dest-tls-verify=false',
    `oci:${layout.dir}:${TAG}`,
    `docker://${registry.host}/${repository}:${TAG}`,
  ]);
}

/** Bytes of the blobs a registry holds in its filesystem storage. */
function storedBlobBytes(registry: RunningRegistry): number {
  const root = path.join(registry.dir, 'data', 'docker', 'registry', 'v2', 'blobs');
  let total = 0;
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name === 'data') total += statSync(full).size;
    }
  };
  if (existsSync(root)) walk(root);
  return total;
}

/** Checks that the push really left the whole image in the (fresh) registry, under its tag. */
async function checkPushed(
  layout: Layout,
  registry: RunningRegistry,
  repository: string,
  who: string,
): Promise<void> {
  const digest = await getManifestDigest({ registry: registry.url }, repository, TAG);
  if (digest !== layout.manifestDigest) {
    throw new Error(
      `${who}: ${repository}:${TAG} is ${digest}, expected the layout's ${layout.manifestDigest}`,
    );
  }
  const stored = storedBlobBytes(registry);
  if (stored < layout.blobBytes) {
    throw new Error(
      `${who}: the registry stores ${stored} blob bytes, fewer than the image's ${layout.blobBytes}`,
    );
  }
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}

// ---- peak RSS, in a child process

interface ChildReport {
  maxRssKiB: number;
  ms?: number;
  bytesUploaded?: number;
}

/** `node --import tsx <this file> --ecr-push-rss-child <layout> [<registry url>]`: push (or only read, as a baseline). */
async function rssChild(layoutDir: string, registryUrl: string | undefined): Promise<void> {
  const image = await readOciLayout(layoutDir, { ref: TAG });
  const report: ChildReport = { maxRssKiB: 0 };
  try {
    if (registryUrl) {
      const started = performance.now();
      const result = await pushImage({ registry: registryUrl, repository: 'bench/big', image, tags: [TAG] });
      report.ms = performance.now() - started;
      report.bytesUploaded = result.blobs.bytesUploaded;
    }
  } finally {
    await image.close();
  }
  report.maxRssKiB = process.resourceUsage().maxRSS;
  console.log(JSON.stringify(report));
}

function runNode(args: readonly string[]): ChildReport {
  const result = spawnSync(process.execPath, args, { cwd: repoRoot, encoding: 'utf8', timeout: 180_000 });
  if (result.status !== 0) {
    throw new Error(
      `node ${args.join(' ')} failed (${result.signal ?? result.status}):\n${result.stdout}\n${result.stderr}`,
    );
  }
  const last = result.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as ChildReport;
}

// ---- the benchmark

const mib = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`;
const mibPerS = (bytes: number, ms: number): string => `${(bytes / MiB / (ms / 1000)).toFixed(0)} MiB/s`;

function skopeoVersion(): string {
  const out = spawnSync(SKOPEO, ['--version'], { encoding: 'utf8' });
  return out.stdout.trim().replace(/^skopeo version /, '') || 'unknown';
}

export async function ecrPush(): Promise<void> {
  for (const [tool, file, pkg] of [
    ['docker-registry', DOCKER_REGISTRY, 'docker-registry'],
    ['skopeo', SKOPEO, 'skopeo'],
  ] as const) {
    if (!existsSync(file)) {
      throw new Error(`bench ecr-push needs ${tool} at ${file}: install it (apt-get install ${pkg})`);
    }
  }
  const nproc = spawnSync('nproc', { encoding: 'utf8' }).stdout.trim();
  const skopeo = skopeoVersion();
  const cleanups: Array<() => Promise<void> | void> = [];
  try {
    // 1. The image: 5 random uncompressed layers, 256 MiB in all.
    const layerSize = Math.floor((IMAGE_BYTES - LAYERS * 2048) / LAYERS);
    const gen = await timed(() => writeLayout(Array.from({ length: LAYERS }, () => layerSize)));
    const layout = gen.value;
    cleanups.push(() => rmSync(layout.dir, { recursive: true, force: true }));
    console.log(
      `node ${process.version}, nproc ${nproc}, skopeo ${skopeo}; image: ${LAYERS} random uncompressed tar layers, ` +
        `${mib(layout.layerBytes)} (written in ${formatMs(gen.ms)}); ${ROUNDS} rounds, alternated, each push into a fresh registry`,
    );

    // 2-3. Alternated rounds, each push into a registry on fresh, empty storage.
    const ours: number[] = [];
    const theirs: number[] = [];
    let repushed: { ms: number; result: PushResult } | undefined;
    let skopeoRepushMs: number | undefined;
    // One untimed push of each first: page cache, tsx/JIT warm-up, skopeo's binary in memory.
    for (let round = -1; round < ROUNDS; round++) {
      const sides = round % 2 === 0 ? (['ours', 'skopeo'] as const) : (['skopeo', 'ours'] as const);
      for (const side of sides) {
        const registry = await startRegistry();
        try {
          const repository = `bench/${side}-${Math.max(round, 0)}`;
          if (side === 'ours') {
            const { ms, value } = await timed(() => pushOurs(layout, registry, repository));
            if (value.blobs.bytesUploaded !== layout.blobBytes) {
              throw new Error(
                `ours uploaded ${value.blobs.bytesUploaded} bytes, expected ${layout.blobBytes}`,
              );
            }
            await checkPushed(layout, registry, repository, side);
            if (round >= 0) ours.push(ms);
            if (round === ROUNDS - 1) {
              // 4. The unchanged image again, to the same repository.
              const again = await timed(() => pushOurs(layout, registry, repository));
              repushed = { ms: again.ms, result: again.value };
            }
          } else {
            const { ms } = await timed(() => pushSkopeo(layout, registry, repository));
            await checkPushed(layout, registry, repository, side);
            if (round >= 0) theirs.push(ms);
            if (round === ROUNDS - 1)
              skopeoRepushMs = (await timed(() => pushSkopeo(layout, registry, repository))).ms;
          }
        } finally {
          await registry.stop();
        }
      }
      if (round >= 0) {
        console.log(
          `round ${round + 1}: ours ${formatMs(ours[ours.length - 1]!)}, skopeo ${formatMs(theirs[theirs.length - 1]!)}`,
        );
      }
    }
    rmSync(layout.dir, { recursive: true, force: true });

    // 5. Peak RSS of a child pushing one 1 GiB layer, against bare node and a child that only reads it.
    const big = await timed(() => writeLayout([BIG_LAYER_BYTES]));
    cleanups.push(() => rmSync(big.value.dir, { recursive: true, force: true }));
    const registry = await startRegistry();
    cleanups.push(() => registry.stop());
    const self = fileURLToPath(import.meta.url);
    const bare = runNode([
      '-e',
      'console.log(JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS }))',
    ]);
    const loaded = runNode(['--import', 'tsx', self, CHILD_FLAG, big.value.dir]);
    const pushed = runNode(['--import', 'tsx', self, CHILD_FLAG, big.value.dir, registry.url]);
    if (pushed.bytesUploaded !== big.value.blobBytes) {
      throw new Error(
        `the 1 GiB push uploaded ${pushed.bytesUploaded} bytes, expected ${big.value.blobBytes}`,
      );
    }

    const o = median(ours);
    const s = median(theirs);
    const ratio = o / s;
    const rssMiB = pushed.maxRssKiB / 1024;
    const bytes0 = repushed?.result.blobs.bytesUploaded;
    console.log('');
    console.log(`| figure | ours | peer (same run) | ratio / goal |`);
    console.log(`|---|---|---|---|`);
    console.log(`| machine | nproc ${nproc}, node ${process.version} | skopeo ${skopeo} | |`);
    console.log(
      `| push ${mib(layout.layerBytes)} in ${LAYERS} layers, median of ${ROUNDS} | ${formatMs(o)} (${mibPerS(layout.blobBytes, o)}) | ` +
        `skopeo copy ${formatMs(s)} (${mibPerS(layout.blobBytes, s)}) | ${ratio.toFixed(2)}x (goal <= 1.00) ${ratio <= 1 ? 'ok' : 'MISSED'} |`,
    );
    console.log(
      `| second push, unchanged image | ${bytes0} bytes uploaded, ${repushed?.result.blobs.skipped}/${repushed?.result.blobs.total} blobs skipped, ` +
        `${formatMs(repushed?.ms ?? NaN)} | skopeo copy ${formatMs(skopeoRepushMs ?? NaN)} | goal 0 bytes ${bytes0 === 0 ? 'ok' : 'MISSED'} |`,
    );
    console.log(
      `| peak RSS pushing one ${mib(big.value.layerBytes)} layer | ${rssMiB.toFixed(1)} MiB (${formatMs(pushed.ms ?? NaN)}) | ` +
        `bare node ${(bare.maxRssKiB / 1024).toFixed(1)} MiB; node + tsx + core, layout read, no push ${(loaded.maxRssKiB / 1024).toFixed(1)} MiB | ` +
        `goal < ${RSS_GOAL_MIB} MiB ${rssMiB < RSS_GOAL_MIB ? 'ok' : 'MISSED'} |`,
    );
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}

const entry = process.argv[1] ? path.resolve(process.argv[1]) : '';
if (entry === fileURLToPath(import.meta.url) && process.argv[2] === CHILD_FLAG) {
  await rssChild(process.argv[3] ?? '', process.argv[4]);
}
