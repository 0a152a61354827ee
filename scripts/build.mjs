// Builds every action's bundle: actions/<name>/src/index.ts -> dist/<name>/index.js.
// Each output folder is emptied first so no stale chunk survives a rebuild.
// Usage: node scripts/build.mjs [--out DIR] [name ...]
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const outRoot = outIndex >= 0 ? path.resolve(args[outIndex + 1]) : path.join(root, 'dist');
const names = args.filter((_, i) => outIndex < 0 || (i !== outIndex && i !== outIndex + 1));

function actionNames() {
  return readdirSync(path.join(root, 'actions'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(root, 'actions', d.name, 'src', 'index.ts')))
    .map((d) => d.name)
    .sort();
}

const ncc = path.join(root, 'node_modules', '@vercel', 'ncc', 'dist', 'ncc', 'cli.js');

function build(name) {
  const out = path.join(outRoot, name);
  rmSync(out, { recursive: true, force: true });
  // Type errors are caught by `npm run typecheck`; the bundle only needs transpiling.
  const args = [ncc, 'build', `actions/${name}/src/index.ts`, '-o', out, '--minify', '--transpile-only'];
  const child = spawn(process.execPath, [...args, '--license', 'licenses.txt', '--quiet'], {
    cwd: root,
    stdio: 'inherit',
  });
  return new Promise((resolve) =>
    child.on('close', (code) => {
      console.log(code === 0 ? `build: dist/${name}/index.js` : `build: ncc failed for ${name}`);
      resolve(code === 0);
    }),
  );
}

const queue = names.length > 0 ? names : actionNames();
const workers = Array.from({ length: Math.min(os.availableParallelism(), queue.length) }, async () => {
  let ok = true;
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) ok = (await build(name)) && ok;
  return ok;
});
if (!(await Promise.all(workers)).every(Boolean)) process.exit(1);
