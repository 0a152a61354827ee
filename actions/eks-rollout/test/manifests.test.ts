import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ParseError } from '@aws-containers/core';
import {
  manifestFiles,
  parseManifestText,
  placeAndOrder,
  readManifests,
  type Manifest,
} from '../src/manifests.js';

const dir = mkdtempSync(path.join(tmpdir(), 'eks-rollout-manifests-'));
mkdirSync(path.join(dir, 'a', 'nested'), { recursive: true });
writeFileSync(path.join(dir, 'a', '2.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: two}\n');
writeFileSync(path.join(dir, 'a', '1.yml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: one}\n');
writeFileSync(path.join(dir, 'a', 'notes.txt'), 'not a manifest');
writeFileSync(
  path.join(dir, 'a', 'nested', '3.json'),
  '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"three"}}',
);

test('folders (not recursive), globs and files, sorted, each once', () => {
  const names = (patterns: string[]) => manifestFiles(patterns, dir).map((f) => path.relative(dir, f));
  expect(names(['a'])).toEqual(['a/1.yml', 'a/2.yaml']);
  expect(names(['a/**/*.json', 'a', 'a/1.yml'])).toEqual(['a/nested/3.json', 'a/1.yml', 'a/2.yaml']);
  expect(() => names(['b/*.yaml'])).toThrow(/matches no/);
  expect(() => names(['missing'])).toThrow(ParseError);
});

test('multi-document YAML, Lists flattened, empty documents skipped', () => {
  const text = `apiVersion: v1
kind: List
items:
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}
---
---
apiVersion: v1
kind: Service
metadata: {name: c}
`;
  expect(parseManifestText(text, 'f.yaml').map((m) => `${m.object.metadata.name}@${m.source}`)).toEqual([
    'a@f.yaml#1',
    'b@f.yaml#1',
    'c@f.yaml#3',
  ]);
});

test.each([
  ['not a mapping', '- a\n- b\n', /is not a mapping/],
  ['no kind', 'apiVersion: v1\nmetadata: {name: a}\n', /has no kind/],
  ['no name', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: a-}\n', /has no metadata.name/],
  ['bad YAML', 'a: [\n', /is not valid YAML or JSON/],
])('refused: %s', (_, text, expected) => {
  expect(() => parseManifestText(text, 'f.yaml')).toThrow(expected);
});

const m = (apiVersion: string, kind: string, name: string, namespace?: string): Manifest => ({
  object: { apiVersion, kind, metadata: { name, ...(namespace && { namespace }) } },
  source: `${kind}.yaml`,
});

test('dependency order: namespaces, config, services, workloads, the rest; stable within a rank', () => {
  const ordered = placeAndOrder(
    [
      m('networking.k8s.io/v1', 'Ingress', 'i'),
      m('apps/v1', 'Deployment', 'd'),
      m('v1', 'Service', 's'),
      m('v1', 'Secret', 'sec'),
      m('v1', 'ConfigMap', 'cm'),
      m('v1', 'Namespace', 'ns'),
      m('example.com/v1', 'Widget', 'w'),
      m('apps/v1', 'StatefulSet', 'st'),
    ],
    'shop',
  );
  expect(ordered.map((x) => `${x.object.kind}:${x.object.metadata.namespace ?? '-'}`)).toEqual([
    'Namespace:-',
    'Secret:shop',
    'ConfigMap:shop',
    'Service:shop',
    'Deployment:shop',
    'StatefulSet:shop',
    'Ingress:shop',
    'Widget:-',
  ]);
});

test('an object given twice is refused; cluster-scoped objects lose a namespace', () => {
  expect(() =>
    placeAndOrder([m('v1', 'ConfigMap', 'a'), m('v1', 'ConfigMap', 'a', 'default')], undefined),
  ).toThrow(/given twice/);
  expect(
    placeAndOrder([m('v1', 'Namespace', 'a', 'x')], undefined)[0]?.object.metadata.namespace,
  ).toBeUndefined();
});

test('readManifests names sources relative to the workspace', () => {
  expect(readManifests(['a'], dir).map((x) => x.source)).toEqual(['a/1.yml', 'a/2.yaml']);
});
