// The EKS token's shape, as aws-iam-authenticator reads it (the signature itself is checked by
// local-aws's STS in test/eks-client.test.ts).
import {
  describeEksCluster,
  eksToken,
  eksTokenProvider,
  stsEndpoint,
  EKS_TOKEN_PREFIX,
} from '../src/index.js';

const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'secret-key',
  sessionToken: 'session-tok',
};
const now = new Date('2026-11-30T12:00:00Z');

function decode(token: string): URL {
  expect(token.startsWith(EKS_TOKEN_PREFIX)).toBe(true);
  const encoded = token.slice(EKS_TOKEN_PREFIX.length);
  expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/); // base64url, no padding
  return new URL(Buffer.from(encoded, 'base64url').toString('utf8'));
}

describe('eksToken', () => {
  test.each([
    ['us-east-1', {}, 'https://sts.us-east-1.amazonaws.com/'],
    ['cn-north-1', {}, 'https://sts.cn-north-1.amazonaws.com.cn/'],
    ['eu-west-1', { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' }, 'http://127.0.0.1:4566/'],
    [
      'eu-west-1',
      { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', AWS_ENDPOINT_URL_STS: 'https://sts.internal:8443' },
      'https://sts.internal:8443/',
    ],
  ])('%s with %j presigns against %s', async (region, env, base) => {
    const { token, expiresAt } = await eksToken({ cluster: 'prod', region, credentials, now, env });
    const url = decode(token);
    expect(`${url.protocol}//${url.host}${url.pathname}`).toBe(base);
    const q = url.searchParams;
    expect(q.get('Action')).toBe('GetCallerIdentity');
    expect(q.get('Version')).toBe('2011-06-15');
    expect(q.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(q.get('X-Amz-Expires')).toBe('60');
    expect(q.get('X-Amz-Date')).toBe('20261130T120000Z');
    expect(q.get('X-Amz-Credential')).toBe(`AKIDEXAMPLE/20261130/${region}/sts/aws4_request`);
    expect(q.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
    expect(q.get('X-Amz-Security-Token')).toBe('session-tok');
    expect(q.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect([...q.keys()].sort()).toEqual(
      [
        'Action',
        'Version',
        'X-Amz-Algorithm',
        'X-Amz-Credential',
        'X-Amz-Date',
        'X-Amz-Expires',
        'X-Amz-Security-Token',
        'X-Amz-Signature',
        'X-Amz-SignedHeaders',
      ].sort(),
    );
    expect(expiresAt.toISOString()).toBe('2026-11-30T12:14:00.000Z');
    // The secret never appears in the token.
    expect(Buffer.from(token.slice(EKS_TOKEN_PREFIX.length), 'base64url').toString()).not.toContain(
      'secret-key',
    );
  });

  test('the signature depends on the cluster (another cluster cannot reuse it)', async () => {
    const a = decode(
      (await eksToken({ cluster: 'a', region: 'us-east-1', credentials, now, env: {} })).token,
    );
    const b = decode(
      (await eksToken({ cluster: 'b', region: 'us-east-1', credentials, now, env: {} })).token,
    );
    expect(a.searchParams.get('X-Amz-Signature')).not.toBe(b.searchParams.get('X-Amz-Signature'));
  });

  test('a provider of credentials is called (the SDK chain: OIDC-assumed roles)', async () => {
    let calls = 0;
    const provider = () => {
      calls++;
      return Promise.resolve(credentials);
    };
    await eksToken({ cluster: 'a', region: 'us-east-1', credentials: provider, now, env: {} });
    expect(calls).toBe(1);
  });

  test('a bad AWS_ENDPOINT_URL names the variable, not its value', () => {
    expect(() => stsEndpoint('us-east-1', { AWS_ENDPOINT_URL: 'not a url' })).toThrow(
      /^AWS_ENDPOINT_URL is not a URL\.$/,
    );
  });
});

describe('eksTokenProvider', () => {
  test('reuses a token until 14 minutes after signing, then signs again', async () => {
    let clock = now;
    const provider = eksTokenProvider({
      cluster: 'prod',
      region: 'us-east-1',
      credentials,
      env: {},
      clock: () => clock,
    });
    const first = await provider();
    clock = new Date(now.getTime() + 13 * 60_000);
    expect(await provider()).toBe(first);
    clock = new Date(now.getTime() + 14 * 60_000 + 1);
    const second = await provider();
    expect(second).not.toBe(first);
    expect(decode(second).searchParams.get('X-Amz-Date')).toBe('20261130T121400Z');
  });
});

describe('describeEksCluster', () => {
  const signal = new AbortController().signal;
  function client(answer: () => unknown) {
    return {
      config: { region: () => Promise.resolve('eu-west-1') },
      send: () => Promise.resolve().then(answer),
    } as unknown as Parameters<typeof describeEksCluster>[0];
  }
  test('endpoint, CA as PEM, version and ARN', async () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const cluster = await describeEksCluster(
      client(() => ({
        cluster: {
          status: 'ACTIVE',
          endpoint: 'https://abc.gr7.eu-west-1.eks.amazonaws.com',
          certificateAuthority: { data: Buffer.from(pem).toString('base64') },
          version: '1.32',
          arn: 'arn:aws:eks:eu-west-1:1:cluster/prod',
        },
      })),
      'prod',
      signal,
    );
    expect(cluster).toEqual({
      name: 'prod',
      endpoint: 'https://abc.gr7.eu-west-1.eks.amazonaws.com',
      caPem: pem,
      version: '1.32',
      arn: 'arn:aws:eks:eu-west-1:1:cluster/prod',
      status: 'ACTIVE',
    });
  });
  test.each([
    [
      Object.assign(new Error('No cluster found for name: prod.'), { name: 'ResourceNotFoundException' }),
      /^EKS cluster "prod" was not found in eu-west-1\.$/,
    ],
    [
      Object.assign(
        new Error(
          'User: arn:aws:sts::1:assumed-role/ci/run is not authorized to perform: eks:DescribeCluster on resource: x',
        ),
        { name: 'AccessDeniedException' },
      ),
      /^arn:aws:sts::1:assumed-role\/ci\/run is not allowed eks:DescribeCluster on EKS cluster "prod" in eu-west-1\.$/,
    ],
  ])('%s is said with what to do', async (error, message) => {
    await expect(
      describeEksCluster(
        client(() => {
          throw error;
        }),
        'prod',
        signal,
      ),
    ).rejects.toThrow(message);
  });
  test('a cluster that is still CREATING', async () => {
    await expect(
      describeEksCluster(
        client(() => ({ cluster: { status: 'CREATING' } })),
        'prod',
        signal,
      ),
    ).rejects.toThrow('EKS cluster "prod" in eu-west-1 has no endpoint yet (its status is CREATING).');
  });
});
