// The repository's own workflows parse with GitHub's workflow parser, and CI runs what .ci/run
// runs: lint, typecheck, check-dist and every test, through `npm test`.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { parse } from 'yaml';
import { repoRoot } from './helpers/action-runner.js';

const dir = path.join(repoRoot, '.github', 'workflows');
const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));

test('there are workflows: ci and release', () => {
  expect(files.sort()).toEqual(['ci.yml', 'release.yml']);
});

describe.each(files)('.github/workflows/%s', (file) => {
  const content = readFileSync(path.join(dir, file), 'utf8');

  test("parses with GitHub's workflow parser, no errors", async () => {
    const result = parseWorkflow({ name: file, content }, new NoOperationTraceWriter());
    expect(result.context.errors.getErrors().map((e) => e.message)).toEqual([]);
    const template = await convertWorkflowTemplate(result.context, result.value!);
    expect(template.errors ?? []).toEqual([]);
    expect(template.jobs.length).toBeGreaterThan(0);
  });
});

test('the parser check can fail: a broken workflow has errors', () => {
  const result = parseWorkflow(
    { name: 'broken.yml', content: 'on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    stepz: []\n' },
    new NoOperationTraceWriter(),
  );
  expect(result.context.errors.getErrors().length).toBeGreaterThan(0);
});

test('CI runs the test command of .ci/run, with CI set', () => {
  const ci = parse(readFileSync(path.join(dir, 'ci.yml'), 'utf8')) as {
    jobs: Record<string, { steps: Array<{ run?: string; env?: Record<string, string> }> }>;
  };
  const ciRun = readFileSync(path.join(repoRoot, '.ci', 'run'), 'utf8');
  expect(ciRun).toMatch(/^npm ci && npm test$/m);
  const steps = ci.jobs.test?.steps ?? [];
  expect(steps.map((s) => s.run)).toEqual(expect.arrayContaining(['npm ci', 'npm test']));
  expect(steps.find((s) => s.run === 'npm test')?.env?.CI).toBe('true');
});

test('the dogfood job runs the actions from the checkout, as users reference them', () => {
  const ci = parse(readFileSync(path.join(dir, 'ci.yml'), 'utf8')) as {
    jobs: Record<string, { steps: Array<{ uses?: string }> }>;
  };
  const uses = (ci.jobs.dogfood?.steps ?? []).map((s) => s.uses).filter(Boolean);
  expect(uses).toEqual(expect.arrayContaining(['./ecr-push', './ecs-deploy']));
});
