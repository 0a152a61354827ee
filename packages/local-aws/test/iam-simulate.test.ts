// IAM's SimulatePrincipalPolicy, answered by local-aws's own evaluator — judged by the AWS CLI v2
// (`aws iam simulate-principal-policy`, paging with --page-size through Marker) and boto3 (IAM's
// errors, MaxItems/Marker paging by hand, a user and a role session as the source).
import { startLocalAws, type LocalAws } from '../src/index.js';
import { awsCli, Boto3Judge, withBoto3, withCli } from './helpers/query-judges.js';
import { signedRequest } from './helpers/signing.js';

const ACCOUNT = '000000000000';
const ADMIN = { accessKeyId: 'test', secretAccessKey: 'test' };
const DEV = { accessKeyId: 'dev', secretAccessKey: 'dev' };
const SECRET = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:app/db-AbCdEf`;
const OTHER_SECRET = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:app/other-XyZ123`;
const DENIED_SECRET = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:admin/root-QwErTy`;
const EXECUTION_ROLE = `arn:aws:iam::${ACCOUNT}:role/app-exec`;
const TRUST = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' },
  ],
};
const READ_SECRET = {
  Version: '2012-10-17',
  Statement: [
    { Sid: 'Read', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: SECRET },
    { Sid: 'ReadAdmin', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: DENIED_SECRET },
  ],
};
const DENY_ADMIN = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Deny', Action: 'secretsmanager:*', Resource: 'arn:aws:secretsmanager:*:*:secret:admin/*' },
  ],
};
const TLS_ONLY = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: '*',
      Condition: { Bool: { 'aws:SecureTransport': 'true' } },
    },
  ],
};

let aws: LocalAws;
let judge: Boto3Judge | undefined;
const target = (credentials = ADMIN) => ({ endpoint: aws.endpoint, credentials });
const cli = async (args: string[]) => {
  const answer = await awsCli(target(), ['iam', ...args]);
  if (answer.code !== 0) throw new Error(`aws iam ${args[0]} exited ${answer.code}: ${answer.stderr}`);
  return answer.json;
};
const iam = async (action: string, params: Record<string, string>, credentials = ADMIN) =>
  signedRequest({
    endpoint: aws.endpoint,
    service: 'iam',
    credentials,
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body: new URLSearchParams({ Action: action, Version: '2010-05-08', ...params }).toString(),
  });

type Result = Record<string, unknown> & { MatchedStatements?: Array<Record<string, unknown>> };

beforeAll(async () => {
  aws = await startLocalAws({
    credentials: [
      ADMIN,
      {
        ...DEV,
        policy: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: 'iam:SimulatePrincipalPolicy', Resource: EXECUTION_ROLE },
            { Sid: 'Logs', Effect: 'Allow', Action: 'logs:*', Resource: '*' },
          ],
        },
      },
    ],
  });
  const setup = async (action: string, params: Record<string, string>) => {
    const res = await iam(action, params);
    if (res.status !== 200) throw new Error(`${action}: ${res.status} ${res.body}`);
  };
  await setup('CreateRole', { RoleName: 'app-exec', AssumeRolePolicyDocument: JSON.stringify(TRUST) });
  await setup('PutRolePolicy', {
    RoleName: 'app-exec',
    PolicyName: 'read-secret',
    PolicyDocument: JSON.stringify(READ_SECRET, null, 2),
  });
  await setup('PutRolePolicy', {
    RoleName: 'app-exec',
    PolicyName: 'deny-admin',
    PolicyDocument: JSON.stringify(DENY_ADMIN),
  });
  await setup('PutRolePolicy', {
    RoleName: 'app-exec',
    PolicyName: 'tls-only',
    PolicyDocument: JSON.stringify(TLS_ONLY),
  });
  await setup('AttachRolePolicy', {
    RoleName: 'app-exec',
    PolicyArn: 'arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy',
  });
});
afterAll(async () => {
  await judge?.close();
  await aws?.stop();
});

describe('the AWS CLI v2', () => {
  withCli(
    'allowed on the secret, implicitDeny elsewhere, explicitDeny where a Deny matches',
    async () => {
      const answer = await cli([
        'simulate-principal-policy',
        '--policy-source-arn',
        EXECUTION_ROLE,
        '--action-names',
        'secretsmanager:GetSecretValue',
        '--resource-arns',
        SECRET,
        OTHER_SECRET,
        DENIED_SECRET,
      ]);
      const results = answer.EvaluationResults as Result[];
      expect(results.map((r) => [r.EvalResourceName, r.EvalDecision])).toEqual([
        [SECRET, 'allowed'],
        [OTHER_SECRET, 'implicitDeny'],
        [DENIED_SECRET, 'explicitDeny'],
      ]);
      // The allow: the inline policy's first statement (pretty-printed: line 3 to line 8).
      expect(results[0]!.MatchedStatements).toEqual([
        {
          SourcePolicyId: 'read-secret',
          SourcePolicyType: 'role',
          StartPosition: { Line: 4, Column: 6 },
          EndPosition: { Line: 9, Column: 6 },
        },
      ]);
      expect(results[0]!.ResourceSpecificResults).toEqual([
        {
          EvalResourceName: SECRET,
          EvalResourceDecision: 'allowed',
          MatchedStatements: results[0]!.MatchedStatements,
          MissingContextValues: [],
        },
      ]);
      expect(results[1]!.MatchedStatements).toEqual([]);
      // An explicit deny names only the Deny (not the Allow it overrides).
      expect(results[2]!.MatchedStatements).toEqual([
        expect.objectContaining({ SourcePolicyId: 'deny-admin', SourcePolicyType: 'role' }),
      ]);
    },
    30_000,
  );

  withCli(
    'the AWS managed AmazonECSTaskExecutionRolePolicy allows pulling images and writing logs',
    async () => {
      const answer = await cli([
        'simulate-principal-policy',
        '--policy-source-arn',
        EXECUTION_ROLE,
        '--action-names',
        'ecr:BatchGetImage',
        'logs:CreateLogStream',
        'ecr:PutImage',
      ]);
      const results = answer.EvaluationResults as Result[];
      expect(results.map((r) => [r.EvalActionName, r.EvalResourceName, r.EvalDecision])).toEqual([
        ['ecr:BatchGetImage', '*', 'allowed'],
        ['logs:CreateLogStream', '*', 'allowed'],
        ['ecr:PutImage', '*', 'implicitDeny'],
      ]);
      expect(results[0]!.MatchedStatements).toEqual([
        expect.objectContaining({
          SourcePolicyId: 'AmazonECSTaskExecutionRolePolicy',
          SourcePolicyType: 'aws-managed',
        }),
      ]);
      expect(results[0]!.ResourceSpecificResults).toBeUndefined();
    },
    30_000,
  );

  withCli(
    'a condition key the request does not carry is a MissingContextValue; given, it decides',
    async () => {
      const simulate = async (...extra: string[]) =>
        (
          (
            await cli([
              'simulate-principal-policy',
              '--policy-source-arn',
              EXECUTION_ROLE,
              '--action-names',
              's3:GetObject',
              ...extra,
            ])
          ).EvaluationResults as Result[]
        )[0]!;
      expect(await simulate()).toMatchObject({
        EvalDecision: 'implicitDeny',
        MissingContextValues: ['aws:SecureTransport'],
      });
      const withTls = await simulate(
        '--context-entries',
        'ContextKeyName=aws:SecureTransport,ContextKeyValues=true,ContextKeyType=boolean',
      );
      expect(withTls).toMatchObject({
        EvalDecision: 'allowed',
        MissingContextValues: [],
        MatchedStatements: [expect.objectContaining({ SourcePolicyId: 'tls-only' })],
      });
      // With resources named, the missing keys are the resource's.
      const named = await simulate('--resource-arns', 'arn:aws:s3:::app-bucket/config.json');
      expect(named.MissingContextValues).toEqual([]);
      expect((named.ResourceSpecificResults as Result[])[0]!.MissingContextValues).toEqual([
        'aws:SecureTransport',
      ]);
    },
    30_000,
  );

  withCli(
    'paging: --page-size sends MaxItems, the CLI follows the Marker to the end',
    async () => {
      const answer = await cli([
        'simulate-principal-policy',
        '--policy-source-arn',
        EXECUTION_ROLE,
        '--action-names',
        'ecr:BatchGetImage',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'ecr:PutImage',
        '--page-size',
        '1',
      ]);
      expect((answer.EvaluationResults as Result[]).map((r) => r.EvalDecision)).toEqual([
        'allowed',
        'allowed',
        'allowed',
        'implicitDeny',
      ]);
    },
    30_000,
  );
});

describe('boto3', () => {
  const call = <T = Record<string, unknown>>(op: string, params: object, credentials = ADMIN) =>
    judge!.call<T>(target(credentials), 'iam', op, params);
  const error = (op: string, params: object, credentials = ADMIN) =>
    judge!.error(target(credentials), 'iam', op, params);

  withBoto3(
    'MaxItems and Marker page through the results',
    async () => {
      judge ??= new Boto3Judge();
      const params = {
        PolicySourceArn: EXECUTION_ROLE,
        ActionNames: ['ecr:BatchGetImage', 'logs:CreateLogStream', 'ecr:PutImage'],
        MaxItems: 2,
      };
      const first = await call<{ EvaluationResults: Result[]; IsTruncated: boolean; Marker: string }>(
        'simulate_principal_policy',
        params,
      );
      expect(first.EvaluationResults.map((r) => r.EvalActionName)).toEqual([
        'ecr:BatchGetImage',
        'logs:CreateLogStream',
      ]);
      expect(first.IsTruncated).toBe(true);
      expect(typeof first.Marker).toBe('string');
      const second = await call<{ EvaluationResults: Result[]; IsTruncated: boolean; Marker?: string }>(
        'simulate_principal_policy',
        { ...params, Marker: first.Marker },
      );
      expect(second.EvaluationResults.map((r) => [r.EvalActionName, r.EvalDecision])).toEqual([
        ['ecr:PutImage', 'implicitDeny'],
      ]);
      expect(second.IsTruncated).toBe(false);
      expect(second.Marker).toBeUndefined();
    },
    30_000,
  );

  withBoto3(
    'a user (a key with a policy), a role session, PolicyInputList',
    async () => {
      judge ??= new Boto3Judge();
      const user = await call<{ EvaluationResults: Result[] }>('simulate_principal_policy', {
        PolicySourceArn: `arn:aws:iam::${ACCOUNT}:user/dev`,
        ActionNames: ['logs:PutLogEvents', 's3:ListBucket'],
      });
      expect(user.EvaluationResults.map((r) => r.EvalDecision)).toEqual(['allowed', 'implicitDeny']);
      expect(user.EvaluationResults[0]!.MatchedStatements).toEqual([
        expect.objectContaining({ SourcePolicyId: 'dev', SourcePolicyType: 'user' }),
      ]);
      const session = await call<{ EvaluationResults: Result[] }>('simulate_principal_policy', {
        PolicySourceArn: `arn:aws:sts::${ACCOUNT}:assumed-role/app-exec/task-1234`,
        ActionNames: ['ecr:GetAuthorizationToken'],
        PolicyInputList: [
          JSON.stringify({ Statement: [{ Effect: 'Deny', Action: 'ecr:*', Resource: '*' }] }),
        ],
      });
      expect(session.EvaluationResults[0]).toMatchObject({
        EvalDecision: 'explicitDeny',
        MatchedStatements: [{ SourcePolicyId: 'PolicyInputList.1', StartPosition: { Line: 1, Column: 16 } }],
      });
    },
    30_000,
  );

  withBoto3(
    'errors: NoSuchEntity, InvalidInput, AccessDenied without iam:SimulatePrincipalPolicy',
    async () => {
      judge ??= new Boto3Judge();
      expect(
        await error('simulate_principal_policy', {
          PolicySourceArn: `arn:aws:iam::${ACCOUNT}:role/nobody`,
          ActionNames: ['s3:GetObject'],
        }),
      ).toEqual({
        Code: 'NoSuchEntity',
        Message: 'The role with name nobody cannot be found.',
        HTTPStatusCode: 404,
      });
      expect(
        await error('simulate_principal_policy', {
          PolicySourceArn: `arn:aws:iam::${ACCOUNT}:user/ghost`,
          ActionNames: ['s3:GetObject'],
        }),
      ).toEqual({
        Code: 'NoSuchEntity',
        Message: 'The user with name ghost cannot be found.',
        HTTPStatusCode: 404,
      });
      expect(
        await error('simulate_principal_policy', {
          PolicySourceArn: 'arn:aws:s3:::not-a-principal',
          ActionNames: ['s3:GetObject'],
        }),
      ).toEqual({
        Code: 'InvalidInput',
        Message: 'ARN arn:aws:s3:::not-a-principal is not valid.',
        HTTPStatusCode: 400,
      });
      expect(
        await error('simulate_principal_policy', {
          PolicySourceArn: EXECUTION_ROLE,
          ActionNames: ['s3:GetObject'],
          PolicyInputList: ['{"Statement": "nope"}'],
        }),
      ).toMatchObject({ Code: 'InvalidInput', HTTPStatusCode: 400 });
      // dev may simulate the execution role, and no other principal.
      expect(
        (
          await call<{ EvaluationResults: Result[] }>(
            'simulate_principal_policy',
            { PolicySourceArn: EXECUTION_ROLE, ActionNames: ['ecr:BatchGetImage'] },
            DEV,
          )
        ).EvaluationResults[0]!.EvalDecision,
      ).toBe('allowed');
      expect(
        await error(
          'simulate_principal_policy',
          { PolicySourceArn: `arn:aws:iam::${ACCOUNT}:user/dev`, ActionNames: ['s3:GetObject'] },
          DEV,
        ),
      ).toEqual({
        Code: 'AccessDenied',
        Message: `User: arn:aws:iam::${ACCOUNT}:user/dev is not authorized to perform: iam:SimulatePrincipalPolicy on resource: arn:aws:iam::${ACCOUNT}:user/dev because no identity-based policy allows the iam:SimulatePrincipalPolicy action`,
        HTTPStatusCode: 403,
      });
    },
    30_000,
  );
});

describe('the wire', () => {
  it('answers in IAM XML; GetRole gives the trust policy URL-encoded', async () => {
    const sim = await iam('SimulatePrincipalPolicy', {
      PolicySourceArn: EXECUTION_ROLE,
      'ActionNames.member.1': 'ecr:BatchGetImage',
    });
    expect(sim.status).toBe(200);
    expect(sim.body).toMatch(
      /^<SimulatePrincipalPolicyResponse xmlns="https:\/\/iam\.amazonaws\.com\/doc\/2010-05-08\/">\s*<SimulatePrincipalPolicyResult><EvaluationResults><member><EvalActionName>ecr:BatchGetImage<\/EvalActionName><EvalResourceName>\*<\/EvalResourceName><EvalDecision>allowed<\/EvalDecision><MatchedStatements><member><SourcePolicyId>AmazonECSTaskExecutionRolePolicy<\/SourcePolicyId>/,
    );
    expect(sim.body).toContain(
      '</EvaluationResults><IsTruncated>false</IsTruncated></SimulatePrincipalPolicyResult>',
    );
    const role = await iam('GetRole', { RoleName: 'app-exec' });
    const encoded = /<AssumeRolePolicyDocument>([^<]*)<\/AssumeRolePolicyDocument>/.exec(role.body)?.[1];
    expect(encoded).toBe(encodeURIComponent(JSON.stringify(TRUST)));
    expect(JSON.parse(decodeURIComponent(encoded!))).toEqual(TRUST);
  });
});
