import type { DescribeEcrImage, KubeObject } from '@aws-containers/core';
import { missingEcrImage } from '../src/ecr.js';
import { templateImages } from '../src/follow.js';

const HOST = '123456789012.dkr.ecr.us-east-1.amazonaws.com';

test('templateImages: init containers, then containers, as the pod template lists them', () => {
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      template: {
        spec: {
          initContainers: [{ name: 'migrate', image: `${HOST}/migrate:v2` }],
          containers: [
            { name: 'app', image: `${HOST}/app:v2` },
            { name: 'proxy', image: 'envoyproxy/envoy:v1.31' },
          ],
        },
      },
    },
  } as unknown as KubeObject;
  expect(templateImages(deployment)).toEqual([
    `${HOST}/migrate:v2`,
    `${HOST}/app:v2`,
    'envoyproxy/envoy:v1.31',
  ]);
});

describe('missingEcrImage', () => {
  const signal = new AbortController().signal;
  test.each([
    ['every ECR image there', {}, undefined, []],
    [
      'a tag ECR lacks',
      { [`${HOST}/app:v2`]: 'image-not-found' },
      `image ${HOST}/app:v2 cannot be pulled: ECR has no tag v2 in repository app of registry 123456789012 in us-east-1 (DescribeImages: ImageNotFoundException)`,
      [],
    ],
    [
      'an image ECR will not describe: logged, left to the pull',
      { [`${HOST}/app:v2`]: new Error('denied') },
      undefined,
      [`${HOST}/app:v2: not checked in ECR (Error: denied)`],
    ],
  ] as const)('%s', async (_, table, expected, logged) => {
    const describe: DescribeEcrImage = async (query) => {
      const answer = (table as Record<string, string | Error>)[query.image];
      if (answer instanceof Error) throw answer;
      return (answer as 'image-not-found' | undefined) ?? 'found';
    };
    const lines: string[] = [];
    const missing = missingEcrImage(describe, (line) => lines.push(line));
    expect(await missing([`${HOST}/app:v2`, 'nginx:1.27'], signal)).toBe(expected);
    expect(lines).toEqual(logged);
  });
});
