import type { KubeObject } from '@aws-containers/core';
import { comparable, hunks, lineDiff, objectDiff } from '../src/diff.js';

const deployment = (image: string): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default', uid: 'u', resourceVersion: '7', managedFields: [{}] },
  spec: { replicas: 2, template: { spec: { containers: [{ name: 'app', image }] } } },
  status: { replicas: 2 },
});

test('lineDiff and hunks', () => {
  expect(lineDiff(['a', 'b', 'c'], ['a', 'b', 'c'])).toEqual([]);
  expect(lineDiff(['a', 'b', 'c'], ['a', 'x', 'c'])).toEqual(['  a', '- b', '+ x', '  c']);
  const long = Array.from({ length: 20 }, (_, i) => `l${i}`);
  const changed = long.map((l) => (l === 'l10' ? 'L10' : l));
  expect(hunks(lineDiff(long, changed), 1)).toEqual(['  l9', '- l10', '+ L10', '  l11']);
});

test('objectDiff: only what changes, without status and server metadata', () => {
  expect(objectDiff(deployment('a:1'), deployment('a:1'))).toBeUndefined();
  const diff = objectDiff(deployment('a:1'), deployment('a:2'))!;
  expect(diff.filter((l) => !l.startsWith('  '))).toEqual([
    '-         - image: a:1',
    '+         - image: a:2',
  ]);
  expect(diff.join('\n')).not.toMatch(/resourceVersion|managedFields|status/);
  expect(objectDiff(undefined, deployment('a:1'))?.every((l) => l.startsWith('+ '))).toBe(true);
});

test('Secrets: keys only, a changed value marked, no value ever shown', () => {
  const secret = (data: Record<string, string>): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 's' },
    data,
  });
  const live = secret({ user: 'YWRtaW4=', password: 'c2VjcmV0' });
  const after = secret({ user: 'YWRtaW4=', password: 'bmV3', token: 'dG9r' });
  expect(comparable(after, live).data).toEqual({
    password: '(value hidden, changed)',
    token: '(value hidden)',
    user: '(value hidden)',
  });
  const diff = objectDiff(live, after)!.join('\n');
  expect(diff).toContain('+   password: (value hidden, changed)');
  expect(diff).toContain('+   token: (value hidden)');
  expect(diff).not.toMatch(/c2VjcmV0|bmV3|dG9r|YWRtaW4=/);
});
