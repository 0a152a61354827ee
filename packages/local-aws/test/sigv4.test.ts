// SigV4 verification, checked with requests signed by the AWS SDK's own signer
// (@smithy/signature-v4): what passes is what AWS would accept, and the failures carry AWS's codes
// and messages for the JSON 1.1 protocol.
import { startLocalAws } from '../src/index.js';
import type { LocalAws } from '../src/index.js';
import { canonicalQuery, canonicalUri, parseQueryPairs } from '../src/platform/sigv4.js';
import { jsonCall, rawRequest } from './helpers/signing.js';
import { TEST_TARGET, testService } from './helpers/test-service.js';

const MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

let local: LocalAws;
beforeAll(async () => {
  local = await startLocalAws({
    modules: [testService],
    credentials: [
      { accessKeyId: 'test', secretAccessKey: 'test' },
      {
        accessKeyId: 'ASIASESSION',
        secretAccessKey: 'session-secret',
        sessionToken: 'the-token',
        arn: 'arn:aws:sts::000000000000:assumed-role/deployer/ci',
      },
    ],
  });
});
afterAll(() => local.stop());

const call = (
  op: string,
  input: unknown = {},
  extra: Parameters<typeof jsonCall>[3] = { service: 'testsvc' },
) => jsonCall(local.endpoint, `${TEST_TARGET}.${op}`, input, extra);

function expectJsonError(res: Awaited<ReturnType<typeof call>>, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toBe('application/x-amz-json-1.1');
  expect(res.headers['x-amzn-errortype']).toBe(code);
  expect(res.headers['x-amzn-requestid']).toMatch(/^[0-9a-f-]{36}$/);
  expect(res.json().__type).toBe(code);
}

test('a correctly signed JSON 1.1 call reaches the operation with the identity and region', async () => {
  const res = await call('Echo', { hello: 'world' }, { service: 'testsvc', region: 'eu-west-3' });
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toBe('application/x-amz-json-1.1');
  const body = res.json();
  expect(body).toMatchObject({
    input: { hello: 'world' },
    arn: 'arn:aws:iam::000000000000:root',
    region: 'eu-west-3',
  });
  expect(res.headers['x-amzn-requestid']).toBe(body.requestId);
});

test('paths and query strings are canonicalised as AWS does (double-encoded path, sorted query)', async () => {
  const res = await call(
    'Echo',
    {},
    {
      service: 'testsvc',
      path: '/some%20dir/./x/../(y)*',
      query: { b: '2', a: ['z y', '1'], 'c~': 'x+y/é' },
    },
  );
  expect(res.status).toBe(200);
  expect(canonicalUri('/a%20b/c')).toBe('/a%2520b/c');
  expect(canonicalQuery(parseQueryPairs('b=2&a=z%20y&a=1&c'))).toBe('a=1&a=z%20y&b=2&c=');
});

test('timestamps in JSON 1.1 output are epoch seconds', async () => {
  const res = await call('Now');
  expect(res.status).toBe(200);
  const body = res.json() as { at: number; nested: { list: number[] } };
  expect(typeof body.at).toBe('number');
  expect(Math.abs(body.at * 1000 - Date.now())).toBeLessThan(60_000);
  expect(body.nested.list).toEqual([1700000000.5]);
});

test('session tokens must match the key', async () => {
  const creds = { accessKeyId: 'ASIASESSION', secretAccessKey: 'session-secret', sessionToken: 'the-token' };
  const ok = await call('Echo', {}, { service: 'testsvc', credentials: creds });
  expect(ok.status).toBe(200);
  expect(ok.json().arn).toBe('arn:aws:sts::000000000000:assumed-role/deployer/ci');
  const wrong = await call(
    'Echo',
    {},
    { service: 'testsvc', credentials: { ...creds, sessionToken: 'other' } },
  );
  expectJsonError(wrong, 400, 'UnrecognizedClientException');
  expect(wrong.json().message).toBe('The security token included in the request is invalid.');
  const { sessionToken: _omitted, ...withoutToken } = creds;
  expectJsonError(
    await call('Echo', {}, { service: 'testsvc', credentials: withoutToken }),
    400,
    'UnrecognizedClientException',
  );
});

test('an unknown access key gets UnrecognizedClientException', async () => {
  const res = await call(
    'Echo',
    {},
    { service: 'testsvc', credentials: { accessKeyId: 'AKIANOBODY', secretAccessKey: 'x' } },
  );
  expectJsonError(res, 400, 'UnrecognizedClientException');
  expect(res.json().message).toBe('The security token included in the request is invalid.');
});

test('a wrong secret gets InvalidSignatureException with AWS wording', async () => {
  const res = await call(
    'Echo',
    {},
    { service: 'testsvc', credentials: { accessKeyId: 'test', secretAccessKey: 'nope' } },
  );
  expectJsonError(res, 403, 'InvalidSignatureException');
  expect(res.json().message).toBe(MISMATCH);
});

test('a tampered body or a header changed after signing is rejected', async () => {
  const tampered = await call(
    'Echo',
    { amount: 1 },
    { service: 'testsvc', sendBody: JSON.stringify({ amount: 9 }) },
  );
  expectJsonError(tampered, 403, 'InvalidSignatureException');
  expect(tampered.json().message).toBe(MISMATCH);
  const retargeted = await call(
    'Echo',
    {},
    {
      service: 'testsvc',
      afterSign: (h) => {
        h['x-amz-target'] = `${TEST_TARGET}.Now`;
      },
    },
  );
  expectJsonError(retargeted, 403, 'InvalidSignatureException');
});

test('clock skew beyond 5 minutes is rejected both ways, with AWS wording', async () => {
  const past = await call('Echo', {}, { service: 'testsvc', signingDate: new Date(Date.now() - 6 * 60_000) });
  expectJsonError(past, 403, 'InvalidSignatureException');
  expect(past.json().message).toMatch(
    /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/,
  );
  const future = await call(
    'Echo',
    {},
    { service: 'testsvc', signingDate: new Date(Date.now() + 6 * 60_000) },
  );
  expectJsonError(future, 403, 'InvalidSignatureException');
  expect(future.json().message).toMatch(
    /^Signature not yet current: \d{8}T\d{6}Z is still later than .* \+ 5 min\.\)$/,
  );
  const withinSkew = await call(
    'Echo',
    {},
    { service: 'testsvc', signingDate: new Date(Date.now() - 4 * 60_000) },
  );
  expect(withinSkew.status).toBe(200);
});

test('the credential scope must name the right service and a valid region', async () => {
  const service = await call('Echo', {}, { service: 'ecs' });
  expectJsonError(service, 403, 'InvalidSignatureException');
  expect(service.json().message).toBe("Credential should be scoped to correct service: 'testsvc'. ");
  const region = await call('Echo', {}, { service: 'testsvc', region: 'moon' });
  expectJsonError(region, 403, 'InvalidSignatureException');
  expect(region.json().message).toBe("Credential should be scoped to a valid region, not 'moon'. ");
});

test('unsigned and malformed Authorization headers', async () => {
  const unsigned = await rawRequest(local.endpoint, {
    method: 'POST',
    headers: { 'x-amz-target': `${TEST_TARGET}.Echo`, 'content-type': 'application/x-amz-json-1.1' },
    body: '{}',
  });
  expectJsonError(unsigned, 403, 'MissingAuthenticationTokenException');
  const incomplete = await rawRequest(local.endpoint, {
    method: 'POST',
    headers: {
      'x-amz-target': `${TEST_TARGET}.Echo`,
      authorization: 'AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/testsvc/aws4_request',
    },
    body: '{}',
  });
  expectJsonError(incomplete, 400, 'IncompleteSignatureException');
  expect(incomplete.json().message).toContain("Authorization header requires 'Signature' parameter.");
});

test('unknown operations and malformed bodies get the protocol errors, after authentication', async () => {
  expectJsonError(await call('NoSuchOperation'), 400, 'UnknownOperationException');
  expectJsonError(
    await jsonCall(local.endpoint, 'NoSuchService_2020.Op', {}, { service: 'testsvc' }),
    400,
    'UnknownOperationException',
  );
  const malformed = await call('Echo', '{"unterminated": ');
  expectJsonError(malformed, 400, 'SerializationException');
  expectJsonError(await call('Echo', '[1,2]'), 400, 'SerializationException');
  // Authentication comes first: a bad signature on an unknown operation is a signature error.
  expectJsonError(
    await call(
      'NoSuchOperation',
      {},
      { service: 'testsvc', credentials: { accessKeyId: 'test', secretAccessKey: 'bad' } },
    ),
    403,
    'InvalidSignatureException',
  );
});

test('service errors carry their members; a crashing handler is a 500 InternalFailure, not a crash', async () => {
  const failed = await call('Fail', { code: 'RepositoryNotFoundException' });
  expectJsonError(failed, 400, 'RepositoryNotFoundException');
  expect(failed.json()).toEqual({
    __type: 'RepositoryNotFoundException',
    message: 'it failed',
    reason: 'test',
  });

  const lines: string[] = [];
  const quiet = await startLocalAws({ modules: [testService], logError: (line) => lines.push(line) });
  try {
    const crashed = await jsonCall(quiet.endpoint, `${TEST_TARGET}.Crash`, {}, { service: 'testsvc' });
    expectJsonError(crashed, 500, 'InternalFailure');
    expect(lines.join('\n')).toContain('boom');
    expect((await jsonCall(quiet.endpoint, `${TEST_TARGET}.Echo`, {}, { service: 'testsvc' })).status).toBe(
      200,
    );
  } finally {
    await quiet.stop();
  }
});

test('every call, failed or not, is in the operation log with its IAM action and identity', async () => {
  local.opLog.clear();
  await call('Echo');
  await call(
    'Echo',
    {},
    { service: 'testsvc', credentials: { accessKeyId: 'AKIANOBODY', secretAccessKey: 'x' } },
  );
  const entries = local.opLog.entries({ service: 'testsvc' });
  expect(entries).toHaveLength(2);
  expect(entries[0]).toMatchObject({
    operation: 'Echo',
    action: 'testsvc:Echo',
    identityArn: 'arn:aws:iam::000000000000:root',
    accessKeyId: 'test',
    region: 'us-east-1',
    status: 200,
  });
  expect(entries[1]).toMatchObject({
    accessKeyId: 'AKIANOBODY',
    status: 400,
    errorCode: 'UnrecognizedClientException',
  });
  expect(entries[1]!.identityArn).toBeUndefined();
});
