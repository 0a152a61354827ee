// STS AssumeRole: the trust policy and the caller's own policies decide; the role's temporary
// credentials (ASIA…, a session token, an Expiration on the signature clock) sign later calls as
// arn:aws:sts::<account>:assumed-role/<role>/<session> and carry the role's policies — read from IAM
// at every call — narrowed by a session policy. Judged by the AWS SDK v3, the AWS CLI v2 and boto3.
import { CreateRepositoryCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { startLocalAws, type LocalAws } from '../src/index.js';
import { awsCli, Boto3Judge, withBoto3, withCli } from './helpers/query-judges.js';
import { signedRequest } from './helpers/signing.js';
import { iamQuery } from './helpers/iam-query.js';

const ACCOUNT = '000000000000';
const ADMIN = { accessKeyId: 'test', secretAccessKey: 'test' };
const CI_USER = { accessKeyId: 'AKIACIUSER', secretAccessKey: 'ci-secret' };
const CI_USER_ARN = `arn:aws:iam::${ACCOUNT}:user/AKIACIUSER`;
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const trustAccount = (principal: string | string[] = ACCOUNT) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: principal }, Action: 'sts:AssumeRole' }],
  });
const DEPLOY_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: 'ecs:UpdateService', Resource: `arn:aws:ecs:*:${ACCOUNT}:service/prod/*` },
  ],
});
type Creds = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

let aws: LocalAws;
let judge: Boto3Judge | undefined;
const sts = (credentials: Creds = ADMIN) =>
  new STSClient({ endpoint: aws.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
const ecs = (credentials: Creds) =>
  new ECSClient({ endpoint: aws.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
const ecr = (credentials: Creds) =>
  new ECRClient({ endpoint: aws.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => ({ name: 'no error', message: '', $metadata: { httpStatusCode: 0 } }),
    (e: { name: string; message: string; $metadata: { httpStatusCode: number } }) => e,
  );
/** An IAM call as the admin, through the Query protocol (no IAM client in the SDKs installed here). */
const iam = (action: string, params: Record<string, string>) => iamQuery(aws.endpoint, action, params);
async function assume(roleName: string, session: string, credentials: Creds = ADMIN, extra: object = {}) {
  const out = await sts(credentials).send(
    new AssumeRoleCommand({ RoleArn: role(roleName), RoleSessionName: session, ...extra }),
  );
  const c = out.Credentials!;
  return {
    out,
    creds: {
      accessKeyId: c.AccessKeyId!,
      secretAccessKey: c.SecretAccessKey!,
      sessionToken: c.SessionToken!,
    },
  };
}

beforeAll(async () => {
  aws = await startLocalAws({
    credentials: [
      ADMIN,
      {
        ...CI_USER,
        policy: { Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: role('deployer') }] },
      },
    ],
  });
  await iam('CreateRole', {
    RoleName: 'deployer',
    AssumeRolePolicyDocument: trustAccount(),
    MaxSessionDuration: '7200',
  });
  await iam('PutRolePolicy', { RoleName: 'deployer', PolicyName: 'deploy', PolicyDocument: DEPLOY_POLICY });
  await iam('AttachRolePolicy', {
    RoleName: 'deployer',
    PolicyArn: 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser',
  });
  await iam('CreateRole', { RoleName: 'locked', AssumeRolePolicyDocument: trustAccount('111122223333') });
  await iam('CreateRole', { RoleName: 'named', AssumeRolePolicyDocument: trustAccount(CI_USER_ARN) });
});
afterAll(async () => {
  await judge?.close();
  await aws?.stop();
});

describe('AssumeRole (AWS SDK v3)', () => {
  test("the role's credentials sign as the assumed role and carry its policies", async () => {
    const before = Date.now();
    const { out, creds } = await assume('deployer', 'run-1');
    expect(creds.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(creds.secretAccessKey).toHaveLength(40);
    expect(creds.sessionToken.length).toBeGreaterThan(100);
    // One hour by default, on the signature clock (wall time here).
    const expiresIn = out.Credentials!.Expiration!.getTime() - before;
    expect(expiresIn).toBeGreaterThan(3590_000);
    expect(expiresIn).toBeLessThanOrEqual(3601_000);
    expect(out.AssumedRoleUser).toEqual({
      Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/run-1`,
      AssumedRoleId: expect.stringMatching(/^AROA[A-Z2-7]{17}:run-1$/),
    });
    const who = await sts(creds).send(new GetCallerIdentityCommand({}));
    expect([who.Arn, who.UserId, who.Account]).toEqual([
      `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/run-1`,
      out.AssumedRoleUser!.AssumedRoleId,
      ACCOUNT,
    ]);

    // The inline policy: prod services only.
    expect(
      (await failure(ecs(creds).send(new UpdateServiceCommand({ cluster: 'prod', service: 'web' })))).name,
    ).toBe('ClusterNotFoundException');
    expect(
      await failure(ecs(creds).send(new UpdateServiceCommand({ cluster: 'staging', service: 'web' }))),
    ).toMatchObject({
      name: 'AccessDeniedException',
      message: `User: arn:aws:sts::${ACCOUNT}:assumed-role/deployer/run-1 is not authorized to perform: ecs:UpdateService on resource: arn:aws:ecs:us-east-1:${ACCOUNT}:service/staging/web because no identity-based policy allows the ecs:UpdateService action`,
    });
    // The attached AWS managed policy: a token, but no repository creation.
    await ecr(creds).send(new GetAuthorizationTokenCommand({}));
    expect(
      (await failure(ecr(creds).send(new CreateRepositoryCommand({ repositoryName: 'made-by-role' })))).name,
    ).toBe('AccessDeniedException');
    // The role's policies are read at every call: a new one applies to the session at once.
    await iam('PutRolePolicy', {
      RoleName: 'deployer',
      PolicyName: 'repositories',
      PolicyDocument: JSON.stringify({
        Statement: [{ Effect: 'Allow', Action: 'ecr:CreateRepository', Resource: '*' }],
      }),
    });
    expect(
      (await ecr(creds).send(new CreateRepositoryCommand({ repositoryName: 'made-by-role' }))).repository
        ?.repositoryName,
    ).toBe('made-by-role');
    await iam('DeleteRolePolicy', { RoleName: 'deployer', PolicyName: 'repositories' });
  });

  test('a session policy narrows what the role allows', async () => {
    const { creds } = await assume('deployer', 'narrow', ADMIN, {
      Policy: JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'ecr:*', Resource: '*' }] }),
    });
    expect(
      await failure(ecs(creds).send(new UpdateServiceCommand({ cluster: 'prod', service: 'web' }))),
    ).toMatchObject({
      name: 'AccessDeniedException',
      message: `User: arn:aws:sts::${ACCOUNT}:assumed-role/deployer/narrow is not authorized to perform: ecs:UpdateService on resource: arn:aws:ecs:us-east-1:${ACCOUNT}:service/prod/web because no session policy allows the ecs:UpdateService action`,
    });
    await ecr(creds).send(new GetAuthorizationTokenCommand({}));
  });

  test("the trust policy and the caller's own policy must both allow it", async () => {
    // The trust policy names another account.
    expect(await failure(assume('locked', 'session'))).toMatchObject({
      name: 'AccessDenied',
      message: `User: arn:aws:iam::${ACCOUNT}:root is not authorized to perform: sts:AssumeRole on resource: ${role('locked')}`,
      $metadata: { httpStatusCode: 403 },
    });
    // No such role: the same refusal (STS does not tell which roles exist).
    expect((await failure(assume('nobody', 'session'))).message).toBe(
      `User: arn:aws:iam::${ACCOUNT}:root is not authorized to perform: sts:AssumeRole on resource: ${role('nobody')}`,
    );
    // The CI user's policy allows deployer only; the trust policy of "named" names the user itself.
    await assume('deployer', 'from-ci', CI_USER);
    await assume('named', 'from-ci', CI_USER);
    await iam('CreateRole', { RoleName: 'other', AssumeRolePolicyDocument: trustAccount() });
    expect((await failure(assume('other', 'from-ci', CI_USER))).message).toBe(
      `User: ${CI_USER_ARN} is not authorized to perform: sts:AssumeRole on resource: ${role('other')} because no identity-based policy allows the sts:AssumeRole action`,
    );
    expect(
      aws.opLog
        .iamChecks({ operation: 'AssumeRole', accessKeyId: CI_USER.accessKeyId })
        .map((c) => [c.resource, c.allowed]),
    ).toEqual([
      [role('deployer'), true],
      [role('named'), true],
      [role('other'), false],
    ]);
  });

  test("durations: the role's MaxSessionDuration, and one hour for role chaining", async () => {
    const { out } = await assume('deployer', 'long', ADMIN, { DurationSeconds: 7200 });
    expect(out.Credentials!.Expiration!.getTime() - Date.now()).toBeGreaterThan(7190_000);
    await iam('CreateRole', { RoleName: 'short', AssumeRolePolicyDocument: trustAccount() });
    expect(await failure(assume('short', 'session', ADMIN, { DurationSeconds: 7200 }))).toMatchObject({
      name: 'ValidationError',
      message: 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
    });
    const { creds } = await assume('deployer', 'first');
    await iam('PutRolePolicy', {
      RoleName: 'deployer',
      PolicyName: 'chain',
      PolicyDocument: JSON.stringify({
        Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }],
      }),
    });
    try {
      expect(await failure(assume('deployer', 'second', creds, { DurationSeconds: 7200 }))).toMatchObject({
        name: 'ValidationError',
        message:
          'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
      });
      const chained = await assume('deployer', 'second', creds);
      expect(chained.out.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/deployer/second`);
    } finally {
      await iam('DeleteRolePolicy', { RoleName: 'deployer', PolicyName: 'chain' });
    }
    expect(
      await failure(
        sts().send(new AssumeRoleCommand({ RoleArn: role('deployer'), RoleSessionName: 'has space' })),
      ),
    ).toMatchObject({
      name: 'ValidationError',
      message:
        "1 validation error detected: Value 'has space' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
    });
  });
});

describe('expiry on the signature clock', () => {
  test('a session stops working at its Expiration: ExpiredToken (Query), ExpiredTokenException (JSON)', async () => {
    const start = Date.now();
    const local = await startLocalAws({ steppedClock: true, startTime: start, signatureClock: 'simulated' });
    try {
      const at = () => new Date(local.clock.now());
      const call = (service: string, creds: Creds, body: string, headers: Record<string, string>) =>
        signedRequest({
          endpoint: local.endpoint,
          service,
          credentials: creds,
          signingDate: at(),
          headers,
          body,
        });
      const form = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };
      const query = (creds: Creds, params: Record<string, string>) =>
        call('sts', creds, new URLSearchParams({ Version: '2011-06-15', ...params }).toString(), form);
      const iamForm = (params: Record<string, string>) =>
        call('iam', ADMIN, new URLSearchParams({ Version: '2010-05-08', ...params }).toString(), form);
      expect(
        (await iamForm({ Action: 'CreateRole', RoleName: 'r', AssumeRolePolicyDocument: trustAccount() }))
          .status,
      ).toBe(200);
      const assumed = await query(ADMIN, {
        Action: 'AssumeRole',
        RoleArn: role('r'),
        RoleSessionName: 'session',
        DurationSeconds: '900',
      });
      expect(assumed.status).toBe(200);
      const tag = (name: string) => new RegExp(`<${name}>([^<]+)</${name}>`).exec(assumed.body)![1]!;
      expect(Date.parse(tag('Expiration'))).toBe(Math.floor((start + 900_000) / 1000) * 1000);
      const creds = {
        accessKeyId: tag('AccessKeyId'),
        secretAccessKey: tag('SecretAccessKey'),
        sessionToken: tag('SessionToken'),
      };
      expect((await query(creds, { Action: 'GetCallerIdentity' })).status).toBe(200);

      await local.clock.advance(900_000);
      const expired = await query(creds, { Action: 'GetCallerIdentity' });
      expect(expired.status).toBe(403);
      expect(expired.body).toContain('<Code>ExpiredToken</Code>');
      expect(expired.body).toContain(
        '<Message>The security token included in the request is expired</Message>',
      );
      const json = await call('ecs', creds, '{}', {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AmazonEC2ContainerServiceV20141113.ListClusters',
      });
      expect([json.status, json.json()]).toEqual([
        400,
        { __type: 'ExpiredTokenException', message: 'The security token included in the request is expired' },
      ]);
    } finally {
      await local.stop();
    }
  });
});

describe('judges', () => {
  withCli(
    'the AWS CLI v2: aws sts assume-role, then calls with the credentials it printed',
    async () => {
      const assumed = await awsCli({ endpoint: aws.endpoint, credentials: ADMIN }, [
        'sts',
        'assume-role',
        '--role-arn',
        role('deployer'),
        '--role-session-name',
        'cli',
      ]);
      expect(assumed.code).toBe(0);
      const c = assumed.json.Credentials as Record<string, string>;
      expect(c.Expiration).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\+00:00|Z)$/);
      const creds = {
        accessKeyId: c.AccessKeyId!,
        secretAccessKey: c.SecretAccessKey!,
        sessionToken: c.SessionToken!,
      };
      const who = await awsCli({ endpoint: aws.endpoint, credentials: creds }, [
        'sts',
        'get-caller-identity',
      ]);
      expect(who.json.Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/deployer/cli`);
      const denied = await awsCli({ endpoint: aws.endpoint, credentials: creds }, ['ecs', 'list-clusters']);
      expect(denied.stderr.trim()).toBe(
        `An error occurred (AccessDeniedException) when calling the ListClusters operation: User: arn:aws:sts::${ACCOUNT}:assumed-role/deployer/cli is not authorized to perform: ecs:ListClusters on resource: * because no identity-based policy allows the ecs:ListClusters action`,
      );
    },
    30_000,
  );

  withBoto3('boto3: assume_role, and AccessDenied for a role the trust policy keeps out', async () => {
    judge ??= new Boto3Judge();
    const target = { endpoint: aws.endpoint, credentials: ADMIN };
    const out = await judge.call<{
      Credentials: Record<string, string>;
      AssumedRoleUser: Record<string, string>;
    }>(target, 'sts', 'assume_role', { RoleArn: role('deployer'), RoleSessionName: 'boto3' });
    expect(out.AssumedRoleUser.Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/deployer/boto3`);
    const session = {
      endpoint: aws.endpoint,
      credentials: {
        accessKeyId: out.Credentials.AccessKeyId!,
        secretAccessKey: out.Credentials.SecretAccessKey!,
        sessionToken: out.Credentials.SessionToken!,
      },
    };
    expect((await judge.call<{ Arn: string }>(session, 'sts', 'get_caller_identity')).Arn).toBe(
      `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/boto3`,
    );
    expect(
      await judge.error(target, 'sts', 'assume_role', {
        RoleArn: role('locked'),
        RoleSessionName: 'boto3-locked',
      }),
    ).toEqual({
      Code: 'AccessDenied',
      Message: `User: arn:aws:iam::${ACCOUNT}:root is not authorized to perform: sts:AssumeRole on resource: ${role('locked')}`,
      HTTPStatusCode: 403,
    });
  });
});
