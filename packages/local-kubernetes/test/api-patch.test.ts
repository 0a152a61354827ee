// The three patch engines against the cases kubectl sends and the RFCs define: strategic merge with
// the built-in types' merge keys and directives, RFC 7386 merge patch, RFC 6902 JSON patch.
import { jsonPatch, mergePatch, PatchError, type Json } from '../src/api/patch/json.js';
import { strategicMergePatch } from '../src/api/patch/strategic.js';

const podSpec = (containers: Json[], extra: Record<string, Json> = {}): Json => ({
  spec: { template: { spec: { containers, ...extra } } },
});

describe('strategic merge patch', () => {
  const cases: Array<[string, Json, Json, Json]> = [
    [
      'containers merge by name: one changes, the other stays',
      podSpec([
        { name: 'app', image: 'a:1' },
        { name: 'side', image: 's:1' },
      ]),
      podSpec([{ name: 'side', image: 's:2' }]),
      podSpec([
        { name: 'app', image: 'a:1' },
        { name: 'side', image: 's:2' },
      ]),
    ],
    [
      'a new name is appended',
      podSpec([{ name: 'app', image: 'a:1' }]),
      podSpec([{ name: 'log', image: 'l:1' }]),
      podSpec([
        { name: 'app', image: 'a:1' },
        { name: 'log', image: 'l:1' },
      ]),
    ],
    [
      'env merges by name inside a container',
      podSpec([
        {
          name: 'app',
          env: [
            { name: 'A', value: '1' },
            { name: 'B', value: '2' },
          ],
        },
      ]),
      podSpec([{ name: 'app', env: [{ name: 'B', value: '3' }] }]),
      podSpec([
        {
          name: 'app',
          env: [
            { name: 'A', value: '1' },
            { name: 'B', value: '3' },
          ],
        },
      ]),
    ],
    [
      'container ports merge by containerPort',
      podSpec([{ name: 'app', ports: [{ containerPort: 80, name: 'http' }] }]),
      podSpec([{ name: 'app', ports: [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 443 }] }]),
      podSpec([
        {
          name: 'app',
          ports: [{ containerPort: 80, name: 'http', protocol: 'TCP' }, { containerPort: 443 }],
        },
      ]),
    ],
    [
      "a Service's ports merge by port",
      { spec: { ports: [{ port: 80, targetPort: 8080 }] } },
      { spec: { ports: [{ port: 80, name: 'web' }] } },
      { spec: { ports: [{ port: 80, targetPort: 8080, name: 'web' }] } },
    ],
    [
      'volumeMounts merge by mountPath',
      podSpec([{ name: 'app', volumeMounts: [{ mountPath: '/a', name: 'x' }] }]),
      podSpec([{ name: 'app', volumeMounts: [{ mountPath: '/a', readOnly: true }] }]),
      podSpec([{ name: 'app', volumeMounts: [{ mountPath: '/a', name: 'x', readOnly: true }] }]),
    ],
    [
      'tolerations are atomic: replaced',
      podSpec([], { tolerations: [{ key: 'a' }, { key: 'b' }] }),
      podSpec([], { tolerations: [{ key: 'c' }] }),
      podSpec([], { tolerations: [{ key: 'c' }] }),
    ],
    [
      'command is atomic: replaced',
      podSpec([{ name: 'app', command: ['a', 'b'] }]),
      podSpec([{ name: 'app', command: ['c'] }]),
      podSpec([{ name: 'app', command: ['c'] }]),
    ],
    [
      'conditions merge by type',
      {
        status: {
          conditions: [
            { type: 'Ready', status: 'False' },
            { type: 'Available', status: 'True' },
          ],
        },
      },
      { status: { conditions: [{ type: 'Ready', status: 'True' }] } },
      {
        status: {
          conditions: [
            { type: 'Ready', status: 'True' },
            { type: 'Available', status: 'True' },
          ],
        },
      },
    ],
    [
      'ownerReferences merge by uid',
      { metadata: { ownerReferences: [{ uid: 'u1', name: 'a' }] } },
      { metadata: { ownerReferences: [{ uid: 'u2', name: 'b' }] } },
      {
        metadata: {
          ownerReferences: [
            { uid: 'u1', name: 'a' },
            { uid: 'u2', name: 'b' },
          ],
        },
      },
    ],
    [
      'finalizers are a union',
      { metadata: { finalizers: ['a'] } },
      { metadata: { finalizers: ['b', 'a'] } },
      { metadata: { finalizers: ['a', 'b'] } },
    ],
    [
      'null removes a map key',
      { metadata: { labels: { a: '1', b: '2' } } },
      { metadata: { labels: { a: null } } },
      { metadata: { labels: { b: '2' } } },
    ],
    [
      '$patch: delete removes a list element by its key',
      podSpec([{ name: 'app' }, { name: 'side' }]),
      podSpec([{ name: 'side', $patch: 'delete' }]),
      podSpec([{ name: 'app' }]),
    ],
    [
      '$patch: replace in a list replaces the whole list',
      podSpec([{ name: 'app', image: 'a' }, { name: 'side' }]),
      podSpec([{ $patch: 'replace' }, { name: 'only', image: 'o' }]),
      podSpec([{ name: 'only', image: 'o' }]),
    ],
    [
      '$patch: replace in a map replaces the map',
      { metadata: { labels: { a: '1', b: '2' } } },
      { metadata: { labels: { $patch: 'replace', c: '3' } } },
      { metadata: { labels: { c: '3' } } },
    ],
    [
      '$patch: delete in a map removes it',
      { spec: { strategy: { type: 'Recreate' }, replicas: 1 } },
      { spec: { strategy: { $patch: 'delete' } } },
      { spec: { replicas: 1 } },
    ],
    [
      '$setElementOrder orders the merged list (kubectl set image)',
      podSpec([
        { name: 'a', image: 'a:1' },
        { name: 'b', image: 'b:1' },
      ]),
      {
        spec: {
          template: {
            spec: {
              '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }],
              containers: [{ name: 'a', image: 'a:2' }],
            },
          },
        },
      },
      podSpec([
        { name: 'b', image: 'b:1' },
        { name: 'a', image: 'a:2' },
      ]),
    ],
    [
      '$deleteFromPrimitiveList removes values',
      { metadata: { finalizers: ['a', 'b', 'c'] } },
      { metadata: { '$deleteFromPrimitiveList/finalizers': ['b'] } },
      { metadata: { finalizers: ['a', 'c'] } },
    ],
    [
      '$retainKeys keeps only the listed keys (strategy type change)',
      { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } },
      { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } },
      { spec: { strategy: { type: 'Recreate' } } },
    ],
  ];
  test.each(cases)('%s', (_title, original, patch, expected) => {
    expect(strategicMergePatch(original, patch)).toEqual(expected);
  });

  test('an element without its merge key is refused with apimachinery words', () => {
    expect(() => strategicMergePatch(podSpec([{ name: 'a' }]), podSpec([{ image: 'x' }]))).toThrow(
      'does not contain declared merge key: name',
    );
  });
});

describe('JSON merge patch (RFC 7386)', () => {
  test.each<[string, Json, Json, Json]>([
    ['null removes a member', { a: 1, b: { c: 2, d: 3 } }, { b: { c: null } }, { a: 1, b: { d: 3 } }],
    ['lists are replaced', { a: [1, 2] }, { a: [3] }, { a: [3] }],
    ['a scalar replaces an object', { a: { b: 1 } }, { a: 'x' }, { a: 'x' }],
    ['nested objects are created', {}, { a: { b: { c: 1 } } }, { a: { b: { c: 1 } } }],
  ])('%s', (_t, original, patch, expected) => {
    expect(mergePatch(original, patch)).toEqual(expected);
  });
});

describe('JSON patch (RFC 6902)', () => {
  const doc: Json = { spec: { replicas: 2, list: ['a', 'b'] }, metadata: { labels: { 'a/b': '1' } } };
  test.each<[string, Json, Json]>([
    [
      'replace',
      [{ op: 'replace', path: '/spec/replicas', value: 3 }],
      { ...(doc as object), spec: { replicas: 3, list: ['a', 'b'] } },
    ],
    [
      'add to a list end with -',
      [{ op: 'add', path: '/spec/list/-', value: 'c' }],
      { ...(doc as object), spec: { replicas: 2, list: ['a', 'b', 'c'] } },
    ],
    [
      'add inside a list',
      [{ op: 'add', path: '/spec/list/0', value: 'z' }],
      { ...(doc as object), spec: { replicas: 2, list: ['z', 'a', 'b'] } },
    ],
    [
      'remove with an escaped key',
      [{ op: 'remove', path: '/metadata/labels/a~1b' }],
      { ...(doc as object), metadata: { labels: {} } },
    ],
    [
      'move',
      [{ op: 'move', from: '/spec/replicas', path: '/spec/count' }],
      { ...(doc as object), spec: { list: ['a', 'b'], count: 2 } },
    ],
    [
      'copy',
      [{ op: 'copy', from: '/spec/replicas', path: '/spec/count' }],
      { ...(doc as object), spec: { replicas: 2, list: ['a', 'b'], count: 2 } },
    ],
    [
      'a passing test then a replace',
      [
        { op: 'test', path: '/spec/replicas', value: 2 },
        { op: 'replace', path: '/spec/replicas', value: 5 },
      ],
      { ...(doc as object), spec: { replicas: 5, list: ['a', 'b'] } },
    ],
  ])('%s', (_t, ops, expected) => {
    expect(jsonPatch(doc, ops)).toEqual(expected);
  });

  test('a failing test fails the whole patch, in json-patch words', () => {
    expect(() =>
      jsonPatch(doc, [
        { op: 'replace', path: '/spec/replicas', value: 9 },
        { op: 'test', path: '/spec/replicas', value: 2 },
      ]),
    ).toThrow(new PatchError('testing value /spec/replicas failed: test failed'));
    expect((doc as { spec: { replicas: number } }).spec.replicas).toBe(2);
  });

  test('replacing or removing a missing path fails', () => {
    expect(() => jsonPatch(doc, [{ op: 'replace', path: '/spec/nope', value: 1 }])).toThrow(PatchError);
    expect(() => jsonPatch(doc, [{ op: 'remove', path: '/spec/list/5' }])).toThrow(PatchError);
  });
});
