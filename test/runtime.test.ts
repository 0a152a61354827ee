// The runtime the actions declare is the runtime the tests run on.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from './helpers/action-runner.js';
import { SUITE_ACTIONS } from './helpers/actions.js';

const actionFiles = SUITE_ACTIONS.map((a) => a.actionYml);

test('the tests run on Node 24', () => {
  expect(process.versions.node.split('.')[0]).toBe('24');
});

describe.each(actionFiles)('%s', (file) => {
  const action = parse(readFileSync(path.join(repoRoot, file), 'utf8')) as {
    runs: { using: string; main: string; post?: string };
    inputs?: Record<string, { description?: string; default?: string; required?: boolean }>;
  };

  test('runs on node24', () => {
    expect(action.runs.using).toBe('node24');
  });

  test('points main (and post) at a committed bundle', () => {
    for (const entry of [action.runs.main, action.runs.post].filter((e): e is string => e !== undefined)) {
      const target = path.resolve(repoRoot, path.dirname(file), entry);
      expect(path.relative(repoRoot, target)).toMatch(/^dist\/[^/]+\/index\.js$/);
      expect(existsSync(target)).toBe(true);
    }
  });

  test('describes every input and leaves no required input with a default', () => {
    for (const [name, input] of Object.entries(action.inputs ?? {})) {
      expect({ name, described: (input.description ?? '').length > 0 }).toEqual({ name, described: true });
      if (input.required) expect({ name, default: input.default }).toEqual({ name, default: undefined });
    }
  });
});

test.each([
  ['ecr-push', async () => (await import('../actions/ecr-push/src/version.js')).ACTION],
  ['ecs-deploy-fargate', async () => (await import('../actions/ecs-deploy-fargate/src/version.js')).ACTION],
])('%s names itself in user agents with its package.json version', async (name, load) => {
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'actions', name, 'package.json'), 'utf8')) as {
    version: string;
  };
  expect(await load()).toEqual({ name, version: pkg.version });
});
