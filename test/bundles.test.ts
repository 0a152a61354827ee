// Each bundle loads and runs under Node 24 exactly as the runner starts it. With no inputs it must
// fail on a missing required input, which proves every module it needs was bundled: a bundle that
// builds but crashes at load (a missing-module stub) fails here and nowhere else.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { repoRoot, runAction } from './helpers/action-runner.js';
import { SUITE_ACTIONS } from './helpers/actions.js';

interface ActionYaml {
  inputs?: Record<string, { required?: boolean }>;
}

function requiredInputs(actionYml: string): string[] {
  const action = parse(readFileSync(path.join(repoRoot, actionYml), 'utf8')) as ActionYaml;
  return Object.entries(action.inputs ?? {})
    .filter(([, input]) => input.required === true)
    .map(([name]) => name);
}

describe.each(SUITE_ACTIONS.filter((a) => a.ref !== '').map((a) => [a.bundle, a.actionYml]))(
  'dist/%s/index.js',
  (name, actionYml) => {
    test('with no inputs, exits 1 with an ::error:: naming each missing required input', async () => {
      const run = await runAction(name);
      expect(run.stderr).not.toMatch(/Cannot find module|ERR_MODULE_NOT_FOUND|SyntaxError|ReferenceError/);
      expect(run.exitCode).toBe(1);
      expect(run.errors).toHaveLength(1);
      const required = requiredInputs(actionYml);
      expect(required.length).toBeGreaterThan(0);
      for (const input of required) {
        expect(run.errors[0]).toContain(`Input "${input}"`);
        expect(run.errors[0]).toContain('It is required');
      }
    });
  },
);

test('dist/aws-containers/index.js (the root action), with no inputs, exits 1 naming the required inputs and the two targets', async () => {
  const run = await runAction('aws-containers');
  expect(run.stderr).not.toMatch(/Cannot find module|ERR_MODULE_NOT_FOUND|SyntaxError|ReferenceError/);
  expect(run.exitCode).toBe(1);
  expect(run.errors).toHaveLength(1);
  const required = requiredInputs('action.yml');
  expect(required).toEqual(['repository']);
  for (const input of required) expect(run.errors[0]).toContain(`Input "${input}": expected`);
  expect(run.errors[0]?.match(/It is required/g)).toHaveLength(required.length);
  // cluster (ECS) or eks-cluster (EKS): exactly one, neither is required alone.
  expect(run.errors[0]).toContain('Input "cluster, eks-cluster": expected exactly one deploy target');
});
