import type { KubeObject } from '@aws-containers/core';
import { classifyImages, setImagePatch, substituteImages, type ImageChange } from '../src/images.js';
import type { Manifest } from '../src/manifests.js';

const DIGEST = `sha256:${'b'.repeat(64)}`;

function deployment(
  containers: Array<{ name: string; image: string }>,
  initContainers: typeof containers = [],
): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: { template: { spec: { containers, ...(initContainers.length > 0 && { initContainers }) } } },
  };
}
const manifest = (object: KubeObject): Manifest => ({ object, source: 'k8s/app.yaml' });

describe('classifyImages', () => {
  const manifests = [
    manifest(
      deployment(
        [
          { name: 'web', image: 'localhost:5000/team/web:1' },
          { name: 'proxy', image: 'nginx:1.25' },
        ],
        [{ name: 'migrate', image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/a/b/c@' + DIGEST }],
      ),
    ),
  ];
  test.each<[string, string, ImageChange['target'] | RegExp]>([
    ['a registry with a port and a nested path', 'localhost:5000/team/web', 'repository'],
    ['a Docker Hub name as written in full', 'docker.io/library/nginx', 'repository'],
    ['a Docker Hub short name', 'nginx', 'repository'],
    [
      'an ECR repository with nested paths (image had a digest)',
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com/a/b/c',
      'repository',
    ],
    ['a container name', 'web', 'container'],
    ['an init container name', 'migrate', 'container'],
    ['an unknown repository', 'localhost:5000/team/api', /no image of the manifests/],
    ['an unknown container', 'worker', /neither a container/],
  ])('%s', (_, name, expected) => {
    const { changes, problems } = classifyImages(new Map([[name, 'x:1']]), manifests);
    if (expected instanceof RegExp) expect(problems[0]?.problem).toMatch(expected);
    else expect(changes).toEqual([{ name, image: 'x:1', target: expected }]);
  });

  test('without manifests, names are containers and repositories are refused', () => {
    expect(classifyImages(new Map([['web', 'a:1']]), undefined).changes[0]?.target).toBe('container');
    expect(classifyImages(new Map([['team/web', 'a:1']]), undefined).problems).toHaveLength(1);
  });
});

describe('substituteImages', () => {
  const object = deployment(
    [
      { name: 'web', image: 'localhost:5000/team/web:1' },
      { name: 'proxy', image: 'nginx@' + DIGEST },
    ],
    [{ name: 'migrate', image: 'localhost:5000/team/web:1' }],
  );
  test('by repository: every container of that image (tag or digest), init containers too', () => {
    const out = substituteImages(object, [
      { name: 'localhost:5000/team/web', image: 'localhost:5000/team/web:2', target: 'repository' },
      { name: 'docker.io/nginx', image: 'nginx:1.27', target: 'repository' },
    ]);
    const spec = (
      out.spec as {
        template: {
          spec: { containers: Array<{ image: string }>; initContainers: Array<{ image: string }> };
        };
      }
    ).template.spec;
    expect(spec.containers.map((c) => c.image)).toEqual(['localhost:5000/team/web:2', 'nginx:1.27']);
    expect(spec.initContainers[0]?.image).toBe('localhost:5000/team/web:2');
    // the input is not changed
    expect(
      (object.spec as { template: { spec: { containers: Array<{ image: string }> } } }).template.spec
        .containers[0]?.image,
    ).toBe('localhost:5000/team/web:1');
  });
  test('by container name', () => {
    const out = substituteImages(object, [{ name: 'proxy', image: 'envoy:1', target: 'container' }]);
    expect(JSON.stringify(out)).toContain('"name":"proxy","image":"envoy:1"');
  });
  test('nothing to change returns the same object', () => {
    expect(substituteImages(object, [{ name: 'other', image: 'x', target: 'container' }])).toBe(object);
  });
});

describe('setImagePatch', () => {
  const live = deployment([{ name: 'web', image: 'web:1' }], [{ name: 'init', image: 'init:1' }]);
  test('containers and init containers by name, with the change-cause annotation', () => {
    const { patch, missing, changed } = setImagePatch(
      live,
      [
        { name: 'web', image: 'web:2', target: 'container' },
        { name: 'init', image: 'init:1', target: 'container' },
        { name: 'nope', image: 'x:1', target: 'container' },
      ],
      { 'kubernetes.io/change-cause': 'deploy 2' },
    );
    expect(patch).toEqual({
      metadata: { annotations: { 'kubernetes.io/change-cause': 'deploy 2' } },
      spec: {
        template: {
          spec: {
            containers: [{ name: 'web', image: 'web:2' }],
            initContainers: [{ name: 'init', image: 'init:1' }],
          },
        },
      },
    });
    expect(missing).toEqual(['nope']);
    expect(changed).toEqual(['web']);
  });
});
