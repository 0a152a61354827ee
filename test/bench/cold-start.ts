// Cold start of each bundle (process start to its ::error:: for a missing input and exit),
// against bare `node -e 0` on the same Node binary, runs alternated so drift hits both alike.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../helpers/action-runner.js';
import { formatMs, median } from './stats.js';

const RUNS = 21;

function timeOnce(args: string[]): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', GITHUB_ACTIONS: 'true' },
    encoding: 'utf8',
  });
  const elapsed = performance.now() - started;
  if (args[0] !== '-e' && !/::error::/.test(result.stdout)) {
    throw new Error(`${args.join(' ')} printed no ::error::\n${result.stdout}\n${result.stderr}`);
  }
  return elapsed;
}

export async function coldStart(): Promise<void> {
  const bundles = readdirSync(path.join(repoRoot, 'dist')).filter((name) =>
    existsSync(path.join(repoRoot, 'dist', name, 'index.js')),
  );
  console.log(`node ${process.version}, ${RUNS} runs each, alternated with \`node -e 0\``);
  console.log('| bundle | size | median cold start | node -e 0 (same run) | ratio |');
  console.log('|---|---|---|---|---|');
  for (const name of bundles) {
    const entry = path.join(repoRoot, 'dist', name, 'index.js');
    const bundleTimes: number[] = [];
    const bareTimes: number[] = [];
    timeOnce([entry]); // warm the page cache once for both
    timeOnce(['-e', '0']);
    for (let i = 0; i < RUNS; i++) {
      bundleTimes.push(timeOnce([entry]));
      bareTimes.push(timeOnce(['-e', '0']));
    }
    const size = readdirSync(path.join(repoRoot, 'dist', name))
      .map((f) => statSync(path.join(repoRoot, 'dist', name, f)).size)
      .reduce((a, b) => a + b, 0);
    const b = median(bundleTimes);
    const n = median(bareTimes);
    console.log(
      `| ${name} | ${(size / 1024 / 1024).toFixed(2)} MiB | ${formatMs(b)} | ${formatMs(n)} | ${(b / n).toFixed(2)}x |`,
    );
  }
}
