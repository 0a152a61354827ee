// Every call is authorised before it runs: a key given a policy is held to it in each protocol —
// JSON 1.1 (ECS, ECR), Query (ELBv2, IAM), EC2's Query and the registry — on the resource ARN AWS
// evaluates for the operation, with iam:PassRole for the roles a task definition passes, and the
// refusal worded as AWS words it in that protocol's error shape. Keys without a policy may still do
// anything. The operation log keeps every question and its answer. Judged by the AWS SDK v3, the
// AWS CLI v2, boto3 and skopeo.
import { CreateRepositoryCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import {
  CreateClusterCommand,
  DeleteServiceCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import {
  buildImage,
  buildOciLayout,
  startLocalAws,
  type LocalAws,
  type PolicyDocument,
} from '../src/index.js';
import { awsCli, Boto3Judge, withBoto3, withCli } from './helpers/query-judges.js';
import { passwordFromToken, RegistryClient } from './helpers/registry-client.js';
import { findTool, requireTool } from '../../../test/helpers/tools.js';

const run = promisify(execFile);
const withSkopeo = requireTool('skopeo', 'skopeo');

const ACCOUNT = '000000000000';
const ADMIN = { accessKeyId: 'test', secretAccessKey: 'test' };
const DEPLOYER = { accessKeyId: 'AKIADEPLOYER', secretAccessKey: 'deployer-secret' };
const DEPLOYER_ARN = `arn:aws:iam::${ACCOUNT}:user/AKIADEPLOYER`;
const EXEC_ROLE = `arn:aws:iam::${ACCOUNT}:role/ecsTaskExecutionRole`;
const arnOf = {
  service: (cluster: string, name: string) => `arn:aws:ecs:us-east-1:${ACCOUNT}:service/${cluster}/${name}`,
  repository: (name: string) => `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/${name}`,
};
const refusal = (action: string, resource: string, who = DEPLOYER_ARN) =>
  `User: ${who} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`;

const DEPLOYER_POLICY: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'Deploy',
      Effect: 'Allow',
      Action: ['ecs:DescribeServices', 'ecs:UpdateService', 'ecs:DeleteService'],
      Resource: `arn:aws:ecs:*:${ACCOUNT}:service/prod/*`,
    },
    { Effect: 'Allow', Action: ['ecs:RegisterTaskDefinition', 'ecs:DescribeTaskDefinition'], Resource: '*' },
    {
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: EXEC_ROLE,
      Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    },
    { Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
    {
      Effect: 'Allow',
      Action: [
        'ecr:BatchCheckLayerAvailability',
        'ecr:InitiateLayerUpload',
        'ecr:UploadLayerPart',
        'ecr:CompleteLayerUpload',
        'ecr:PutImage',
        'ecr:BatchGetImage',
      ],
      Resource: `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/team/*`,
    },
    { Effect: 'Deny', Action: 'ecs:DeleteService', Resource: '*' },
  ],
};

let aws: LocalAws;
let judge: Boto3Judge | undefined;
const target = (credentials = DEPLOYER, region = 'us-east-1') => ({
  endpoint: aws.endpoint,
  region,
  credentials,
});
const ecs = (credentials = DEPLOYER, region = 'us-east-1') =>
  new ECSClient({ endpoint: aws.endpoint, region, credentials, maxAttempts: 1 });
const ecr = (credentials = DEPLOYER) =>
  new ECRClient({ endpoint: aws.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => ({ name: 'no error', message: '', $metadata: { httpStatusCode: 0 } }),
    (e: { name: string; message: string; $metadata: { httpStatusCode: number } }) => e,
  );

beforeAll(async () => {
  aws = await startLocalAws({ credentials: [ADMIN, { ...DEPLOYER, policy: DEPLOYER_POLICY }] });
  await ecs(ADMIN).send(new CreateClusterCommand({ clusterName: 'prod' }));
  await ecs(ADMIN).send(new CreateClusterCommand({ clusterName: 'staging' }));
  for (const name of ['team/app', 'other/app'])
    await ecr(ADMIN).send(new CreateRepositoryCommand({ repositoryName: name }));
});
afterAll(async () => {
  await judge?.close();
  await aws?.stop();
});
beforeEach(() => aws.opLog.clear());

describe('JSON 1.1 (ECS, ECR)', () => {
  test('a call the policy allows runs (and fails on its own terms); one it does not is AccessDeniedException', async () => {
    // Allowed: IAM lets it through, then ECS answers that there is no such service.
    const allowed = await failure(
      ecs().send(new UpdateServiceCommand({ cluster: 'prod', service: 'web', desiredCount: 2 })),
    );
    expect(allowed.name).toBe('ServiceNotFoundException');
    const denied = await failure(
      ecs().send(new UpdateServiceCommand({ cluster: 'staging', service: 'web', desiredCount: 2 })),
    );
    expect(denied).toMatchObject({
      name: 'AccessDeniedException',
      message: refusal('ecs:UpdateService', arnOf.service('staging', 'web')),
      $metadata: { httpStatusCode: 400 },
    });
    // The service may be named by its ARN: the same resource is evaluated.
    const byArn = await failure(
      ecs().send(new UpdateServiceCommand({ cluster: 'staging', service: arnOf.service('staging', 'web') })),
    );
    expect(byArn.message).toBe(refusal('ecs:UpdateService', arnOf.service('staging', 'web')));
    expect(aws.opLog.entries({ operation: 'UpdateService' }).map((e) => [e.errorCode, e.iam])).toEqual([
      [
        'ServiceNotFoundException',
        [
          {
            action: 'ecs:UpdateService',
            resource: arnOf.service('prod', 'web'),
            allowed: true,
            decision: 'allow',
          },
        ],
      ],
      [
        'AccessDeniedException',
        [
          {
            action: 'ecs:UpdateService',
            resource: arnOf.service('staging', 'web'),
            allowed: false,
            decision: 'implicit-deny',
          },
        ],
      ],
      [
        'AccessDeniedException',
        [
          {
            action: 'ecs:UpdateService',
            resource: arnOf.service('staging', 'web'),
            allowed: false,
            decision: 'implicit-deny',
          },
        ],
      ],
    ]);
  });

  test('an explicit deny wins over an allow, in its own words', async () => {
    const denied = await failure(ecs().send(new DeleteServiceCommand({ cluster: 'prod', service: 'web' })));
    expect(denied).toMatchObject({
      name: 'AccessDeniedException',
      message: `User: ${DEPLOYER_ARN} is not authorized to perform: ecs:DeleteService on resource: ${arnOf.service('prod', 'web')} with an explicit deny in an identity-based policy`,
    });
    expect(aws.opLog.iamChecks({ operation: 'DeleteService' })[0]).toMatchObject({
      decision: 'explicit-deny',
    });
  });

  test('RegisterTaskDefinition passes its roles: iam:PassRole with iam:PassedToService ecs-tasks.amazonaws.com', async () => {
    const family = { family: 'web', containerDefinitions: [{ name: 'app', image: 'nginx', memory: 512 }] };
    const ok = await ecs().send(
      new RegisterTaskDefinitionCommand({ ...family, executionRoleArn: EXEC_ROLE }),
    );
    expect(ok.taskDefinition?.executionRoleArn).toBe(EXEC_ROLE);
    const adminRole = `arn:aws:iam::${ACCOUNT}:role/admin`;
    const denied = await failure(
      ecs().send(
        new RegisterTaskDefinitionCommand({ ...family, executionRoleArn: EXEC_ROLE, taskRoleArn: adminRole }),
      ),
    );
    expect(denied).toMatchObject({
      name: 'AccessDeniedException',
      message: refusal('iam:PassRole', adminRole),
    });
    expect(
      aws.opLog
        .iamChecks({ operation: 'RegisterTaskDefinition' })
        .map((c) => [c.action, c.resource, c.allowed]),
    ).toEqual([
      ['ecs:RegisterTaskDefinition', '*', true],
      ['iam:PassRole', EXEC_ROLE, true],
      ['ecs:RegisterTaskDefinition', '*', true],
      ['iam:PassRole', EXEC_ROLE, true],
      ['iam:PassRole', adminRole, false],
    ]);
  });

  test("RunTask is evaluated on the task definition's revision, and passes the task definition's roles", async () => {
    const registered = await ecs(ADMIN).send(
      new RegisterTaskDefinitionCommand({
        family: 'job',
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '256',
        memory: '512',
        executionRoleArn: EXEC_ROLE,
        taskRoleArn: `arn:aws:iam::${ACCOUNT}:role/job-task`,
        containerDefinitions: [{ name: 'app', image: 'nginx' }],
      }),
    );
    const tdArn = registered.taskDefinition!.taskDefinitionArn!;
    expect(tdArn).toBe(`arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/job:1`);
    const runJob = () =>
      failure(
        ecs().send(new RunTaskCommand({ cluster: 'prod', taskDefinition: 'job', launchType: 'FARGATE' })),
      );
    expect((await runJob()).message).toBe(refusal('ecs:RunTask', tdArn));
    // Allowed to run it, but not to pass its task role: refused on iam:PassRole.
    aws.identities.setPolicy(DEPLOYER.accessKeyId, {
      ...DEPLOYER_POLICY,
      Statement: [
        ...(DEPLOYER_POLICY.Statement as object[]),
        {
          Effect: 'Allow',
          Action: 'ecs:RunTask',
          Resource: `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/job:*`,
        },
      ],
    } as PolicyDocument);
    try {
      expect((await runJob()).message).toBe(refusal('iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/job-task`));
      expect(
        aws.opLog
          .entries({ operation: 'RunTask' })
          .at(-1)
          ?.iam?.map((c) => [c.action, c.allowed]),
      ).toEqual([
        ['ecs:RunTask', true],
        ['iam:PassRole', true],
        ['iam:PassRole', false],
      ]);
    } finally {
      aws.identities.setPolicy(DEPLOYER.accessKeyId, DEPLOYER_POLICY);
    }
  });

  test('ECR: the repository ARN; GetAuthorizationToken on "*"', async () => {
    await ecr().send(new GetAuthorizationTokenCommand({}));
    const denied = await failure(ecr().send(new CreateRepositoryCommand({ repositoryName: 'team/new' })));
    expect(denied).toMatchObject({
      name: 'AccessDeniedException',
      message: refusal('ecr:CreateRepository', arnOf.repository('team/new')),
    });
    expect(aws.opLog.iamChecks({ service: 'ecr' }).map((c) => [c.action, c.resource, c.allowed])).toEqual([
      ['ecr:GetAuthorizationToken', '*', true],
      ['ecr:CreateRepository', arnOf.repository('team/new'), false],
    ]);
  });

  test('ECR: CreateRepository with tags is also an ecr:TagResource on the repository, with the request tags', async () => {
    const allowCreate = (actions: string[]) =>
      aws.identities.setPolicy(DEPLOYER.accessKeyId, {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: actions, Resource: arnOf.repository('team/tagged') }],
      });
    try {
      allowCreate(['ecr:CreateRepository']);
      const create = () =>
        ecr().send(
          new CreateRepositoryCommand({
            repositoryName: 'team/tagged',
            tags: [{ Key: 'team', Value: 'web' }],
          }),
        );
      expect(await failure(create())).toMatchObject({
        name: 'AccessDeniedException',
        message: refusal('ecr:TagResource', arnOf.repository('team/tagged')),
      });
      allowCreate(['ecr:CreateRepository', 'ecr:TagResource']);
      await create();
      const checks = aws.opLog.iamChecks({ service: 'ecr' }).map((c) => [c.action, c.allowed]);
      expect(checks).toEqual([
        ['ecr:CreateRepository', true],
        ['ecr:TagResource', false],
        ['ecr:CreateRepository', true],
        ['ecr:TagResource', true],
      ]);
    } finally {
      aws.identities.setPolicy(DEPLOYER.accessKeyId, DEPLOYER_POLICY);
    }
  });

  test('sts:GetCallerIdentity needs no permission; a key without a policy may still do anything', async () => {
    aws.identities.setPolicy(DEPLOYER.accessKeyId, {
      Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }],
    });
    try {
      const sts = new STSClient({
        endpoint: aws.endpoint,
        region: 'us-east-1',
        credentials: DEPLOYER,
        maxAttempts: 1,
      });
      expect((await sts.send(new GetCallerIdentityCommand({}))).Arn).toBe(DEPLOYER_ARN);
    } finally {
      aws.identities.setPolicy(DEPLOYER.accessKeyId, DEPLOYER_POLICY);
    }
    const created = await ecr(ADMIN).send(new CreateRepositoryCommand({ repositoryName: 'admin/anything' }));
    expect(created.repository?.repositoryName).toBe('admin/anything');
    expect(aws.opLog.entries({ accessKeyId: 'test' }).at(-1)?.iam).toEqual([
      {
        action: 'ecr:CreateRepository',
        resource: arnOf.repository('admin/anything'),
        allowed: true,
        decision: 'unrestricted',
      },
    ]);
    expect(aws.opLog.iamActions({ accessKeyId: DEPLOYER.accessKeyId })).toEqual([]);
  });

  test('aws:RequestedRegion: a policy for one region refuses the others', async () => {
    aws.identities.setPolicy(DEPLOYER.accessKeyId, {
      Statement: [
        {
          Effect: 'Allow',
          Action: 'ecs:UpdateService',
          Resource: '*',
          Condition: { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } },
        },
      ],
    });
    try {
      const inEu = await failure(
        ecs(DEPLOYER, 'eu-west-1').send(new UpdateServiceCommand({ cluster: 'prod', service: 'web' })),
      );
      expect(inEu.name).toBe('ClusterNotFoundException');
      const inUs = await failure(ecs().send(new UpdateServiceCommand({ cluster: 'prod', service: 'web' })));
      expect(inUs.name).toBe('AccessDeniedException');
    } finally {
      aws.identities.setPolicy(DEPLOYER.accessKeyId, DEPLOYER_POLICY);
    }
  });

  withCli(
    'the AWS CLI v2 prints the refusal as AWS words it',
    async () => {
      const answer = await awsCli(target(), [
        'ecs',
        'update-service',
        '--cluster',
        'staging',
        '--service',
        'web',
      ]);
      expect(answer.code).toBe(254);
      expect(answer.stderr.trim()).toBe(
        `An error occurred (AccessDeniedException) when calling the UpdateService operation: ${refusal('ecs:UpdateService', arnOf.service('staging', 'web'))}`,
      );
    },
    30_000,
  );
});

describe('Query (ELBv2, IAM) and EC2', () => {
  withBoto3(
    'ELBv2 and IAM answer AccessDenied (403); EC2 UnauthorizedOperation, in its own words',
    async () => {
      judge ??= new Boto3Judge();
      expect(await judge.error(target(), 'elbv2', 'describe_target_groups')).toEqual({
        Code: 'AccessDenied',
        Message: refusal('elasticloadbalancing:DescribeTargetGroups', '*'),
        HTTPStatusCode: 403,
      });
      expect(await judge.error(target(), 'iam', 'get_role', { RoleName: 'deployer' })).toEqual({
        Code: 'AccessDenied',
        Message: refusal('iam:GetRole', `arn:aws:iam::${ACCOUNT}:role/deployer`),
        HTTPStatusCode: 403,
      });
      expect(await judge.error(target(), 'ec2', 'describe_vpcs')).toEqual({
        Code: 'UnauthorizedOperation',
        Message: `You are not authorized to perform this operation. User: ${DEPLOYER_ARN} is not authorized to perform: ec2:DescribeVpcs because no identity-based policy allows the ec2:DescribeVpcs action`,
        HTTPStatusCode: 403,
      });
      // The admin key, without a policy, gets answers.
      expect(await judge.call(target(ADMIN), 'ec2', 'describe_vpcs')).toHaveProperty('Vpcs');
    },
  );
});

describe('the registry', () => {
  const registryFor = async (credentials: typeof DEPLOYER) => {
    const token = await ecr(credentials).send(new GetAuthorizationTokenCommand({}));
    return new RegistryClient({
      baseUrl: aws.httpsUrl,
      ca: readFileSync(aws.caCertPath, 'utf8'),
      auth: { user: 'AWS', password: passwordFromToken(token.authorizationData![0]!.authorizationToken!) },
    });
  };

  test("a push into a repository the policy names lands; into another, DENIED (403) in ECR's words", async () => {
    const reg = await registryFor(DEPLOYER);
    const image = buildImage([{ content: 'v1' }]);
    expect((await reg.pushImage('team/app', image, 'v1')).status).toBe(201);
    const start = await reg.request('POST', '/v2/other/app/blobs/uploads/');
    expect(start.status).toBe(403);
    expect(start.json()).toEqual({
      errors: [
        {
          code: 'DENIED',
          message: refusal('ecr:InitiateLayerUpload', arnOf.repository('other/app')),
          detail: {},
        },
      ],
    });
    const manifest = await reg.putManifest('other/app', 'v1', image.manifest);
    expect([manifest.status, manifest.errorCode()]).toEqual([403, 'DENIED']);
    // A pull the policy does not name (GetDownloadUrlForLayer is not in it).
    const blob = await reg.request('GET', `/v2/team/app/blobs/${image.layers[0]!.digest}`);
    expect([blob.status, blob.errorCode()]).toEqual([403, 'DENIED']);
    const checks = aws.opLog
      .iamChecks({ service: 'ecr' })
      .filter((c) => c.action !== 'ecr:GetAuthorizationToken');
    expect(new Set(checks.filter((c) => c.allowed).map((c) => c.action))).toEqual(
      new Set(['ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage']),
    );
    expect(checks.filter((c) => !c.allowed).map((c) => [c.action, c.resource])).toEqual([
      ['ecr:InitiateLayerUpload', arnOf.repository('other/app')],
      ['ecr:PutImage', arnOf.repository('other/app')],
      ['ecr:GetDownloadUrlForLayer', arnOf.repository('team/app')],
    ]);
    expect(aws.opLog.entries({ operation: 'InitiateLayerUpload', errorCode: 'DENIED' })).toHaveLength(1);
  });

  test('a monolithic PUT carries a layer part; a mount needs ecr:GetDownloadUrlForLayer on the repository it mounts from', async () => {
    const reg = await registryFor(DEPLOYER);
    const image = buildImage([{ content: 'mounted' }]);
    expect((await reg.pushImage('team/app', image, 'mount-source')).status).toBe(201);
    // The client's push is POST, then one PUT with the bytes: UploadLayerPart is asked with it.
    expect(aws.opLog.iamChecks({ operation: 'UploadLayerPart' }).map((c) => c.allowed)).not.toHaveLength(0);
    const digest = image.layers[0]!.digest;
    const mount = () => reg.request('POST', `/v2/team/mirror/blobs/uploads/?mount=${digest}&from=team/app`);
    await ecr(ADMIN).send(new CreateRepositoryCommand({ repositoryName: 'team/mirror' }));
    aws.opLog.clear();
    const refused = await mount();
    expect([refused.status, refused.errorCode()]).toEqual([403, 'DENIED']);
    expect(refused.json()).toMatchObject({
      errors: [
        { code: 'DENIED', message: refusal('ecr:GetDownloadUrlForLayer', arnOf.repository('team/app')) },
      ],
    });
    expect(
      aws.opLog.iamChecks({ operation: 'GetDownloadUrlForLayer' }).map((c) => [c.resource, c.allowed]),
    ).toEqual([[arnOf.repository('team/app'), false]]);
    aws.identities.setPolicy(DEPLOYER.accessKeyId, {
      ...DEPLOYER_POLICY,
      Statement: [
        ...(DEPLOYER_POLICY.Statement as object[]),
        { Effect: 'Allow', Action: 'ecr:GetDownloadUrlForLayer', Resource: arnOf.repository('team/app') },
      ],
    } as PolicyDocument);
    try {
      const mounted = await mount();
      expect(mounted.status).toBe(201);
    } finally {
      aws.identities.setPolicy(DEPLOYER.accessKeyId, DEPLOYER_POLICY);
    }
  });

  withSkopeo("skopeo: a push outside the policy fails with denied: and ECR's message", async () => {
    const layout = await buildOciLayout({ layers: [{ content: 'skopeo' }] });
    try {
      const token = await ecr(DEPLOYER).send(new GetAuthorizationTokenCommand({}));
      const password = passwordFromToken(token.authorizationData![0]!.authorizationToken!);
      const copy = (repo: string) =>
        run(findTool('skopeo')!, [
          'copy',
          '--dest-creds',
          `AWS:${password}`,
          '--dest-cert-dir',
          dirname(aws.caCertPath),
          `oci:${layout.dir}:latest`,
          `docker://${aws.registryHost}/${repo}:v1`,
        ]).then(
          () => ({ code: 0, stderr: '' }),
          (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
        );
      expect((await copy('team/app')).code).toBe(0);
      // skopeo asks first whether the repository has the blobs (a HEAD: ecr:BatchCheckLayerAvailability),
      // and a HEAD's 403 has no body to print.
      const refused = await copy('other/app');
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain(
        'failed to read from destination repository other/app: 403 (Forbidden)',
      );
      expect(
        aws.opLog.entries({ operation: 'BatchCheckLayerAvailability', errorCode: 'DENIED' }).length,
      ).toBeGreaterThan(0);
      // Allowed to look but not to upload: the upload's DENIED comes with ECR's message.
      aws.identities.setPolicy(DEPLOYER.accessKeyId, {
        ...DEPLOYER_POLICY,
        Statement: [
          ...(DEPLOYER_POLICY.Statement as object[]),
          { Effect: 'Allow', Action: 'ecr:BatchCheckLayerAvailability', Resource: '*' },
        ],
      } as PolicyDocument);
      try {
        const denied = await copy('other/app');
        expect(denied.code).not.toBe(0);
        expect(denied.stderr).toContain(
          `denied: ${refusal('ecr:InitiateLayerUpload', arnOf.repository('other/app'))}`,
        );
      } finally {
        aws.identities.setPolicy(DEPLOYER.accessKeyId, DEPLOYER_POLICY);
      }
    } finally {
      await layout.cleanup();
    }
  });
});

describe('the admin API', () => {
  test('identities are listed without secrets; a policy is set and taken away over HTTP', async () => {
    const listed = (await (await fetch(`${aws.endpoint}/_local-aws/identities`)).json()) as {
      identities: Array<Record<string, unknown>>;
    };
    expect(listed.identities.map((i) => [i.accessKeyId, i.arn, i.policy !== undefined])).toEqual([
      ['test', `arn:aws:iam::${ACCOUNT}:root`, false],
      [DEPLOYER.accessKeyId, DEPLOYER_ARN, true],
    ]);
    expect(JSON.stringify(listed)).not.toContain(DEPLOYER.secretAccessKey);

    const put = await fetch(`${aws.endpoint}/_local-aws/identities/test/policy`, {
      method: 'PUT',
      body: JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'ecr:Describe*', Resource: '*' }] }),
    });
    expect(put.status).toBe(200);
    try {
      const denied = await failure(ecr(ADMIN).send(new CreateRepositoryCommand({ repositoryName: 'x/y' })));
      expect(denied.message).toBe(
        refusal('ecr:CreateRepository', arnOf.repository('x/y'), `arn:aws:iam::${ACCOUNT}:root`),
      );
    } finally {
      expect(
        (await fetch(`${aws.endpoint}/_local-aws/identities/test/policy`, { method: 'DELETE' })).status,
      ).toBe(200);
    }
    expect(
      (await ecr(ADMIN).send(new CreateRepositoryCommand({ repositoryName: 'x/y' }))).repository,
    ).toBeDefined();

    const bad = await fetch(`${aws.endpoint}/_local-aws/identities/test/policy`, {
      method: 'PUT',
      body: JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'ecr:*' }] }),
    });
    expect([bad.status, ((await bad.json()) as { error: string }).error]).toEqual([
      400,
      'Policy statement must contain resources.',
    ]);
  });
});
