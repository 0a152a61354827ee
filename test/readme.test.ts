// The README documents every input and output of every action, in that action's section.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from './helpers/action-runner.js';

const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');

function section(name: string): string {
  const start = readme.indexOf(`\n### ${name}\n`);
  if (start < 0) return '';
  const next = readme.indexOf('\n### ', start + 1);
  return readme.slice(start, next < 0 ? undefined : next);
}

/** First-column names of the section's `| input |` and `| output |` tables. */
function tableNames(text: string): string[] {
  const names: string[] = [];
  let inTable = false;
  for (const line of text.split('\n')) {
    if (/^\| (input|output) \|/.test(line)) inTable = true;
    else if (!line.startsWith('|')) inTable = false;
    else if (inTable) {
      const name = /^\| `([^`]+)` \|/.exec(line)?.[1];
      if (name) names.push(name);
    }
  }
  return names;
}

describe.each([
  ['aws-containers', 'action.yml'],
  ['ecr-push', 'ecr-push/action.yml'],
  ['ecs-deploy', 'ecs-deploy/action.yml'],
  ['eks-rollout', 'eks-rollout/action.yml'],
])('README, %s', (name, actionYml) => {
  const action = parse(readFileSync(path.join(repoRoot, actionYml), 'utf8')) as {
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
  };
  const text = section(name);

  test('has a section', () => {
    expect(text).not.toBe('');
  });

  test.each(Object.keys(action.inputs ?? {}))('documents the input %s', (input) => {
    expect(text).toContain(`| \`${input}\` |`);
  });

  test.each(Object.keys(action.outputs ?? {}).length ? Object.keys(action.outputs ?? {}) : ['(none)'])(
    'documents the output %s',
    (output) => {
      if (output === '(none)') expect(text).toMatch(/Outputs: none/);
      else expect(text).toContain(`| \`${output}\` |`);
    },
  );

  test('lists no input or output the action does not have', () => {
    const known = [...Object.keys(action.inputs ?? {}), ...Object.keys(action.outputs ?? {})];
    expect(tableNames(text).filter((d) => !known.includes(d))).toEqual([]);
  });
});
