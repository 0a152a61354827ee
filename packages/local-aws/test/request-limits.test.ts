// Bodies over the API limit (16 MiB) are answered 413 — before they are read when Content-Length
// says so, before they are even sent with `Expect: 100-continue` — and the rest of the body is
// drained, never reset: SDKs retry a reset connection three times, a 413 not at all. Judged by the
// AWS SDK v3 and boto3, each with retries on, and by raw HTTP for the wire details.
import { ECRClient, PutImageCommand } from '@aws-sdk/client-ecr';
import { request } from 'node:http';
import { startLocalAws, type LocalAws } from '../src/index.js';
import { boto3, withBoto3 } from './helpers/boto3.js';

const LIMIT = 16 * 1024 * 1024;
const ECR_PUT_IMAGE = 'AmazonEC2ContainerRegistry_V20150921.PutImage';

let aws: LocalAws;
beforeAll(async () => {
  aws = await startLocalAws();
});
afterAll(() => aws?.stop());
beforeEach(() => aws.opLog.clear());

/** A manifest text just over the limit once framed as PutImage's JSON. */
const oversized = () => `{"pad":"${'x'.repeat(LIMIT)}"}`;

const putImageCalls = () => aws.opLog.entries({ action: 'ecr:PutImage' });

test('the AWS SDK v3, retrying up to 3 attempts, gets one 413 and does not retry it', async () => {
  const ecr = new ECRClient({
    endpoint: aws.endpoint,
    region: 'us-east-1',
    credentials: aws.credentials,
    maxAttempts: 3,
  });
  try {
    const error = (await ecr
      .send(new PutImageCommand({ repositoryName: 'limits/app', imageManifest: oversized() }))
      .then(
        () => undefined,
        (e: unknown) => e,
      )) as { name: string; $metadata: { httpStatusCode: number; attempts: number } };
    expect(error).toMatchObject({
      name: 'RequestEntityTooLargeException',
      $metadata: { httpStatusCode: 413, attempts: 1 },
    });
  } finally {
    ecr.destroy();
  }
  expect(putImageCalls().map((e) => [e.status, e.errorCode])).toEqual([
    [413, 'RequestEntityTooLargeException'],
  ]);
}, 60_000);

withBoto3(
  'boto3, retrying in standard mode, gets one 413 and does not retry it',
  async () => {
    const answer = await boto3(
      aws,
      `
ecr = boto3.client('ecr', endpoint_url=endpoint,
                   config=botocore.config.Config(retries={'mode': 'standard', 'max_attempts': 3}))
try:
    ecr.put_image(repositoryName='limits/app', imageManifest='{"pad":"' + 'x' * data + '"}')
    print(json.dumps(None))
except botocore.exceptions.ClientError as e:
    print(json.dumps([e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode'],
                      e.response['ResponseMetadata']['RetryAttempts']]))
`,
      { input: LIMIT },
    );
    expect(answer).toEqual(['RequestEntityTooLargeException', 413, 0]);
    expect(putImageCalls().map((e) => e.status)).toEqual([413]);
  },
  60_000,
);

interface WireAnswer {
  status: number;
  body: string;
  /** Whether the server said 100 Continue. */
  continued: boolean;
  /** Body bytes the client wrote. */
  sent: number;
  /** An error on the client's side (a reset would show here). */
  error?: string;
}

/** A raw POST; with `expect`, the body is sent only after 100 Continue. */
function post(
  headers: Record<string, string>,
  size: number,
  options: { expect?: boolean; chunked?: boolean } = {},
): Promise<WireAnswer> {
  const url = new URL(aws.endpoint);
  return new Promise((resolve) => {
    let continued = false;
    let sent = 0;
    const req = request({
      host: url.hostname,
      port: url.port,
      method: 'POST',
      path: '/',
      agent: false,
      headers: {
        ...headers,
        ...(options.chunked ? {} : { 'content-length': String(size) }),
        ...(options.expect ? { expect: '100-continue' } : {}),
      },
    });
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    const writeBody = async () => {
      while (sent < size) {
        const piece = chunk.subarray(0, Math.min(chunk.length, size - sent));
        sent += piece.length;
        if (!req.write(piece)) await new Promise((r) => req.once('drain', r));
      }
      req.end();
    };
    req.on('continue', () => {
      continued = true;
      void writeBody();
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, continued, sent }));
    });
    req.on('error', (e) => resolve({ status: 0, body: '', continued, sent, error: e.message }));
    if (!options.expect) void writeBody();
    else req.flushHeaders();
  });
}

const json = { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': ECR_PUT_IMAGE };
const form = { 'content-type': 'application/x-www-form-urlencoded' };

test.each([
  {
    name: 'JSON 1.1, Content-Length over the limit',
    headers: json,
    size: LIMIT + 1,
    options: {},
    want: { status: 413, continued: false, body: '"__type":"RequestEntityTooLargeException"' },
  },
  {
    name: 'JSON 1.1, Expect: 100-continue over the limit: no 100, no body sent',
    headers: json,
    size: LIMIT + 1,
    options: { expect: true },
    want: { status: 413, continued: false, body: 'RequestEntityTooLargeException', sent: 0 },
  },
  {
    name: 'JSON 1.1, chunked (no Content-Length) over the limit',
    headers: json,
    size: LIMIT + 2 * 1024 * 1024,
    options: { chunked: true },
    want: { status: 413, continued: false, body: 'RequestEntityTooLargeException' },
  },
  {
    name: 'Query, Content-Length over the limit',
    headers: form,
    size: LIMIT + 1,
    options: {},
    want: { status: 413, continued: false, body: '<Code>RequestEntityTooLargeException</Code>' },
  },
  {
    name: 'JSON 1.1, Expect: 100-continue within the limit: 100, then the unsigned call is refused as usual',
    headers: json,
    size: 1000,
    options: { expect: true },
    want: { status: 403, continued: true, body: 'MissingAuthenticationTokenException', sent: 1000 },
  },
])(
  '$name',
  async ({ headers, size, options, want }) => {
    const answer = await post(headers, size, options);
    expect(answer.error).toBeUndefined();
    expect(answer).toMatchObject({ status: want.status, continued: want.continued });
    expect(answer.body).toContain(want.body);
    if (want.sent !== undefined) expect(answer.sent).toBe(want.sent);
    // The server keeps answering on new connections, and the refused call is in the op log.
    expect((await fetch(`${aws.endpoint}/_local-aws/health`)).status).toBe(200);
    if (want.status === 413) expect(aws.opLog.entries().map((e) => e.status)).toEqual([413]);
  },
  60_000,
);
