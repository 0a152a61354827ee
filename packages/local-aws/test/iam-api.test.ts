// IAM's API as the previews and preflight use it — roles with their trust policy, inline and
// attached policies (AWS managed ones with their real documents), customer managed policies,
// OpenID Connect providers — judged by the AWS CLI v2 (which decodes the URL-encoded documents IAM
// answers) and boto3 (IAM's error codes, messages and statuses).
import { startLocalAws, type LocalAws } from '../src/index.js';
import { awsCli, Boto3Judge, withBoto3, withCli } from './helpers/query-judges.js';

const ACCOUNT = '000000000000';
const ADMIN = { accessKeyId: 'test', secretAccessKey: 'test' };
const ECS_TASKS_TRUST = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' },
  ],
};
const GITHUB_TRUST = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com` },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: {
        StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' },
        StringLike: { 'token.actions.githubusercontent.com:sub': 'repo:octo-org/octo-repo:*' },
      },
    },
  ],
};

let aws: LocalAws;
let judge: Boto3Judge | undefined;
const target = () => ({ endpoint: aws.endpoint, credentials: ADMIN });
const cli = async (args: string[]) => {
  const answer = await awsCli(target(), ['iam', ...args]);
  if (answer.code !== 0) throw new Error(`aws iam ${args[0]} exited ${answer.code}: ${answer.stderr}`);
  return answer.json;
};

beforeAll(async () => {
  aws = await startLocalAws();
});
afterAll(async () => {
  await judge?.close();
  await aws?.stop();
});

describe('the AWS CLI v2', () => {
  withCli(
    'a task execution role: create-role, attach the AWS managed policy, read it all back',
    async () => {
      const created = await cli([
        'create-role',
        '--role-name',
        'ecsTaskExecutionRole',
        '--assume-role-policy-document',
        JSON.stringify(ECS_TASKS_TRUST),
        '--description',
        'pulls images and writes logs',
      ]);
      expect(created.Role).toMatchObject({
        Path: '/',
        RoleName: 'ecsTaskExecutionRole',
        RoleId: expect.stringMatching(/^AROA[A-Z2-7]{17}$/),
        Arn: `arn:aws:iam::${ACCOUNT}:role/ecsTaskExecutionRole`,
        CreateDate: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\+00:00|Z)$/),
        AssumeRolePolicyDocument: ECS_TASKS_TRUST,
        Description: 'pulls images and writes logs',
        MaxSessionDuration: 3600,
      });
      const managed = 'arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy';
      await cli(['attach-role-policy', '--role-name', 'ecsTaskExecutionRole', '--policy-arn', managed]);
      // (The CLI pages through lists itself and leaves IsTruncated out.)
      expect(await cli(['list-attached-role-policies', '--role-name', 'ecsTaskExecutionRole'])).toEqual({
        AttachedPolicies: [{ PolicyName: 'AmazonECSTaskExecutionRolePolicy', PolicyArn: managed }],
      });
      const role = (await cli(['get-role', '--role-name', 'ecsTaskExecutionRole'])).Role as Record<
        string,
        unknown
      >;
      expect(role.AssumeRolePolicyDocument).toEqual(ECS_TASKS_TRUST);
      expect(role.RoleId).toBe((created.Role as Record<string, unknown>).RoleId);
    },
    30_000,
  );

  withCli(
    "GitHub's deploy role: an OIDC provider, the trust policy, an inline policy",
    async () => {
      const provider = await cli([
        'create-open-id-connect-provider',
        '--url',
        'https://token.actions.githubusercontent.com',
        '--client-id-list',
        'sts.amazonaws.com',
        // This CLI still requires one (IAM no longer uses it for GitHub); GitHub's published thumbprint.
        '--thumbprint-list',
        '6938fd4d98bab03faadb97b34396831e3780aea1',
      ]);
      const providerArn = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;
      expect(provider.OpenIDConnectProviderArn).toBe(providerArn);
      expect(
        await cli(['get-open-id-connect-provider', '--open-id-connect-provider-arn', providerArn]),
      ).toMatchObject({
        Url: 'token.actions.githubusercontent.com',
        ClientIDList: ['sts.amazonaws.com'],
        ThumbprintList: ['6938fd4d98bab03faadb97b34396831e3780aea1'],
      });
      expect(await cli(['list-open-id-connect-providers'])).toEqual({
        OpenIDConnectProviderList: [{ Arn: providerArn }],
      });
      await cli([
        'create-role',
        '--role-name',
        'github-deployer',
        '--path',
        '/ci/',
        '--assume-role-policy-document',
        JSON.stringify(GITHUB_TRUST),
        '--max-session-duration',
        '7200',
      ]);
      const deploy = {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['ecs:UpdateService'],
            Resource: `arn:aws:ecs:*:${ACCOUNT}:service/prod/*`,
          },
        ],
      };
      await cli([
        'put-role-policy',
        '--role-name',
        'github-deployer',
        '--policy-name',
        'deploy',
        '--policy-document',
        JSON.stringify(deploy),
      ]);
      expect(
        await cli(['get-role-policy', '--role-name', 'github-deployer', '--policy-name', 'deploy']),
      ).toEqual({
        RoleName: 'github-deployer',
        PolicyName: 'deploy',
        PolicyDocument: deploy,
      });
      expect(await cli(['list-role-policies', '--role-name', 'github-deployer'])).toEqual({
        PolicyNames: ['deploy'],
      });
      const role = (await cli(['get-role', '--role-name', 'github-deployer'])).Role as Record<
        string,
        unknown
      >;
      expect(role).toMatchObject({
        Path: '/ci/',
        Arn: `arn:aws:iam::${ACCOUNT}:role/ci/github-deployer`,
        MaxSessionDuration: 7200,
        AssumeRolePolicyDocument: GITHUB_TRUST,
      });
    },
    30_000,
  );
});

describe('boto3: errors as IAM answers them', () => {
  withBoto3(
    'NoSuchEntity, EntityAlreadyExists, MalformedPolicyDocument, DeleteConflict, ValidationError',
    async () => {
      judge ??= new Boto3Judge();
      const call = <T = Record<string, unknown>>(op: string, params: object) =>
        judge!.call<T>(target(), 'iam', op, params);
      const error = (op: string, params: object) => judge!.error(target(), 'iam', op, params);
      expect(await error('get_role', { RoleName: 'nobody' })).toEqual({
        Code: 'NoSuchEntity',
        Message: 'The role with name nobody cannot be found.',
        HTTPStatusCode: 404,
      });
      await call('create_role', {
        RoleName: 'app',
        AssumeRolePolicyDocument: JSON.stringify(ECS_TASKS_TRUST),
      });
      // Role names are unique whatever their case.
      expect(
        await error('create_role', {
          RoleName: 'APP',
          AssumeRolePolicyDocument: JSON.stringify(ECS_TASKS_TRUST),
        }),
      ).toEqual({
        Code: 'EntityAlreadyExists',
        Message: 'Role with name APP already exists.',
        HTTPStatusCode: 409,
      });
      expect(
        await error('create_role', {
          RoleName: 'no-principal',
          AssumeRolePolicyDocument: JSON.stringify({
            Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole' }],
          }),
        }),
      ).toEqual({
        Code: 'MalformedPolicyDocument',
        Message: 'Missing required field Principal',
        HTTPStatusCode: 400,
      });
      expect(
        await error('put_role_policy', {
          RoleName: 'app',
          PolicyName: 'bad',
          PolicyDocument: JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'ecs:*' }] }),
        }),
      ).toEqual({
        Code: 'MalformedPolicyDocument',
        Message: 'Policy statement must contain resources.',
        HTTPStatusCode: 400,
      });
      expect(await error('get_role_policy', { RoleName: 'app', PolicyName: 'none' })).toEqual({
        Code: 'NoSuchEntity',
        Message: 'The role policy with name none cannot be found.',
        HTTPStatusCode: 404,
      });
      expect(
        await error('attach_role_policy', {
          RoleName: 'app',
          PolicyArn: 'arn:aws:iam::aws:policy/NoSuchPolicy',
        }),
      ).toEqual({
        Code: 'NoSuchEntity',
        Message: 'Policy arn:aws:iam::aws:policy/NoSuchPolicy does not exist or is not attachable.',
        HTTPStatusCode: 404,
      });
      const created = await call<{ Policy: Record<string, unknown> }>('create_policy', {
        PolicyName: 'read-ecr',
        PolicyDocument: JSON.stringify({
          Statement: [{ Effect: 'Allow', Action: 'ecr:Describe*', Resource: '*' }],
        }),
      });
      expect(created.Policy).toMatchObject({
        PolicyName: 'read-ecr',
        Arn: `arn:aws:iam::${ACCOUNT}:policy/read-ecr`,
        DefaultVersionId: 'v1',
        IsAttachable: true,
      });
      await call('attach_role_policy', {
        RoleName: 'app',
        PolicyArn: `arn:aws:iam::${ACCOUNT}:policy/read-ecr`,
      });
      expect(await error('delete_role', { RoleName: 'app' })).toEqual({
        Code: 'DeleteConflict',
        Message: 'Cannot delete entity, must detach all policies first.',
        HTTPStatusCode: 409,
      });
      await call('detach_role_policy', {
        RoleName: 'app',
        PolicyArn: `arn:aws:iam::${ACCOUNT}:policy/read-ecr`,
      });
      await call('delete_role', { RoleName: 'app' });
      expect((await error('get_role', { RoleName: 'app' })).Code).toBe('NoSuchEntity');
      expect(
        await error('create_role', {
          RoleName: 'has space',
          AssumeRolePolicyDocument: JSON.stringify(ECS_TASKS_TRUST),
        }),
      ).toEqual({
        Code: 'ValidationError',
        Message:
          "1 validation error detected: Value 'has space' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+",
        HTTPStatusCode: 400,
      });
      const provider = { Url: 'https://issuer.example.com/oidc', ClientIDList: ['sts.amazonaws.com'] };
      await call('create_open_id_connect_provider', provider);
      expect(await error('create_open_id_connect_provider', provider)).toEqual({
        Code: 'EntityAlreadyExists',
        Message: 'Provider with url https://issuer.example.com/oidc already exists.',
        HTTPStatusCode: 409,
      });
    },
  );

  test('the AWS managed policies local-aws knows', () => {
    expect(aws.admin.iam.awsManagedPolicies()).toEqual([
      'arn:aws:iam::aws:policy/AdministratorAccess',
      'arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy',
      'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser',
      'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly',
    ]);
  });
});
