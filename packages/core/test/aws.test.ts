import { jest } from '@jest/globals';
import { DescribeRepositoriesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient, ListClustersCommand } from '@aws-sdk/client-ecs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { apiCallTally, describeApiCalls, resetApiCallTally } from '../src/api-calls.js';
import { createAwsClient, getAwsCall, resolveRegion, safeEndpoint, throttleWaitMs } from '../src/aws.js';
import { ActionError } from '../src/errors.js';
import { formatError, isTransientError } from '../src/format.js';
import { awsError, setEnv, startFakeAws } from './fake-aws-server.js';
import type { FakeAwsServer } from './fake-aws-server.js';

const action = { name: 'ecr-push', version: '1.2.3' };

describe('resolveRegion', () => {
  test.each([
    [
      'the input first',
      'eu-west-1',
      { AWS_REGION: 'us-east-1', AWS_DEFAULT_REGION: 'us-west-2' },
      'eu-west-1',
    ],
    [
      'AWS_REGION when the input is empty',
      '',
      { AWS_REGION: 'us-east-1', AWS_DEFAULT_REGION: 'x' },
      'us-east-1',
    ],
    ['AWS_REGION when the input is undefined', undefined, { AWS_REGION: 'us-east-1' }, 'us-east-1'],
    ['AWS_DEFAULT_REGION last', '  ', { AWS_DEFAULT_REGION: 'ap-south-1' }, 'ap-south-1'],
    ['trimmed', ' eu-central-1 ', {}, 'eu-central-1'],
  ])('%s', (_name, input, env, expected) => {
    expect(resolveRegion(input, env)).toBe(expected);
  });

  test.each([
    [
      'AWS_REGION',
      { AWS_REGION: 'us-east-1; curl evil' },
      /^AWS_REGION is "us-east-1; curl evil", which is not an AWS region/,
    ],
    [
      'AWS_DEFAULT_REGION',
      { AWS_DEFAULT_REGION: 'US-EAST-1' },
      /^AWS_DEFAULT_REGION is "US-EAST-1", which is not an AWS region such as us-east-1 \(Region names are lowercase: us-east-1\)/,
    ],
    [
      'an availability zone',
      { AWS_REGION: 'eu-west-1a' },
      /That is an availability zone; its region is eu-west-1/,
    ],
    ['a long value, cut', { AWS_REGION: 'x'.repeat(500) }, /^AWS_REGION is "x{79}…", which/],
  ])('a malformed region from %s fails before any call, naming the variable', (_name, env, message) => {
    let error: unknown;
    try {
      resolveRegion(undefined, env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ActionError);
    expect((error as ActionError).message).toMatch(message);
  });

  test('no region at all is an ActionError with a hint', () => {
    expect(() => resolveRegion(undefined, { AWS_REGION: '' })).toThrow(ActionError);
    try {
      resolveRegion('', {});
    } catch (err) {
      expect((err as ActionError).message).toMatch(/No AWS region/);
      expect((err as ActionError).hint).toMatch(/configure-aws-credentials/);
    }
  });
});

describe('safeEndpoint', () => {
  test.each([
    ['http://127.0.0.1:4566', 'http://127.0.0.1:4566'],
    ['https://user:secret@example.com/path?X-Amz-Signature=abc#x', 'https://example.com/path'],
    [new URL('https://api.ecr.us-east-1.amazonaws.com/'), 'https://api.ecr.us-east-1.amazonaws.com'],
    ['not a url', undefined],
    [undefined, undefined],
  ])('%s', (input, expected) => {
    expect(safeEndpoint(input)).toBe(expected);
  });
});

describe('createAwsClient against a local server', () => {
  let server: FakeAwsServer;
  let restore: () => void;

  beforeAll(async () => {
    server = await startFakeAws();
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
    restore = setEnv({
      AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKEFAKE',
      AWS_SECRET_ACCESS_KEY: 'fake-secret',
      AWS_SESSION_TOKEN: undefined,
      AWS_PROFILE: undefined,
      AWS_REGION: 'eu-west-3',
      AWS_DEFAULT_REGION: undefined,
      AWS_MAX_ATTEMPTS: undefined,
      AWS_ENDPOINT_URL: undefined,
      AWS_ENDPOINT_URL_ECR: undefined,
      AWS_ENDPOINT_URL_ECS: undefined,
    });
  });
  afterEach(() => restore());

  test('the SDK honours AWS_ENDPOINT_URL, uses the default credential chain and names the action', async () => {
    process.env.AWS_ENDPOINT_URL = server.url;
    server.respond({ status: 200, body: { repositories: [{ repositoryName: 'app' }] } });
    const ecr = createAwsClient(ECRClient, { action });
    const out = await ecr.send(new DescribeRepositoriesCommand({}));
    expect(out.repositories?.[0]?.repositoryName).toBe('app');
    const [req] = server.requests;
    expect(req?.target).toBe('AmazonEC2ContainerRegistry_V20150921.DescribeRepositories');
    // credentials came from the environment, region from AWS_REGION
    expect(req?.authorization).toContain('Credential=AKIAFAKEFAKEFAKEFAKE/');
    expect(req?.authorization).toContain('/eu-west-3/ecr/aws4_request');
    expect(req?.userAgent).toContain('aws-containers-ecr-push/1.2.3');
    expect(await ecr.config.region()).toBe('eu-west-3');
    expect(await ecr.config.retryStrategy()).toMatchObject({ mode: 'adaptive' });
  });

  test('the SDK honours AWS_ENDPOINT_URL_<SERVICE> over AWS_ENDPOINT_URL', async () => {
    process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:9'; // nothing listens there
    process.env.AWS_ENDPOINT_URL_ECS = server.url;
    server.respond({ status: 200, body: { clusterArns: [] } });
    const ecs = createAwsClient(ECSClient, { action, region: 'us-east-2' });
    await ecs.send(new ListClustersCommand({}));
    expect(server.requests[0]?.target).toBe('AmazonEC2ContainerServiceV20141113.ListClusters');
    expect(server.requests[0]?.authorization).toContain('/us-east-2/ecs/aws4_request');
  });

  test.each([
    ['the option', { maxAttempts: 2 }, {}, 2],
    ['AWS_MAX_ATTEMPTS when no option', {}, { AWS_MAX_ATTEMPTS: '3' }, 3],
    ['5 by default', {}, {}, 5],
  ])(
    'attempts: %s',
    async (_name, opts, env, expected) => {
      Object.assign(process.env, env, { AWS_ENDPOINT_URL: server.url });
      server.respond({ status: 500, body: { __type: 'InternalFailure', message: 'boom' } });
      const ecr = createAwsClient(ECRClient, { action, ...opts });
      await expect(ecr.send(new DescribeRepositoriesCommand({}))).rejects.toMatchObject({
        $metadata: { attempts: expected },
      });
      expect(server.requests).toHaveLength(expected);
    },
    20_000,
  );

  test.each([0, -1, 1.5, Number.NaN])('maxAttempts %p is rejected', (maxAttempts) => {
    expect(() => createAwsClient(ECRClient, { action, maxAttempts })).toThrow(/maxAttempts/);
  });

  test('a missing region fails before any call', () => {
    delete process.env.AWS_REGION;
    expect(() => createAwsClient(ECRClient, { action, env: {} })).toThrow(/No AWS region/);
  });

  test.each([
    [
      ECRClient,
      new DescribeRepositoriesCommand({}),
      'ECR',
      'DescribeRepositories',
      'ecr:DescribeRepositories',
    ],
    [ECSClient, new ListClustersCommand({}), 'ECS', 'ListClusters', 'ecs:ListClusters'],
  ] as const)('errors carry the call: %p', async (Ctor, command, service, operation, iamAction) => {
    process.env.AWS_ENDPOINT_URL = server.url;
    server.respond(awsError('AccessDeniedException', 'nope'));
    const client = createAwsClient(Ctor as typeof ECRClient, { action, maxAttempts: 1 });
    const err = await client.send(command as DescribeRepositoriesCommand).catch((e: unknown) => e);
    expect(getAwsCall(err)).toEqual({ service, operation, iamAction, endpoint: server.url });
    // the annotation does not show up in the error's own keys
    expect(Object.keys(err as object)).not.toContain('awsCall');
  });

  test('STS (query protocol) errors carry the call too', async () => {
    process.env.AWS_ENDPOINT_URL = server.url;
    server.respond({ status: 403, body: 'not xml' });
    const sts = createAwsClient(STSClient, { action, maxAttempts: 1 });
    const err = await sts.send(new GetCallerIdentityCommand({})).catch((e: unknown) => e);
    expect(getAwsCall(err)).toMatchObject({ service: 'STS', iamAction: 'sts:GetCallerIdentity' });
  });

  test('a call that is never answered fails after the request timeout, as a transient error', async () => {
    process.env.AWS_ENDPOINT_URL = server.url;
    server.respond({ status: 200, body: {}, hang: true });
    const ecs = createAwsClient(ECSClient, { action, maxAttempts: 2, requestTimeoutMs: 300 });
    const started = performance.now();
    const err = await ecs.send(new ListClustersCommand({})).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(server.requests).toHaveLength(2);
    expect(isTransientError(err)).toBe(true);
    expect(formatError(err)).toMatch(/ECS ListClusters failed/);
  });

  test('a call carries the abort signal: aborting a hung call ends it at once', async () => {
    process.env.AWS_ENDPOINT_URL = server.url;
    server.respond({ status: 200, body: {}, hang: true });
    const ecs = createAwsClient(ECSClient, { action, maxAttempts: 1 });
    const started = performance.now();
    const err = await ecs
      .send(new ListClustersCommand({}), { abortSignal: AbortSignal.timeout(200) })
      .catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(isTransientError(err)).toBe(false);
  });

  test("every request is counted, retries included, and throttling is waited out past the SDK's attempts", async () => {
    process.env.AWS_ENDPOINT_URL = server.url;
    resetApiCallTally();
    // The SDK makes 2 attempts, both throttled; the client waits and sends again: 2 more, then an answer.
    server.respond(
      awsError('ThrottlingException', 'Rate exceeded'),
      awsError('ThrottlingException', 'Rate exceeded'),
      awsError('ThrottlingException', 'Rate exceeded'),
      { status: 200, body: { clusterArns: ['arn:aws:ecs:eu-west-3:1:cluster/a'] } },
    );
    const ecs = createAwsClient(ECSClient, { action, maxAttempts: 2 });
    const said: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      said.push(String(chunk));
      return true;
    });
    const out = await ecs.send(new ListClustersCommand({})).finally(() => write.mockRestore());
    expect(out.clusterArns).toHaveLength(1);
    expect(server.requests).toHaveLength(4);
    expect(apiCallTally()).toEqual({
      total: { calls: 4, throttled: 3 },
      byService: { ECS: { calls: 4, throttled: 3 } },
    });
    expect(describeApiCalls(apiCallTally())).toBe('4 (ECS 4); 3 throttled');
    // The wait is said, naming the call.
    expect(said.join('\n')).toMatch(
      /ECS ListClusters failed: ThrottlingException: Rate exceeded[^\n]*; throttling is waited out: sending it again in 1 s/,
    );
  }, 20_000);

  test("throttling is waited out only until the call's signal aborts; other errors are not waited out", async () => {
    process.env.AWS_ENDPOINT_URL = server.url;
    resetApiCallTally();
    server.respond(awsError('ThrottlingException', 'Rate exceeded'));
    const ecs = createAwsClient(ECSClient, { action, maxAttempts: 1 });
    const started = performance.now();
    const err = await ecs
      .send(new ListClustersCommand({}), { abortSignal: AbortSignal.timeout(1500) })
      .catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(4_000);
    // Ended by the signal: throttled still (the SDK's rate limiter may hold the next attempt) or aborted.
    expect(server.requests.length).toBeGreaterThanOrEqual(1);
    expect(apiCallTally().total.throttled).toBe(server.requests.length);
    expect((err as Error).name).toMatch(/^(ThrottlingException|AbortError)$/);

    server.requests.length = 0;
    server.respond(awsError('AccessDeniedException', 'nope'));
    await expect(ecs.send(new ListClustersCommand({}))).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
    expect(server.requests).toHaveLength(1);
  }, 20_000);

  test.each([
    [0, 0, 500],
    [0, 1, 1000],
    [2, 0, 2000],
    [2, 1, 4000],
    [10, 1, 20_000],
  ])('throttleWaitMs(%i) with random %p: %i ms', (waits, random, expected) => {
    expect(throttleWaitMs(waits, () => random)).toBe(expected);
  });

  test('getAwsCall is undefined for anything else', () => {
    expect(getAwsCall(new Error('x'))).toBeUndefined();
    expect(getAwsCall('x')).toBeUndefined();
    expect(getAwsCall(null)).toBeUndefined();
  });
});

describe('createAwsClient behind a proxy', () => {
  let proxy: FakeAwsServer;
  beforeAll(async () => {
    // The fake AWS server plays the proxy: an HTTP proxy receives the request in absolute form.
    proxy = await startFakeAws();
  });
  afterAll(() => proxy.close());

  test.each([
    ['HTTP_PROXY', { HTTP_PROXY: 'PROXY' }, true],
    ['http_proxy (lower case)', { http_proxy: 'PROXY' }, true],
    ['NO_PROXY naming the host', { HTTP_PROXY: 'PROXY', NO_PROXY: '.example.invalid' }, false],
  ])('%s', async (_name, vars, throughProxy) => {
    proxy.requests.length = 0;
    const env = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, v === 'PROXY' ? proxy.url : v]));
    const restore = setEnv({
      AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKEFAKE',
      AWS_SECRET_ACCESS_KEY: 'fake-secret',
      AWS_ENDPOINT_URL: 'http://ecs.example.invalid',
      AWS_REGION: 'us-east-1',
    });
    try {
      const ecs = createAwsClient(ECSClient, { action, maxAttempts: 1, env: { ...process.env, ...env } });
      const result = await ecs.send(new ListClustersCommand({})).then(
        () => 'answered',
        (e: unknown) => (e as Error).message,
      );
      if (throughProxy) {
        expect(result).toBe('answered');
        expect(proxy.requests).toHaveLength(1);
      } else {
        expect(result).toMatch(/ENOTFOUND|getaddrinfo/);
        expect(proxy.requests).toHaveLength(0);
      }
    } finally {
      restore();
    }
  });
});
