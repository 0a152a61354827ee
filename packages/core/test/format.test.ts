import { DescribeRepositoriesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { createAwsClient, WAIT_OUT_THROTTLING_MIDDLEWARE } from '../src/aws.js';
import { ActionError, InputError, InputErrors } from '../src/errors.js';
import { awsMessage, formatError, isTransientError } from '../src/format.js';
import { NetworkError } from '../src/registry/http.js';
import { awsError, setEnv, startFakeAws } from './fake-aws-server.js';
import type { FakeAwsServer, FakeResponse } from './fake-aws-server.js';

const action = { name: 'ecr-push', version: '0.0.0-test' };
const SECRET = 'fake-secret-key-never-printed';

describe('formatError without AWS', () => {
  const inputs = new InputErrors([
    new InputError('region', 'an AWS region such as us-east-1', 'mars-1'),
    new InputError('wait-timeout', 'a duration such as 10m', 'soon', 'Use s, m or h.'),
  ]);
  const cancelled = new Error('Received SIGINT: the run was cancelled');
  cancelled.name = 'AbortError';
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5000'), {
    code: 'ECONNREFUSED',
    address: '127.0.0.1',
    port: 5000,
  });
  const credentialsMissing = new Error('Could not load credentials from any providers');
  credentialsMissing.name = 'CredentialsProviderError';

  test.each<[string, unknown, string]>([
    [
      'every invalid input, one per line',
      inputs,
      'Input "region": expected an AWS region such as us-east-1, got "mars-1"\n' +
        'Input "wait-timeout": expected a duration such as 10m, got "soon". Use s, m or h.',
    ],
    ['one invalid input', new InputError('token', 'a token', undefined), 'Input "token": expected a token'],
    [
      'an ActionError with its hint',
      new ActionError('Repository app does not exist.', { hint: 'Set create-repository: true.' }),
      'Repository app does not exist.\nSet create-repository: true.',
    ],
    ['an ActionError without a hint', new ActionError('Nothing to do.'), 'Nothing to do.'],
    [
      'an ActionError with a cause',
      new ActionError('Could not push.', { cause: new ActionError('Inner.', { hint: 'Fix it.' }) }),
      'Could not push.\nCaused by: Inner.\nFix it.',
    ],
    ['a TypeError keeps its name', new TypeError('x is not a function'), 'TypeError: x is not a function'],
    ['a plain Error is its message', new Error('boom'), 'boom'],
    ['an Error without message', new Error(''), '(no message)'],
    ['a string', 'plain text', 'plain text'],
    ['an object', { code: 7 }, 'Unexpected error: {"code":7}'],
    ['undefined', undefined, 'Unexpected error: undefined'],
    ['a cancellation', cancelled, 'Cancelled: the run was cancelled or the step timed out.'],
    ['an AggregateError, each error', new AggregateError([new Error('a'), new ActionError('b')]), 'a\nb'],
    [
      'a network error outside the SDK',
      refused,
      'could not reach 127.0.0.1:5000 (ECONNREFUSED)\n' +
        'Check the runner’s network: DNS, proxy settings (HTTPS_PROXY) and firewall rules towards AWS.',
    ],
  ])('%s', (_name, err, expected) => {
    expect(formatError(err, { env: {} })).toEqual(expected);
  });

  test('no credentials at all', () => {
    expect(formatError(credentialsMissing)).toMatch(
      /^No AWS credentials: Could not load credentials from any providers\nCheck the credentials .*configure-aws-credentials/,
    );
  });

  test('a failed connection to every address of a name (AggregateError with a code) is one network error', () => {
    const err = Object.assign(new AggregateError([new Error('a'), new Error('b')], ''), {
      code: 'ECONNREFUSED',
    });
    expect(formatError(err, { env: { AWS_ENDPOINT_URL: 'http://localhost:4566' } })).toBe(
      'could not reach the endpoint (ECONNREFUSED)\n' +
        'AWS_ENDPOINT_URL is set to http://localhost:4566: is that endpoint running and reachable from the runner?',
    );
  });

  test('a cyclic object does not throw', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(formatError(cyclic)).toBe('Unexpected error: [object Object]');
  });

  test('an AWS-shaped error that did not come through the factory', () => {
    const err = Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400, requestId: 'r-1', attempts: 3 },
    });
    expect(formatError(err)).toBe(
      'AWS request failed: ThrottlingException: Rate exceeded (HTTP 400, request id r-1, after 3 attempts)\n' +
        'AWS kept throttling calls (3 attempts with adaptive retry each, waited out until the step had to stop): ' +
        'other jobs or tools in this account and region are probably calling the same API. Re-run the job later, ' +
        'or ask AWS for a higher quota.',
    );
  });

  test('an AWS answer that mentions a network code stays an AWS error', () => {
    const err = Object.assign(new Error('upstream ECONNRESET'), {
      name: 'ServerException',
      $fault: 'server',
      $metadata: { httpStatusCode: 502, requestId: 'r-2' },
    });
    expect(formatError(err).split('\n')[0]).toBe(
      'AWS request failed: ServerException: upstream ECONNRESET (HTTP 502, request id r-2)',
    );
  });

  test('Code is used when the name is generic', () => {
    const err = Object.assign(new Error('denied'), { Code: 'AccessDenied', $metadata: {} });
    expect(formatError(err).split('\n')[0]).toBe('AWS request failed: AccessDenied: denied');
  });
});

describe('formatError on real SDK errors from a local server', () => {
  let server: FakeAwsServer;
  let restore: () => void;

  beforeAll(async () => {
    server = await startFakeAws();
  });
  afterAll(() => server.close());
  beforeEach(() => {
    restore = setEnv({
      AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKEFAKE',
      AWS_SECRET_ACCESS_KEY: SECRET,
      AWS_SESSION_TOKEN: 'fake-session-token-never-printed',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: server.url,
      AWS_ENDPOINT_URL_ECR: undefined,
      AWS_MAX_ATTEMPTS: undefined,
    });
  });
  afterEach(() => restore());

  async function ecrFailure(response: FakeResponse, maxAttempts = 1): Promise<string> {
    server.respond(response);
    const ecr = createAwsClient(ECRClient, { action, maxAttempts });
    // Throttling reaches the caller only once the client stops waiting it out (the step's
    // deadline): without that middleware, the error is the one the caller then gets.
    ecr.middlewareStack.remove(WAIT_OUT_THROTTLING_MIDDLEWARE);
    const err = await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['x'] })).then(
      () => {
        throw new Error('expected a failure');
      },
      (e: unknown) => e,
    );
    const text = formatError(err);
    for (const secret of [SECRET, 'fake-session-token-never-printed']) expect(text).not.toContain(secret);
    return text;
  }

  test('a service error: one line with service, operation, code, message and request id', async () => {
    const text = await ecrFailure(
      awsError(
        'RepositoryNotFoundException',
        "The repository with name 'x' does not exist in the registry with id '000000000000'",
        400,
        'req-1234',
      ),
    );
    expect(text).toBe(
      "ECR DescribeRepositories failed: RepositoryNotFoundException: The repository with name 'x' does not " +
        "exist in the registry with id '000000000000' (HTTP 400, request id req-1234)",
    );
  });

  test('a signature mismatch does not print the canonical request or the string to sign', async () => {
    const text = await ecrFailure(
      awsError(
        'InvalidSignatureException',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret ' +
          'Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String ' +
          "for this request should have been\n'POST\n/\n\nhost:api.ecr.us-east-1.amazonaws.com\n" +
          "x-amz-security-token:canonical-secret-material\n'\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n" +
          "20261130T000000Z\n20261130/us-east-1/ecr/aws4_request\nabc123'\n",
      ),
    );
    expect(text).toMatch(
      /^ECR DescribeRepositories failed: InvalidSignatureException: The request signature we calculated does not match/,
    );
    expect(text).not.toContain('canonical-secret-material');
    expect(text).not.toMatch(/Canonical String|String-to-Sign|aws4_request/);
  });

  test.each<[string, FakeResponse, string]>([
    [
      'AccessDenied with the action and principal in the message',
      awsError(
        'AccessDeniedException',
        'User: arn:aws:iam::123456789012:user/ci is not authorized to perform: ecr:DescribeRepositories on ' +
          'resource: arn:aws:ecr:us-east-1:123456789012:repository/x because no identity-based policy allows ' +
          'the ecr:DescribeRepositories action',
      ),
      'Missing IAM permission ecr:DescribeRepositories for arn:aws:iam::123456789012:user/ci. Allow it in the ' +
        'role’s policy (and check any permissions boundary or SCP).',
    ],
    [
      'AccessDenied by an explicit deny, for an assumed role',
      awsError(
        'AccessDeniedException',
        'User: arn:aws:sts::123456789012:assumed-role/gha/run-1 is not authorized to perform: ' +
          'ecr:DescribeRepositories on resource: * with an explicit deny in a service control policy',
      ),
      'Missing IAM permission ecr:DescribeRepositories for arn:aws:sts::123456789012:assumed-role/gha/run-1. ' +
        'An explicit deny (identity policy, permissions boundary or SCP) overrides any allow; remove or narrow it.',
    ],
    [
      'AccessDenied with a bare message: the IAM action from the call',
      awsError('AccessDeniedException', 'Access denied'),
      'Missing IAM permission ecr:DescribeRepositories for the identity of this job’s credentials ' +
        '(`aws sts get-caller-identity` shows it). Allow it in the role’s policy (and check any permissions ' +
        'boundary or SCP).',
    ],
    [
      'expired token',
      awsError('ExpiredTokenException', 'The security token included in the request is expired'),
      'AWS rejected the credentials (expired, revoked or from another partition). Check the credentials this ' +
        'job uses: run aws-actions/configure-aws-credentials before this step (with role-to-assume and ' +
        '`permissions: id-token: write`), and make role-duration-seconds cover the whole job.',
    ],
    [
      'unknown access key',
      awsError('UnrecognizedClientException', 'The security token included in the request is invalid.'),
      'AWS rejected the credentials (expired, revoked or from another partition). Check the credentials',
    ],
    [
      'bad signature',
      awsError('InvalidSignatureException', 'The request signature we calculated does not match', 403),
      'The request signature was rejected: a wrong secret access key, or a runner clock that is off.',
    ],
    [
      'server error',
      awsError('ServerException', 'Internal error', 500),
      'AWS had a server-side error; re-run the job.',
    ],
  ])('%s', async (_name, response, hint) => {
    const text = await ecrFailure(response);
    const [headline, second, ...rest] = text.split('\n');
    expect(headline).toMatch(/^ECR DescribeRepositories failed: \w+: .+ \(HTTP \d+, request id req-0001\)$/);
    expect(second).toContain(hint);
    expect(rest).toEqual([]);
  });

  test('throttling after retries says how many attempts', async () => {
    const text = await ecrFailure(awsError('ThrottlingException', 'Rate exceeded'), 2);
    expect(text).toBe(
      'ECR DescribeRepositories failed: ThrottlingException: Rate exceeded (HTTP 400, request id req-0001, after 2 attempts)\n' +
        'AWS kept throttling ECR calls (2 attempts with adaptive retry each, waited out until the step had to stop): ' +
        'other jobs or tools in this account and region are probably calling the same API. Re-run the job later, ' +
        'or ask AWS for a higher quota.',
    );
  }, 20_000);

  test('AccessDenied-family messages from other error codes (ECS ClientException)', async () => {
    server.respond(
      awsError(
        'ClientException',
        'User: arn:aws:sts::123456789012:assumed-role/deployer/gha is not authorized to perform: ' +
          'iam:PassRole on resource: arn:aws:iam::123456789012:role/task',
      ),
    );
    const ecs = createAwsClient(ECSClient, { action, maxAttempts: 1 });
    const err = await ecs.send(new UpdateServiceCommand({ service: 's' })).catch((e: unknown) => e);
    expect(formatError(err).split('\n')[1]).toMatch(
      /^Missing IAM permission iam:PassRole for arn:aws:sts::123456789012:assumed-role\/deployer\/gha\./,
    );
  });

  test('connection refused names the endpoint and AWS_ENDPOINT_URL', async () => {
    const dead = await startFakeAws();
    await dead.close();
    process.env.AWS_ENDPOINT_URL = dead.url;
    const ecr = createAwsClient(ECRClient, { action, maxAttempts: 2 });
    const err = await ecr.send(new DescribeRepositoriesCommand({})).catch((e: unknown) => e);
    expect(formatError(err)).toBe(
      `ECR DescribeRepositories failed: could not reach ${dead.url} (ECONNREFUSED) after 2 attempts\n` +
        `AWS_ENDPOINT_URL is set to ${dead.url}: is that endpoint running and reachable from the runner?`,
    );
  });

  test('the service-specific override is named when it is the one in use', async () => {
    const dead = await startFakeAws();
    await dead.close();
    process.env.AWS_ENDPOINT_URL_ECR = `http://user:pw@${dead.url.slice('http://'.length)}`;
    const ecr = createAwsClient(ECRClient, { action, maxAttempts: 1 });
    const err = await ecr.send(new DescribeRepositoriesCommand({})).catch((e: unknown) => e);
    const text = formatError(err);
    expect(text).toContain(`AWS_ENDPOINT_URL_ECR is set to ${dead.url}:`);
    expect(text).not.toContain('pw');
  });
});

describe('awsMessage', () => {
  test.each([
    ['short message', 'short message'],
    ['Denied.\nThe Canonical String for this request should have been\nPOST', 'Denied.'],
    ['x'.repeat(700), `${'x'.repeat(599)}…`],
  ])('%j', (message, expected) => {
    expect(awsMessage(message)).toBe(expected);
  });
});

describe('isTransientError', () => {
  const aws = (name: string, status: number, extra: object = {}) =>
    Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status }, ...extra });
  test.each([
    ['throttling', aws('ThrottlingException', 400), true],
    ['a 5xx', aws('InternalFailure', 500, { $fault: 'server' }), true],
    ['503 without a code', aws('Error', 503), true],
    ['a 429', aws('TooManyRequests', 429), true],
    ['a reset socket', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), true],
    ['a timed-out request', Object.assign(new Error('timed out'), { name: 'TimeoutError' }), true],
    ['AccessDenied', aws('AccessDeniedException', 400), false],
    ['expired credentials', aws('ExpiredTokenException', 400), false],
    ['a validation error', aws('InvalidParameterException', 400), false],
    ['a missing resource', aws('ServiceNotFoundException', 400), false],
    ['a cancellation', Object.assign(new Error('aborted'), { name: 'AbortError' }), false],
    ['an ordinary bug', new TypeError('x is undefined'), false],
    ['not an error', 'ECONNRESET', false],
  ])('%s → %s', (_name, error, expected) => {
    expect(isTransientError(error)).toBe(expected);
  });
});

test('an untrusted registry certificate names NODE_EXTRA_CA_CERTS, the setting a step has', () => {
  const cause = Object.assign(new Error('self-signed certificate in certificate chain'), {
    code: 'SELF_SIGNED_CERT_IN_CHAIN',
  });
  const text = formatError(new NetworkError('HEAD', 'https://127.0.0.1:5000/v2/', cause));
  expect(text).toContain('set NODE_EXTRA_CA_CERTS to the path of its CA certificate');
  expect(text).not.toMatch(/caFile|\(ca or/);
});
