import { checkEcrImages, ecrImageQuery, type EcrImageAnswer, type EcrImageQuery } from '../src/ecr-images.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const HOST = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';

describe('ecrImageQuery', () => {
  test.each([
    [
      `${HOST}/app:v1`,
      { registryId: '123456789012', region: 'eu-west-1', repositoryName: 'app', imageTag: 'v1' },
    ],
    [
      `${HOST}/team/app`,
      { registryId: '123456789012', region: 'eu-west-1', repositoryName: 'team/app', imageTag: 'latest' },
    ],
    [
      `${HOST}/app:v1@${DIGEST}`,
      { registryId: '123456789012', region: 'eu-west-1', repositoryName: 'app', imageDigest: DIGEST },
    ],
    [
      `210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn/app:v2`,
      { registryId: '210987654321', region: 'cn-north-1', repositoryName: 'app', imageTag: 'v2' },
    ],
  ])('%s is asked of ECR', (image, expected) => {
    expect(ecrImageQuery(image)).toEqual({ image, ...expected });
  });

  test.each([
    'nginx:1.27',
    'public.ecr.aws/nginx/nginx:1',
    'localhost:5000/app:v1',
    'ghcr.io/o/app:v1',
    'not an image',
  ])('%s is not a private ECR image', (image) => {
    expect(ecrImageQuery(image)).toBeUndefined();
  });
});

describe('checkEcrImages', () => {
  const signal = new AbortController().signal;
  const answers = (table: Record<string, EcrImageAnswer | Error>) => {
    const asked: EcrImageQuery[] = [];
    const describe = async (query: EcrImageQuery) => {
      asked.push(query);
      const answer = table[query.image];
      if (answer instanceof Error) throw answer;
      return answer ?? 'found';
    };
    return { asked, describe };
  };

  test('each private ECR image once: found, missing tag, missing repository, unanswered', async () => {
    const denied = Object.assign(new Error('not authorized to perform: ecr:DescribeImages'), {
      name: 'AccessDeniedException',
    });
    const { asked, describe } = answers({
      [`${HOST}/app:gone`]: 'image-not-found',
      [`${HOST}/nope:v1`]: 'repository-not-found',
      [`${HOST}/secret:v1`]: denied,
    });
    const findings = await checkEcrImages(
      [
        `${HOST}/app:v1`,
        `${HOST}/app:v1`,
        `${HOST}/app:gone`,
        `${HOST}/nope:v1`,
        `${HOST}/secret:v1`,
        'nginx:1',
      ],
      describe,
      signal,
    );
    expect(asked.map((q) => q.image)).toEqual([
      `${HOST}/app:v1`,
      `${HOST}/app:gone`,
      `${HOST}/nope:v1`,
      `${HOST}/secret:v1`,
    ]);
    expect(findings.map((f) => [f.image, f.state])).toEqual([
      [`${HOST}/app:v1`, 'found'],
      [`${HOST}/app:gone`, 'missing'],
      [`${HOST}/nope:v1`, 'missing'],
      [`${HOST}/secret:v1`, 'unchecked'],
    ]);
    expect(findings[1]?.message).toBe(
      'ECR has no tag gone in repository app of registry 123456789012 in eu-west-1 (DescribeImages: ImageNotFoundException)',
    );
    expect(findings[2]?.message).toBe(
      'ECR has no repository nope of registry 123456789012 in eu-west-1 (DescribeImages: RepositoryNotFoundException)',
    );
    expect(findings[3]?.message).toContain('AccessDeniedException');
  });

  test('a cancelled step is not reported as an unchecked image', async () => {
    const controller = new AbortController();
    controller.abort(new Error('cancelled'));
    const describe = async () => {
      throw new Error('aborted');
    };
    await expect(checkEcrImages([`${HOST}/app:v1`], describe, controller.signal)).rejects.toThrow('aborted');
  });
});
