// The state store: namespaces in memory, or persisted atomically under a data dir and reloaded.
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStateStore, startLocalAws } from '../src/index.js';
import { rawRequest } from './helpers/signing.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'local-aws-state-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('in memory: the namespace is one live object; save() is a no-op', () => {
  const store = new LocalStateStore();
  const a = store.namespace('ecr', () => ({ repos: [] as string[] }));
  a.repos.push('demo/app');
  expect(store.namespace('ecr', () => ({ repos: [] as string[] })).repos).toEqual(['demo/app']);
  store.save();
  expect(store.dataDir).toBeUndefined();
});

test('a namespace written with dataDir survives stop and start', async () => {
  const first = await startLocalAws({ dataDir: dir });
  expect(first.state.dataDir).toBe(dir);
  const ns = first.state.namespace('example', () => ({ items: {} as Record<string, number> }));
  ns.items.a = 1;
  first.state.save();
  ns.items.b = 2; // saved again at stop
  await first.stop();

  const second = await startLocalAws({ dataDir: dir });
  try {
    expect(second.state.namespace('example', () => ({ items: {} }))).toEqual({ items: { a: 1, b: 2 } });
    const dump = await rawRequest(`${second.endpoint}/_local-aws/state`);
    expect(dump.json()).toMatchObject({ dataDir: dir, namespaces: { example: { items: { a: 1, b: 2 } } } });
  } finally {
    await second.stop();
  }
  // Atomic writes leave no temp files behind; the CA lives beside the state, its key apart.
  const files = readdirSync(dir);
  expect(files).toEqual(expect.arrayContaining(['ca', 'ca-private', 'state.json']));
  expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
});

test('state.json is readable by its owner only: it holds the key that signs registry tokens', async () => {
  // Even where an older local-aws left it world-readable.
  writeFileSync(join(dir, 'state.json'), '{"format": 1, "namespaces": {}}', { mode: 0o644 });
  const local = await startLocalAws({ dataDir: dir });
  try {
    local.state.save();
    expect(statSync(join(dir, 'state.json')).mode & 0o777).toBe(0o600);
  } finally {
    await local.stop();
  }
  expect(statSync(join(dir, 'state.json')).mode & 0o777).toBe(0o600);
});

test('a corrupt state file is a clear error at start, not silent data loss', () => {
  writeFileSync(join(dir, 'state.json'), '{"format": 1, "namespaces": ');
  expect(() => new LocalStateStore(dir)).toThrow(/cannot read .*state\.json/);
  writeFileSync(join(dir, 'state.json'), '{"something": "else"}');
  expect(() => new LocalStateStore(dir)).toThrow(/not a local-aws state file/);
});
