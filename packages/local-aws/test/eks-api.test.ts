// EKS's control plane (REST-JSON, local-aws's first) judged by the AWS SDK v3 EKS client and the
// AWS CLI v2: clusters CREATING → ACTIVE on the clock with their own endpoint and local-aws's CA,
// paging, EKS's errors, the one-way authentication mode updates, access entries and access
// policies, IAM authorization on the Service Authorization Reference's ARNs, faults and the op log.
import {
  AssociateAccessPolicyCommand,
  CreateAccessEntryCommand,
  CreateClusterCommand,
  DeleteAccessEntryCommand,
  DeleteClusterCommand,
  DescribeAccessEntryCommand,
  DescribeClusterCommand,
  DescribeUpdateCommand,
  DisassociateAccessPolicyCommand,
  EKSClient,
  ListAccessEntriesCommand,
  ListAccessPoliciesCommand,
  ListAssociatedAccessPoliciesCommand,
  ListClustersCommand,
  UpdateClusterConfigCommand,
} from '@aws-sdk/client-eks';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { defaultNetwork, startLocalAws, type LocalAws, type PolicyDocument } from '../src/index.js';
import { signedRequest } from './helpers/signing.js';
import { requireTool } from '../../../test/helpers/tools.js';

const run = promisify(execFile);
const AWS_CLI = '/usr/bin/aws';
const withAwsCli = requireTool('AWS CLI v2', AWS_CLI);

const ACCOUNT = '000000000000';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/eks-cluster`;
const net = defaultNetwork();
const VPC = { subnetIds: net.subnetIds.slice(0, 2), securityGroupIds: [net.securityGroupId] };
const DEPLOYER = {
  accessKeyId: 'ASIADEPLOYER',
  secretAccessKey: 'deployer-secret',
  sessionToken: 'deployer-token',
  arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/github-actions`,
  userId: 'AROADEPLOYER:github-actions',
};
const LIMITED = {
  accessKeyId: 'AKIALIMITED',
  secretAccessKey: 'limited',
  policy: <PolicyDocument>{
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['eks:DescribeCluster', 'eks:DescribeAccessEntry'],
        Resource: [
          `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/allowed`,
          `arn:aws:eks:us-east-1:${ACCOUNT}:access-entry/allowed/*`,
        ],
      },
    ],
  },
};

let local: LocalAws;
beforeAll(async () => {
  local = await startLocalAws({
    steppedClock: true,
    credentials: [{ accessKeyId: 'test', secretAccessKey: 'test' }, DEPLOYER, LIMITED],
  });
});
afterAll(() => local.stop());

const eks = (
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = local.credentials,
) => new EKSClient({ endpoint: local.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });

const create = (name: string, extra: Record<string, unknown> = {}, client = eks()) =>
  client.send(new CreateClusterCommand({ name, roleArn: ROLE, resourcesVpcConfig: VPC, ...extra }));

/** The error an SDK call fails with (a test fails if it succeeds). */
async function failure(
  promise: Promise<unknown>,
): Promise<{ name: string; message: string; status?: number }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail');
}

describe('clusters (AWS SDK v3)', () => {
  test('CreateCluster: CREATING with EKS defaults, ACTIVE after ten simulated minutes with its endpoint and the CA', async () => {
    const created = await create('web', { tags: { team: 'platform' } });
    expect(created.cluster).toMatchObject({
      name: 'web',
      arn: `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/web`,
      version: '1.32',
      roleArn: ROLE,
      status: 'CREATING',
      platformVersion: expect.stringMatching(/^eks\.\d+$/),
      resourcesVpcConfig: {
        subnetIds: VPC.subnetIds,
        securityGroupIds: VPC.securityGroupIds,
        vpcId: net.vpcId,
      },
      kubernetesNetworkConfig: { serviceIpv4Cidr: '10.100.0.0/16', ipFamily: 'ipv4' },
      accessConfig: {
        authenticationMode: 'API_AND_CONFIG_MAP',
        bootstrapClusterCreatorAdminPermissions: true,
      },
      identity: {
        oidc: {
          issuer: expect.stringMatching(/^https:\/\/oidc\.eks\.us-east-1\.amazonaws\.com\/id\/[0-9A-F]{32}$/),
        },
      },
      tags: { team: 'platform' },
    });
    expect(created.cluster?.createdAt).toBeInstanceOf(Date);
    expect(created.cluster?.endpoint).toBeUndefined();

    await local.clock.advance(9 * 60_000);
    expect((await eks().send(new DescribeClusterCommand({ name: 'web' }))).cluster?.status).toBe('CREATING');
    await local.clock.advance(60_000);
    const { cluster } = await eks().send(new DescribeClusterCommand({ name: 'web' }));
    expect(cluster?.status).toBe('ACTIVE');
    const id = cluster!.identity!.oidc!.issuer!.split('/').pop();
    expect(cluster?.endpoint).toBe(`${local.httpsUrl}/eks/${id}`);
    expect(Buffer.from(cluster!.certificateAuthority!.data!, 'base64').toString('utf8')).toBe(
      readFileSync(local.caCertPath, 'utf8'),
    );
    expect(local.admin.eks.endpoint('web')).toBe(cluster?.endpoint);
    expect(local.admin.eks.kubernetes('web')?.store).toBeDefined();
  });

  test('the creator gets an access entry with AmazonEKSClusterAdminPolicy (bootstrapClusterCreatorAdminPermissions)', async () => {
    await create('bootstrapped', {}, eks(DEPLOYER));
    const entries = await eks().send(new ListAccessEntriesCommand({ clusterName: 'bootstrapped' }));
    expect(entries.accessEntries).toEqual([`arn:aws:iam::${ACCOUNT}:role/deployer`]);
    const policies = await eks().send(
      new ListAssociatedAccessPoliciesCommand({
        clusterName: 'bootstrapped',
        principalArn: `arn:aws:iam::${ACCOUNT}:role/deployer`,
      }),
    );
    expect(policies.associatedAccessPolicies).toMatchObject([
      {
        policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy',
        accessScope: { type: 'cluster', namespaces: [] },
      },
    ]);
    await create('no-bootstrap', { accessConfig: { bootstrapClusterCreatorAdminPermissions: false } });
    expect(
      (await eks().send(new ListAccessEntriesCommand({ clusterName: 'no-bootstrap' }))).accessEntries,
    ).toEqual([]);
  });

  test("EKS's errors: not found, in use, invalid parameters", async () => {
    expect(await failure(eks().send(new DescribeClusterCommand({ name: 'nope' })))).toEqual({
      name: 'ResourceNotFoundException',
      message: 'No cluster found for name: nope.',
      status: 404,
    });
    await create('taken');
    expect(await failure(create('taken'))).toEqual({
      name: 'ResourceInUseException',
      message: 'Cluster already exists with name: taken',
      status: 409,
    });
    expect(
      await failure(create('one-zone', { resourcesVpcConfig: { subnetIds: [net.subnetIds[0]!] } })),
    ).toMatchObject({
      name: 'InvalidParameterException',
      message: 'Subnets specified must be in at least two different AZs',
    });
    expect(
      await failure(
        create('ghost-subnet', {
          resourcesVpcConfig: { subnetIds: ['subnet-0000000000000000a', net.subnetIds[1]!] },
        }),
      ),
    ).toMatchObject({ name: 'InvalidParameterException', status: 400 });
    expect(
      await failure(
        create('bad-mode', {
          accessConfig: { authenticationMode: 'CONFIG_MAP', bootstrapClusterCreatorAdminPermissions: false },
        }),
      ),
    ).toMatchObject({ name: 'InvalidParameterException' });
  });

  test('ListClusters pages with maxResults and nextToken', async () => {
    const names: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const out = await eks().send(
        new ListClustersCommand({ maxResults: 2, ...(nextToken ? { nextToken } : {}) }),
      );
      names.push(...(out.clusters ?? []));
      nextToken = out.nextToken;
      pages++;
    } while (nextToken);
    const all = (await eks().send(new ListClustersCommand({}))).clusters;
    expect(names).toEqual(all);
    expect(pages).toBe(Math.ceil(all!.length / 2));
    expect(all).toEqual(expect.arrayContaining(['web', 'bootstrapped', 'taken']));
  });

  test('UpdateClusterConfig moves the authentication mode one way: CONFIG_MAP → API_AND_CONFIG_MAP → API', async () => {
    await create('modes', { accessConfig: { authenticationMode: 'CONFIG_MAP' } });
    await local.clock.advance(10 * 60_000);
    const first = await eks().send(
      new UpdateClusterConfigCommand({
        name: 'modes',
        accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' },
      }),
    );
    expect(first.update).toMatchObject({
      status: 'InProgress',
      type: 'AccessConfigUpdate',
      params: [{ type: 'AuthenticationMode', value: 'API_AND_CONFIG_MAP' }],
    });
    expect((await eks().send(new DescribeClusterCommand({ name: 'modes' }))).cluster?.status).toBe(
      'UPDATING',
    );
    expect(
      await failure(
        eks().send(
          new UpdateClusterConfigCommand({ name: 'modes', accessConfig: { authenticationMode: 'API' } }),
        ),
      ),
    ).toMatchObject({ name: 'ResourceInUseException' });
    await local.clock.advance(60_000);
    expect(
      (await eks().send(new DescribeUpdateCommand({ name: 'modes', updateId: first.update!.id! }))).update
        ?.status,
    ).toBe('Successful');
    const after = (await eks().send(new DescribeClusterCommand({ name: 'modes' }))).cluster;
    expect(after).toMatchObject({
      status: 'ACTIVE',
      accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' },
    });
    // The creator's implicit admin access becomes an access entry, so it keeps the cluster.
    expect((await eks().send(new ListAccessEntriesCommand({ clusterName: 'modes' }))).accessEntries).toEqual([
      `arn:aws:iam::${ACCOUNT}:root`,
    ]);

    expect(
      await failure(
        eks().send(
          new UpdateClusterConfigCommand({
            name: 'modes',
            accessConfig: { authenticationMode: 'CONFIG_MAP' },
          }),
        ),
      ),
    ).toEqual({
      name: 'InvalidParameterException',
      message: 'Unsupported authentication mode update from API_AND_CONFIG_MAP to CONFIG_MAP',
      status: 400,
    });
    await eks().send(
      new UpdateClusterConfigCommand({ name: 'modes', accessConfig: { authenticationMode: 'API' } }),
    );
    await local.clock.advance(60_000);
    expect(
      (await eks().send(new DescribeClusterCommand({ name: 'modes' }))).cluster?.accessConfig
        ?.authenticationMode,
    ).toBe('API');
  });

  test('DeleteCluster: DELETING, its Kubernetes API gone at once, the cluster gone after the deletion delay', async () => {
    await create('doomed');
    await local.clock.advance(10 * 60_000);
    const endpoint = local.admin.eks.endpoint('doomed');
    const deleted = await eks().send(new DeleteClusterCommand({ name: 'doomed' }));
    expect(deleted.cluster?.status).toBe('DELETING');
    expect(local.admin.eks.kubernetes('doomed')).toBeUndefined();
    const res = await fetchInsecure(`${endpoint}/version`);
    expect(res).toBe(404);
    await local.clock.advance(5 * 60_000);
    expect(await failure(eks().send(new DescribeClusterCommand({ name: 'doomed' })))).toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });
});

/** The status of a GET to the cluster's endpoint, trusting local-aws's CA. */
async function fetchInsecure(url: string): Promise<number> {
  const { rawRequest } = await import('./helpers/signing.js');
  return (await rawRequest(url, { ca: readFileSync(local.caCertPath, 'utf8') })).status;
}

describe('access entries and access policies (AWS SDK v3)', () => {
  const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/ci`;
  const USER_ARN = `arn:aws:iam::${ACCOUNT}:user/alice`;

  beforeAll(async () => {
    await create('entries');
    await create('legacy', { accessConfig: { authenticationMode: 'CONFIG_MAP' } });
  });

  test('CreateAccessEntry: STANDARD, default usernames for a role (a session template) and a user (its ARN)', async () => {
    const role = await eks().send(
      new CreateAccessEntryCommand({
        clusterName: 'entries',
        principalArn: ROLE_ARN,
        kubernetesGroups: ['deployers'],
      }),
    );
    expect(role.accessEntry).toMatchObject({
      clusterName: 'entries',
      principalArn: ROLE_ARN,
      kubernetesGroups: ['deployers'],
      type: 'STANDARD',
      username: `arn:aws:sts::${ACCOUNT}:assumed-role/ci/{{SessionName}}`,
      accessEntryArn: expect.stringMatching(
        new RegExp(
          `^arn:aws:eks:us-east-1:${ACCOUNT}:access-entry/entries/role/${ACCOUNT}/ci/[0-9a-f-]{36}$`,
        ),
      ),
    });
    const user = await eks().send(
      new CreateAccessEntryCommand({ clusterName: 'entries', principalArn: USER_ARN }),
    );
    expect(user.accessEntry).toMatchObject({ username: USER_ARN, kubernetesGroups: [] });
    const described = await eks().send(
      new DescribeAccessEntryCommand({ clusterName: 'entries', principalArn: ROLE_ARN }),
    );
    expect(described.accessEntry).toEqual(role.accessEntry);
    const listed = await eks().send(new ListAccessEntriesCommand({ clusterName: 'entries' }));
    expect(listed.accessEntries).toEqual(expect.arrayContaining([ROLE_ARN, USER_ARN]));
  });

  test("EKS's errors for access entries", async () => {
    expect(
      await failure(
        eks().send(new CreateAccessEntryCommand({ clusterName: 'entries', principalArn: ROLE_ARN })),
      ),
    ).toMatchObject({
      name: 'ResourceInUseException',
      status: 409,
    });
    expect(
      await failure(
        eks().send(new CreateAccessEntryCommand({ clusterName: 'legacy', principalArn: ROLE_ARN })),
      ),
    ).toEqual({
      name: 'InvalidRequestException',
      message:
        "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.",
      status: 400,
    });
    expect(
      await failure(
        eks().send(new CreateAccessEntryCommand({ clusterName: 'nope', principalArn: ROLE_ARN })),
      ),
    ).toMatchObject({ name: 'ResourceNotFoundException', message: 'No cluster found for name: nope.' });
    expect(
      await failure(
        eks().send(
          new CreateAccessEntryCommand({
            clusterName: 'entries',
            principalArn: `arn:aws:iam::${ACCOUNT}:role/masters`,
            kubernetesGroups: ['system:masters'],
          }),
        ),
      ),
    ).toMatchObject({ name: 'InvalidParameterException' });
    expect(
      await failure(
        eks().send(new CreateAccessEntryCommand({ clusterName: 'entries', principalArn: 'not-an-arn' })),
      ),
    ).toMatchObject({ name: 'InvalidParameterException' });
    expect(
      await failure(
        eks().send(
          new DescribeAccessEntryCommand({
            clusterName: 'entries',
            principalArn: `arn:aws:iam::${ACCOUNT}:role/none`,
          }),
        ),
      ),
    ).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
  });

  test('AssociateAccessPolicy (cluster and namespace scopes), ListAssociatedAccessPolicies, DisassociateAccessPolicy', async () => {
    const view = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy';
    const edit = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy';
    const associated = await eks().send(
      new AssociateAccessPolicyCommand({
        clusterName: 'entries',
        principalArn: ROLE_ARN,
        policyArn: edit,
        accessScope: { type: 'namespace', namespaces: ['prod'] },
      }),
    );
    expect(associated).toMatchObject({
      clusterName: 'entries',
      principalArn: ROLE_ARN,
      associatedAccessPolicy: { policyArn: edit, accessScope: { type: 'namespace', namespaces: ['prod'] } },
    });
    expect(associated.associatedAccessPolicy?.associatedAt).toBeInstanceOf(Date);
    await eks().send(
      new AssociateAccessPolicyCommand({
        clusterName: 'entries',
        principalArn: ROLE_ARN,
        policyArn: view,
        accessScope: { type: 'cluster' },
      }),
    );
    const listed = await eks().send(
      new ListAssociatedAccessPoliciesCommand({ clusterName: 'entries', principalArn: ROLE_ARN }),
    );
    expect(listed.associatedAccessPolicies?.map((p) => p.policyArn)).toEqual([edit, view]);
    expect(
      (await eks().send(new ListAccessEntriesCommand({ clusterName: 'entries', associatedPolicyArn: view })))
        .accessEntries,
    ).toEqual([ROLE_ARN]);
    await eks().send(
      new DisassociateAccessPolicyCommand({
        clusterName: 'entries',
        principalArn: ROLE_ARN,
        policyArn: view,
      }),
    );
    expect(
      (
        await eks().send(
          new ListAssociatedAccessPoliciesCommand({ clusterName: 'entries', principalArn: ROLE_ARN }),
        )
      ).associatedAccessPolicies?.map((p) => p.policyArn),
    ).toEqual([edit]);
    expect(
      await failure(
        eks().send(
          new AssociateAccessPolicyCommand({
            clusterName: 'entries',
            principalArn: ROLE_ARN,
            policyArn: edit,
            accessScope: { type: 'namespace', namespaces: [] },
          }),
        ),
      ),
    ).toMatchObject({ name: 'InvalidParameterException' });
    expect(
      await failure(
        eks().send(
          new AssociateAccessPolicyCommand({
            clusterName: 'entries',
            principalArn: ROLE_ARN,
            policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSMadeUpPolicy',
            accessScope: { type: 'cluster' },
          }),
        ),
      ),
    ).toMatchObject({ name: 'InvalidParameterException' });
    const policies = await eks().send(new ListAccessPoliciesCommand({}));
    expect(policies.accessPolicies?.map((p) => p.name)).toEqual([
      'AmazonEKSClusterAdminPolicy',
      'AmazonEKSAdminPolicy',
      'AmazonEKSEditPolicy',
      'AmazonEKSViewPolicy',
    ]);
    await eks().send(new DeleteAccessEntryCommand({ clusterName: 'entries', principalArn: USER_ARN }));
    expect(
      (await eks().send(new ListAccessEntriesCommand({ clusterName: 'entries' }))).accessEntries,
    ).not.toContain(USER_ARN);
  });
});

describe('IAM, faults, the op log and the protocol', () => {
  test('IAM asks eks:<Operation> on the cluster ARN, and on the access entry ARN for entry calls', async () => {
    await create('allowed');
    await create('forbidden');
    const limited = eks(LIMITED);
    expect((await limited.send(new DescribeClusterCommand({ name: 'allowed' }))).cluster?.name).toBe(
      'allowed',
    );
    expect(await failure(limited.send(new DescribeClusterCommand({ name: 'forbidden' })))).toEqual({
      name: 'AccessDeniedException',
      message: `User: arn:aws:iam::${ACCOUNT}:user/AKIALIMITED is not authorized to perform: eks:DescribeCluster on resource: arn:aws:eks:us-east-1:${ACCOUNT}:cluster/forbidden because no identity-based policy allows the eks:DescribeCluster action`,
      status: 403,
    });
    expect(await failure(limited.send(new ListClustersCommand({})))).toMatchObject({
      name: 'AccessDeniedException',
    });
    await eks().send(
      new CreateAccessEntryCommand({
        clusterName: 'allowed',
        principalArn: `arn:aws:iam::${ACCOUNT}:role/reader`,
      }),
    );
    await limited.send(
      new DescribeAccessEntryCommand({
        clusterName: 'allowed',
        principalArn: `arn:aws:iam::${ACCOUNT}:role/reader`,
      }),
    );
    const [entry] = local.opLog.entries({
      service: 'eks',
      operation: 'DescribeAccessEntry',
      accessKeyId: 'AKIALIMITED',
    });
    expect(entry?.iam).toMatchObject([
      {
        action: 'eks:DescribeAccessEntry',
        resource: expect.stringMatching(
          new RegExp(`^arn:aws:eks:us-east-1:${ACCOUNT}:access-entry/allowed/role/${ACCOUNT}/reader/`),
        ),
        allowed: true,
      },
    ]);
    // CreateCluster passes its role to EKS: without iam:PassRole the caller is refused.
    local.identities.add({
      accessKeyId: 'AKIANOPASS',
      secretAccessKey: 'nopass',
      policy: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 'eks:CreateCluster', Resource: '*' }],
      },
    });
    expect(
      await failure(create('unpassed', {}, eks({ accessKeyId: 'AKIANOPASS', secretAccessKey: 'nopass' }))),
    ).toEqual({
      name: 'AccessDeniedException',
      message: `User: arn:aws:iam::${ACCOUNT}:user/AKIANOPASS is not authorized to perform: iam:PassRole on resource: ${ROLE} because no identity-based policy allows the iam:PassRole action`,
      status: 403,
    });
    const [createCall] = local.opLog.entries({ service: 'eks', operation: 'CreateCluster' });
    expect(createCall?.iam?.map((c) => c.action)).toEqual(['eks:CreateCluster', 'iam:PassRole']);
  });

  test('admin.eks over HTTP: a cluster status set at once, the timings, the authentication refusals', async () => {
    const { rawRequest } = await import('./helpers/signing.js');
    await create('admin-http');
    const post = (path: string, body: unknown) =>
      rawRequest(`${local.endpoint}/_local-aws/eks/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post('cluster-status', { name: 'admin-http', status: 'ACTIVE' })).status).toBe(200);
    expect((await eks().send(new DescribeClusterCommand({ name: 'admin-http' }))).cluster?.status).toBe(
      'ACTIVE',
    );
    expect((await post('cluster-status', { name: 'admin-http', status: 'SLEEPING' })).status).toBe(400);
    expect((await post('timings', { updateMs: 120_000 })).json()).toEqual({
      timings: { activationMs: 600_000, deletionMs: 300_000, updateMs: 120_000, tokenLifetimeMs: 900_000 },
    });
    local.admin.eks.setTimings({ updateMs: 60_000 });
    const refusals = await rawRequest(`${local.endpoint}/_local-aws/eks/authentication-refusals`);
    expect(refusals.json()).toEqual({ refusals: local.admin.eks.authenticationRefusals() });
  });

  test('an armed fault answers in REST-JSON terms and is logged', async () => {
    local.faults.arm({ kind: 'throttling', service: 'eks', operation: 'DescribeCluster', count: 1 });
    expect(await failure(eks().send(new DescribeClusterCommand({ name: 'web' })))).toMatchObject({
      name: 'ThrottlingException',
      status: 429,
    });
    expect(local.opLog.entries({ service: 'eks', errorCode: 'ThrottlingException' })).toHaveLength(1);
  });

  test('unsigned, unknown paths and bad bodies get REST-JSON errors in the x-amzn-ErrorType header', async () => {
    const { rawRequest } = await import('./helpers/signing.js');
    const unsigned = await rawRequest(`${local.endpoint}/clusters`);
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers['x-amzn-errortype']).toBe('MissingAuthenticationTokenException');
    const unknown = await signedRequest({
      endpoint: local.endpoint,
      service: 'eks',
      method: 'GET',
      path: '/no-such-thing',
    });
    expect(unknown.status).toBe(404);
    expect(unknown.headers['x-amzn-errortype']).toBe('UnknownOperationException');
    const badBody = await signedRequest({
      endpoint: local.endpoint,
      service: 'eks',
      method: 'POST',
      path: '/clusters',
      body: '[1,2]',
      headers: { 'content-type': 'application/json' },
    });
    expect(badBody.status).toBe(400);
    expect(badBody.headers['x-amzn-errortype']).toBe('SerializationException');
    expect(badBody.json()).toEqual({ message: expect.any(String) });
    const health = (await rawRequest(`${local.endpoint}/_local-aws/health`)).json();
    expect(health.services).toEqual(expect.arrayContaining([{ protocol: 'rest-json', signingName: 'eks' }]));
    expect(health.routes).toContain('/eks/');
  });
});

describe('the AWS CLI v2', () => {
  const env = () => ({
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: '/nonexistent',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_PAGER: '',
  });
  const aws = async (...args: string[]) => {
    try {
      const out = await run(AWS_CLI, [...args, '--endpoint-url', local.endpoint, '--output', 'json'], {
        env: env(),
        timeout: 60_000,
      });
      return { code: 0, stdout: out.stdout, stderr: out.stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  withAwsCli(
    'create-cluster, describe-cluster, list-clusters, delete-cluster and their errors',
    async () => {
      const created = await aws(
        'eks',
        'create-cluster',
        '--name',
        'cli',
        '--role-arn',
        ROLE,
        '--resources-vpc-config',
        `subnetIds=${VPC.subnetIds.join(',')},securityGroupIds=${net.securityGroupId}`,
      );
      expect(created.stderr).toBe('');
      expect(JSON.parse(created.stdout).cluster).toMatchObject({
        name: 'cli',
        status: 'CREATING',
        version: '1.32',
      });
      // update-kubeconfig reads the status: no kubeconfig for a cluster still CREATING.
      const early = await aws('eks', 'update-kubeconfig', '--name', 'cli', '--kubeconfig', '/dev/null/none');
      expect(early.code).not.toBe(0);
      expect(early.stderr).toContain('Cluster status is CREATING');
      await local.clock.advance(10 * 60_000);
      const described = JSON.parse((await aws('eks', 'describe-cluster', '--name', 'cli')).stdout).cluster;
      expect(described).toMatchObject({ status: 'ACTIVE', endpoint: local.admin.eks.endpoint('cli') });
      expect(described.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
      expect(JSON.parse((await aws('eks', 'list-clusters')).stdout).clusters).toContain('cli');
      const again = await aws(
        'eks',
        'create-cluster',
        '--name',
        'cli',
        '--role-arn',
        ROLE,
        '--resources-vpc-config',
        `subnetIds=${VPC.subnetIds.join(',')}`,
      );
      expect(again.code).not.toBe(0);
      expect(again.stderr).toContain(
        'An error occurred (ResourceInUseException) when calling the CreateCluster operation: Cluster already exists with name: cli',
      );
      const missing = await aws('eks', 'describe-cluster', '--name', 'missing');
      expect(missing.stderr).toContain(
        'An error occurred (ResourceNotFoundException) when calling the DescribeCluster operation: No cluster found for name: missing.',
      );
      const deleted = await aws('eks', 'delete-cluster', '--name', 'cli');
      expect(JSON.parse(deleted.stdout).cluster.status).toBe('DELETING');
    },
    120_000,
  );
});
