// The suite is referenced as users write it: `uses: <owner>/aws-containers/<ref>@v1`. Each such
// path holds exactly one action.yml whose bundle exists, every `uses:` of the suite in the README
// resolves to one of them, and each description fits the Marketplace's 125 characters.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from './helpers/action-runner.js';
import { SUITE_ACTIONS, actionYmlPath, suiteActionOf } from './helpers/actions.js';

const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');

describe.each(SUITE_ACTIONS.map((a) => [a.ref === '' ? '(root)' : a.ref, a] as const))(
  '%s',
  (_ref, action) => {
    const file = actionYmlPath(action);
    const yml = parse(readFileSync(file, 'utf8')) as {
      name: string;
      description: string;
      runs: { main: string };
    };

    test('its action.yml exists where `uses:` looks for it, and runs its bundle', () => {
      expect(path.resolve(path.dirname(file), yml.runs.main)).toBe(
        path.join(repoRoot, 'dist', action.bundle, 'index.js'),
      );
      expect(existsSync(path.join(repoRoot, 'dist', action.bundle, 'index.js'))).toBe(true);
    });

    test('its description fits the Marketplace (125 characters)', () => {
      expect(yml.description.length).toBeLessThanOrEqual(125);
    });
  },
);

test('one metadata file per action: no action.yml left beside the sources', () => {
  const strays = readdirSync(path.join(repoRoot, 'actions')).filter((name) =>
    existsSync(path.join(repoRoot, 'actions', name, 'action.yml')),
  );
  expect(strays).toEqual([]);
});

test('every `uses:` of the suite in the README names an action that exists', () => {
  const uses = [...readme.matchAll(/uses:\s*(\S*aws-containers\S*)/g)].map((m) => m[1] as string);
  expect(uses.length).toBeGreaterThan(0);
  const unknown = uses.filter((u) => {
    const action = suiteActionOf(u);
    return action === undefined || !existsSync(actionYmlPath(action));
  });
  expect(unknown).toEqual([]);
});

test.each([
  ['acme/aws-containers/ecs-deploy@v1', 'ecs-deploy'],
  ['acme/aws-containers/ecr-push@v1.2.3', 'ecr-push'],
  ['acme/aws-containers@v1', ''],
  ['acme/aws-containers/actions/ecs-deploy-fargate@v1', undefined],
  ['aws-actions/configure-aws-credentials@v5', undefined],
])('suiteActionOf(%j) is %j', (uses, ref) => {
  expect(suiteActionOf(uses)?.ref).toBe(ref);
});
