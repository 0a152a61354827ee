// dist/ must equal a fresh build, byte for byte and file for file (no stale or missing chunks).
// Builds into a temporary folder and compares it with the working tree's dist/.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

function listFiles(dir, prefix = '') {
  let files = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return files;
  }
  for (const entry of entries) {
    const rel = path.join(prefix, entry.name);
    if (entry.isDirectory()) files = files.concat(listFiles(path.join(dir, entry.name), rel));
    else files.push(rel);
  }
  return files.sort();
}

const fresh = mkdtempSync(path.join(os.tmpdir(), 'check-dist-'));
try {
  const build = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), '--out', fresh], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (build.status !== 0) {
    console.error('check-dist: the build failed');
    process.exit(1);
  }
  const committed = path.join(root, 'dist');
  const want = listFiles(fresh);
  const have = listFiles(committed);
  const problems = [];
  for (const f of want) {
    if (!have.includes(f)) problems.push(`missing from dist/: ${f}`);
    else if (!readFileSync(path.join(fresh, f)).equals(readFileSync(path.join(committed, f))))
      problems.push(
        `differs from a fresh build: dist/${f} (${statSync(path.join(committed, f)).size} bytes committed, ${statSync(path.join(fresh, f)).size} built)`,
      );
  }
  for (const f of have)
    if (!want.includes(f)) problems.push(`stray file in dist/ (no source builds it): dist/${f}`);
  if (problems.length > 0) {
    console.error(problems.join('\n'));
    console.error('check-dist: dist/ is stale. Run `npm run build` and commit dist/.');
    process.exit(1);
  }
  if (process.env.CI) {
    const status = spawnSync('git', ['status', '--porcelain', '--', 'dist'], { cwd: root, encoding: 'utf8' });
    if (status.stdout.trim() !== '') {
      console.error(`check-dist: dist/ differs from what is committed:\n${status.stdout}`);
      process.exit(1);
    }
  }
  console.log(`check-dist: dist/ matches a fresh build (${want.length} files)`);
} finally {
  rmSync(fresh, { recursive: true, force: true });
}
