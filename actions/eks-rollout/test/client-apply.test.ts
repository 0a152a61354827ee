import { LAST_APPLIED, sortedJson, threeWayMergePatch, withLastApplied } from '../src/client-apply.js';

test('the last-applied annotation is the object without it, keys sorted, with a newline, as kubectl writes it', () => {
  const out = withLastApplied({
    kind: 'ConfigMap',
    apiVersion: 'v1',
    metadata: { name: 'a', annotations: { z: '1', [LAST_APPLIED]: 'old' } },
    data: { b: '2', a: '1' },
  });
  expect(out.metadata.annotations?.[LAST_APPLIED]).toBe(
    '{"apiVersion":"v1","data":{"a":"1","b":"2"},"kind":"ConfigMap","metadata":{"annotations":{"z":"1"},"name":"a"}}\n',
  );
  expect(
    withLastApplied({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'b' } }).metadata.annotations?.[
      LAST_APPLIED
    ],
  ).toBe('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"annotations":{},"name":"b"}}\n');
  expect(sortedJson({ b: [{ d: 1, c: 2 }], a: 0 })).toBe('{"a":0,"b":[{"c":2,"d":1}]}');
});

test.each<
  [string, Record<string, unknown> | undefined, Record<string, unknown>, Record<string, unknown>, unknown]
>([
  [
    'nothing changes',
    { data: { a: '1' } },
    { data: { a: '1' } },
    { data: { a: '1' }, status: {} },
    undefined,
  ],
  ['a value changes', { data: { a: '1' } }, { data: { a: '2' } }, { data: { a: '1' } }, { data: { a: '2' } }],
  [
    'a key the last apply set is removed',
    { data: { a: '1', b: '2' } },
    { data: { a: '1' } },
    { data: { a: '1', b: '2' } },
    { data: { b: null } },
  ],
  [
    'a key another writer set stays',
    { data: { a: '1' } },
    { data: { a: '1' } },
    { data: { a: '1', other: 'x' } },
    undefined,
  ],
  [
    'lists are replaced whole',
    { spec: { ports: [{ port: 80 }] } },
    { spec: { ports: [{ port: 81 }] } },
    { spec: { ports: [{ port: 80, protocol: 'TCP' }] } },
    { spec: { ports: [{ port: 81 }] } },
  ],
  [
    'no last-applied: only what the manifest sets',
    undefined,
    { data: { a: '1' } },
    { data: { a: '0', b: '2' } },
    { data: { a: '1' } },
  ],
])('threeWayMergePatch: %s', (_, original, modified, current, expected) => {
  expect(threeWayMergePatch(original, modified, current)).toEqual(expected);
});
