// STS GetCallerIdentity through clients no one here wrote: the AWS SDK v3 STS client, the AWS CLI
// v2, and presigned URLs made by the SDK's signer the way EKS tokens are made.
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { AwsError, startLocalAws } from '../src/index.js';
import type { LocalAws } from '../src/index.js';
import { rawRequest, signedRequest, signer } from './helpers/signing.js';
import { requireTool } from '../../../test/helpers/tools.js';

const run = promisify(execFile);
const AWS_CLI = '/usr/bin/aws';
const withAwsCli = requireTool('AWS CLI v2', AWS_CLI);

let local: LocalAws;
beforeAll(async () => {
  local = await startLocalAws({
    credentials: [
      { accessKeyId: 'test', secretAccessKey: 'test' },
      {
        accessKeyId: 'ASIADEPLOYER',
        secretAccessKey: 'deployer-secret',
        sessionToken: 'deployer-token',
        arn: 'arn:aws:sts::000000000000:assumed-role/deployer/github-actions',
        userId: 'AROADEPLOYER:github-actions',
      },
      { accessKeyId: 'AKIAOTHERACCOUNT', secretAccessKey: 'other', accountId: '111122223333' },
    ],
  });
});
afterAll(() => local.stop());

function sts(
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  region = 'us-east-1',
) {
  return new STSClient({ endpoint: local.endpoint, region, credentials, maxAttempts: 1 });
}

describe('AWS SDK v3', () => {
  test('GetCallerIdentity with test/test', async () => {
    const out = await sts({ accessKeyId: 'test', secretAccessKey: 'test' }).send(
      new GetCallerIdentityCommand({}),
    );
    expect(out).toMatchObject({
      Account: '000000000000',
      Arn: 'arn:aws:iam::000000000000:root',
      UserId: '000000000000',
    });
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(out.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('each identity has its own ARN; session tokens are required and checked', async () => {
    const deployer = {
      accessKeyId: 'ASIADEPLOYER',
      secretAccessKey: 'deployer-secret',
      sessionToken: 'deployer-token',
    };
    const out = await sts(deployer, 'eu-central-1').send(new GetCallerIdentityCommand({}));
    expect(out).toMatchObject({
      Account: '000000000000',
      Arn: 'arn:aws:sts::000000000000:assumed-role/deployer/github-actions',
      UserId: 'AROADEPLOYER:github-actions',
    });
    const other = await sts({ accessKeyId: 'AKIAOTHERACCOUNT', secretAccessKey: 'other' }).send(
      new GetCallerIdentityCommand({}),
    );
    expect(other.Account).toBe('111122223333');
    await expect(
      sts({ ...deployer, sessionToken: 'stale' }).send(new GetCallerIdentityCommand({})),
    ).rejects.toMatchObject({
      name: 'InvalidClientTokenId',
      message: 'The security token included in the request is invalid.',
    });
    await expect(
      sts({ accessKeyId: deployer.accessKeyId, secretAccessKey: deployer.secretAccessKey }).send(
        new GetCallerIdentityCommand({}),
      ),
    ).rejects.toMatchObject({ name: 'InvalidClientTokenId' });
  });

  test('a wrong secret surfaces SignatureDoesNotMatch (403)', async () => {
    const error = await sts({ accessKeyId: 'test', secretAccessKey: 'wrong' })
      .send(new GetCallerIdentityCommand({}))
      .catch(
        (e: unknown) =>
          e as { name: string; message: string; $metadata: { httpStatusCode: number }; $fault: string },
      );
    expect(error).toMatchObject({
      name: 'SignatureDoesNotMatch',
      $fault: 'client',
      message: expect.stringContaining(
        'The request signature we calculated does not match the signature you provided.',
      ),
    });
    expect(error.$metadata.httpStatusCode).toBe(403);
  });

  test('an unknown key surfaces InvalidClientTokenId (403)', async () => {
    const error = (await sts({ accessKeyId: 'AKIANOBODY', secretAccessKey: 'x' })
      .send(new GetCallerIdentityCommand({}))
      .then(
        () => ({ name: 'no error', $metadata: { httpStatusCode: 0 } }),
        (e: unknown) => e,
      )) as { name: string; $metadata: { httpStatusCode: number } };
    expect(error.name).toBe('InvalidClientTokenId');
    expect(error.$metadata.httpStatusCode).toBe(403);
  });
});

describe('Query protocol framing', () => {
  test('response XML as STS writes it', async () => {
    const res = await signedRequest({
      endpoint: local.endpoint,
      service: 'sts',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: 'Action=GetCallerIdentity&Version=2011-06-15',
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/xml');
    expect(res.body).toContain(
      '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">',
    );
    expect(res.body).toMatch(
      /<GetCallerIdentityResult><Arn>arn:aws:iam::000000000000:root<\/Arn><UserId>000000000000<\/UserId><Account>000000000000<\/Account><\/GetCallerIdentityResult>/,
    );
    expect(res.body).toContain(`<RequestId>${String(res.headers['x-amzn-requestid'])}</RequestId>`);
  });

  test('an unknown Action is InvalidAction; errors are <ErrorResponse> with Type Sender', async () => {
    const res = await signedRequest({
      endpoint: local.endpoint,
      service: 'sts',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: 'Action=AssumeRoleWithMagic&Version=2011-06-15',
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatch(
      /<ErrorResponse xmlns="https:\/\/sts.amazonaws.com\/doc\/2011-06-15\/">\s*<Error>\s*<Type>Sender<\/Type>\s*<Code>InvalidAction<\/Code>\s*<Message>Could not find operation AssumeRoleWithMagic for version 2011-06-15<\/Message>\s*<\/Error>\s*<RequestId>[0-9a-f-]{36}<\/RequestId>\s*<\/ErrorResponse>/,
    );
  });

  test('an unsigned request is MissingAuthenticationToken; STS allows 15 minutes of skew', async () => {
    const unsigned = await rawRequest(`${local.endpoint}/?Action=GetCallerIdentity&Version=2011-06-15`);
    expect(unsigned.status).toBe(403);
    expect(unsigned.body).toContain('<Code>MissingAuthenticationToken</Code>');
    const form = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };
    const body = 'Action=GetCallerIdentity&Version=2011-06-15';
    const tenMinutesAgo = await signedRequest({
      endpoint: local.endpoint,
      service: 'sts',
      headers: form,
      body,
      signingDate: new Date(Date.now() - 10 * 60_000),
    });
    expect(tenMinutesAgo.status).toBe(200);
    const old = await signedRequest({
      endpoint: local.endpoint,
      service: 'sts',
      headers: form,
      body,
      signingDate: new Date(Date.now() - 16 * 60_000),
    });
    expect(old.status).toBe(403);
    expect(old.body).toContain('<Code>SignatureDoesNotMatch</Code>');
    expect(old.body).toMatch(
      /Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)/,
    );
  });
});

describe('presigned GetCallerIdentity (the EKS token)', () => {
  async function presign(options: { signingDate?: Date; clusterId?: string } = {}) {
    const url = new URL(local.endpoint);
    const request = await signer('sts', 'us-east-1', {
      accessKeyId: 'test',
      secretAccessKey: 'test',
    }).presign(
      {
        method: 'GET',
        protocol: 'http:',
        hostname: url.hostname,
        port: Number(url.port),
        path: '/',
        query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
        headers: { host: url.host, 'x-k8s-aws-id': options.clusterId ?? 'demo-cluster' },
      },
      { expiresIn: 60, ...(options.signingDate ? { signingDate: options.signingDate } : {}) },
    );
    const query = new URLSearchParams(request.query as Record<string, string>).toString();
    return `${url.origin}/?${query}`;
  }

  test('the presigned URL verifies, in process and over HTTP', async () => {
    const url = await presign();
    expect(url).toMatch(/X-Amz-SignedHeaders=host%3Bx-k8s-aws-id/);
    const identity = local.verifyPresignedUrl(url, { 'x-k8s-aws-id': 'demo-cluster' });
    expect(identity).toEqual({
      accountId: '000000000000',
      arn: 'arn:aws:iam::000000000000:root',
      userId: '000000000000',
      accessKeyId: 'test',
    });
    const res = await rawRequest(url, { headers: { 'x-k8s-aws-id': 'demo-cluster' } });
    expect(res.status).toBe(200);
    expect(res.body).toContain('<Arn>arn:aws:iam::000000000000:root</Arn>');
  });

  test('a tampered URL or a different cluster id does not verify', async () => {
    const url = await presign();
    const forCluster = local.verifyPresignedUrl(url, { 'x-k8s-aws-id': 'another-cluster' });
    expect(forCluster).toBeInstanceOf(AwsError);
    expect(forCluster).toMatchObject({ code: 'SignatureDoesNotMatch', statusCode: 403 });
    const tampered = url.replace('X-Amz-Expires=60', 'X-Amz-Expires=900');
    expect(local.verifyPresignedUrl(tampered, { 'x-k8s-aws-id': 'demo-cluster' })).toMatchObject({
      code: 'SignatureDoesNotMatch',
    });
    const otherAction = url.replace('Action=GetCallerIdentity', 'Action=AssumeRole');
    expect(local.verifyPresignedUrl(otherAction, { 'x-k8s-aws-id': 'demo-cluster' })).toMatchObject({
      code: 'InvalidAction',
    });
    const res = await rawRequest(url, { headers: { 'x-k8s-aws-id': 'another-cluster' } });
    expect(res.status).toBe(403);
    expect(res.body).toContain('<Code>SignatureDoesNotMatch</Code>');
  });

  test('accepted for 15 minutes from X-Amz-Date whatever X-Amz-Expires says, then rejected', async () => {
    const tenMinutes = await presign({ signingDate: new Date(Date.now() - 10 * 60_000) });
    expect(local.verifyPresignedUrl(tenMinutes, { 'x-k8s-aws-id': 'demo-cluster' })).toMatchObject({
      arn: 'arn:aws:iam::000000000000:root',
    });
    const sixteenMinutes = await presign({ signingDate: new Date(Date.now() - 16 * 60_000) });
    const expired = local.verifyPresignedUrl(sixteenMinutes, { 'x-k8s-aws-id': 'demo-cluster' });
    expect(expired).toBeInstanceOf(AwsError);
    expect((expired as AwsError).message).toMatch(/^Signature expired: .* - 15 min\.\)$/);
    const res = await rawRequest(sixteenMinutes, { headers: { 'x-k8s-aws-id': 'demo-cluster' } });
    expect(res.status).toBe(403);
  });
});

describe('AWS CLI v2', () => {
  const env = (accessKeyId: string, secretAccessKey: string) => ({
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: secretAccessKey,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  });

  withAwsCli(
    'aws sts get-caller-identity, then a wrong secret',
    async () => {
      const { stdout } = await run(
        AWS_CLI,
        ['--endpoint-url', local.endpoint, 'sts', 'get-caller-identity', '--output', 'json'],
        {
          env: env('test', 'test'),
        },
      );
      expect(JSON.parse(stdout)).toEqual({
        UserId: '000000000000',
        Account: '000000000000',
        Arn: 'arn:aws:iam::000000000000:root',
      });
      const failed = await run(AWS_CLI, ['--endpoint-url', local.endpoint, 'sts', 'get-caller-identity'], {
        env: env('test', 'wrong'),
      }).catch((e: { code: number; stderr: string }) => e);
      expect(failed).toMatchObject({ code: 254 });
      expect((failed as { stderr: string }).stderr).toContain(
        'An error occurred (SignatureDoesNotMatch) when calling the GetCallerIdentity operation',
      );
    },
    60_000,
  );
});
