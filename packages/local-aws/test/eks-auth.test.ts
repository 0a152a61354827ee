// Authentication as EKS does it, at a cluster's endpoint: bearer tokens `k8s-aws-v1.<presigned STS
// GetCallerIdentity URL>` made by the AWS CLI (`aws eks get-token`, and through
// `aws eks update-kubeconfig`'s exec plugin with kubectl) and by the SDK's signer; refusals
// (expired, tampered, another cluster's, unmapped, a non-STS host, an extra query key) answered
// 401 as the apiserver answers, which kubectl prints as "You must be logged in to the server", and
// logged; principals mapped through access entries or the aws-auth ConfigMap; access policies as
// Kubernetes rights. What the cluster answers after authentication is local-kubernetes's business:
// these tests only require that it was not refused.
import {
  type AccessScope,
  CreateAccessEntryCommand,
  CreateClusterCommand,
  EKSClient,
  AssociateAccessPolicyCommand,
} from '@aws-sdk/client-eks';
import { findByPath, type AccessRequest } from '@aws-containers/local-kubernetes';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { defaultNetwork, startLocalAws, type LocalAws } from '../src/index.js';
import { authorize, mapIdentity } from '../src/eks/authenticator.js';
import { rawRequest, signer, type Creds } from './helpers/signing.js';
import { requireTools } from '../../../test/helpers/tools.js';

const run = promisify(execFile);
const AWS_CLI = '/usr/bin/aws';
const KUBECTL = '/usr/bin/kubectl';
const withCliAndKubectl = requireTools([
  { name: 'AWS CLI v2', path: AWS_CLI },
  { name: 'kubectl', path: KUBECTL },
]);

const ACCOUNT = '000000000000';
const net = defaultNetwork();
const ADMIN: Creds = { accessKeyId: 'test', secretAccessKey: 'test' };
const DEPLOYER = {
  accessKeyId: 'ASIADEPLOYER',
  secretAccessKey: 'deployer-secret',
  sessionToken: 'deployer-token',
  arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/github-actions@acme`,
  userId: 'AROADEPLOYER:github-actions@acme',
};
const STRANGER = {
  accessKeyId: 'AKIASTRANGER',
  secretAccessKey: 'stranger',
  arn: `arn:aws:iam::${ACCOUNT}:user/stranger`,
};
const OPERATOR = {
  accessKeyId: 'AKIAOPERATOR',
  secretAccessKey: 'operator',
  arn: `arn:aws:iam::${ACCOUNT}:user/ops/operator`,
};

let local: LocalAws;
let ca: string;
let temp: string;
beforeAll(async () => {
  local = await startLocalAws({ steppedClock: true, credentials: [ADMIN, DEPLOYER, STRANGER, OPERATOR] });
  ca = readFileSync(local.caCertPath, 'utf8');
  temp = mkdtempSync(join(tmpdir(), 'eks-auth-'));
  const eks = new EKSClient({
    endpoint: local.endpoint,
    region: 'us-east-1',
    credentials: ADMIN,
    maxAttempts: 1,
  });
  const vpc = { subnetIds: net.subnetIds.slice(0, 2) };
  const role = `arn:aws:iam::${ACCOUNT}:role/eks-cluster`;
  await eks.send(new CreateClusterCommand({ name: 'prod', roleArn: role, resourcesVpcConfig: vpc }));
  await eks.send(new CreateClusterCommand({ name: 'staging', roleArn: role, resourcesVpcConfig: vpc }));
  await eks.send(
    new CreateClusterCommand({
      name: 'legacy',
      roleArn: role,
      resourcesVpcConfig: vpc,
      accessConfig: { authenticationMode: 'CONFIG_MAP' },
    }),
  );
  await eks.send(
    new CreateClusterCommand({
      name: 'api-only',
      roleArn: role,
      resourcesVpcConfig: vpc,
      accessConfig: { authenticationMode: 'API' },
    }),
  );
  await local.clock.advance(10 * 60_000);
  // The deployer's role: an access entry with a templated username, edit rights in one namespace.
  await eks.send(
    new CreateAccessEntryCommand({
      clusterName: 'prod',
      principalArn: `arn:aws:iam::${ACCOUNT}:role/deployer`,
      username: 'deploy:{{SessionName}}:{{AccountID}}',
      kubernetesGroups: ['deployers'],
    }),
  );
  await eks.send(
    new AssociateAccessPolicyCommand({
      clusterName: 'prod',
      principalArn: `arn:aws:iam::${ACCOUNT}:role/deployer`,
      policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy',
      accessScope: { type: 'namespace', namespaces: ['prod'] },
    }),
  );
});
afterAll(async () => {
  await local.stop();
  rmSync(temp, { recursive: true, force: true });
});

/** An EKS token as aws-iam-authenticator's client makes one, with knobs to spoil it. */
async function token(
  options: {
    credentials?: Creds;
    cluster?: string;
    host?: string;
    signingDate?: Date;
    extraQuery?: Record<string, string>;
    signClusterHeader?: boolean;
    scheme?: 'https' | 'http';
  } = {},
): Promise<string> {
  const host = options.host ?? 'sts.us-east-1.amazonaws.com';
  const headers: Record<string, string> = { host };
  if (options.signClusterHeader !== false) headers['x-k8s-aws-id'] = options.cluster ?? 'prod';
  const request = await signer('sts', 'us-east-1', options.credentials ?? ADMIN).presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname: host,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15', ...options.extraQuery },
      headers,
    },
    { expiresIn: 60, ...(options.signingDate ? { signingDate: options.signingDate } : {}) },
  );
  const query = new URLSearchParams(request.query as Record<string, string>).toString();
  return `k8s-aws-v1.${Buffer.from(`${options.scheme ?? 'https'}://${host}/?${query}`).toString('base64url')}`;
}

/** GET a path of a cluster's Kubernetes API with a bearer token. */
function kube(cluster: string, bearer: string | undefined, path = '/version') {
  return rawRequest(`${local.admin.eks.endpoint(cluster)}${path}`, {
    ca,
    headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` },
  });
}

const refusalsSince = (count: number) => local.admin.eks.authenticationRefusals().slice(count);

describe('tokens, checked as aws-iam-authenticator and STS check them', () => {
  test('a token for this cluster is accepted, and the call is in the op log under its identity', async () => {
    const before = local.admin.eks.authenticationRefusals().length;
    const res = await kube('prod', await token());
    expect(res.status).not.toBe(401);
    expect(refusalsSince(before)).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    const calls = local.opLog.entries({ service: 'eks' }).filter((e) => e.operation.startsWith('k8s:'));
    expect(calls.at(-1)).toMatchObject({ identityArn: `arn:aws:iam::${ACCOUNT}:root`, status: res.status });
  });

  test.each([
    [
      'expired (X-Amz-Date 16 minutes old)',
      { signingDate: new Date(Date.now() - 16 * 60_000) },
      /^X-Amz-Date parameter is expired \(15 minute expiration\)$/,
    ],
    ['for another cluster (x-k8s-aws-id)', { cluster: 'staging' }, /SignatureDoesNotMatch/],
    [
      'on a host that is not STS',
      { host: 'sts.amazonaws.com.example.org' },
      /unexpected hostname "sts\.amazonaws\.com\.example\.org"/,
    ],
    [
      'with an extra query key',
      { extraQuery: { 'X-Amz-Extra': 'yes' } },
      /non-whitelisted query parameter "X-Amz-Extra"/,
    ],
    ['without x-k8s-aws-id signed', { signClusterHeader: false }, /did not sign the x-k8s-aws-id header/],
    [
      'of an unmapped principal',
      { credentials: STRANGER },
      /^ARN is not mapped: arn:aws:iam::000000000000:user\/stranger$/,
    ],
  ] as const)('a token %s is refused 401, and logged', async (_what, options, reason) => {
    const before = local.admin.eks.authenticationRefusals().length;
    const logged = local.opLog.entries({ service: 'eks', operation: 'k8s:authenticate' }).length;
    const res = await kube('prod', await token(options));
    expect(res.status).toBe(401);
    expect(res.json()).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Unauthorized',
      reason: 'Unauthorized',
      code: 401,
    });
    expect(refusalsSince(before)).toEqual([
      expect.objectContaining({ clusterName: 'prod', reason: expect.stringMatching(reason) }),
    ]);
    const entries = local.opLog.entries({ service: 'eks', operation: 'k8s:authenticate' });
    expect(entries).toHaveLength(logged + 1);
    expect(entries.at(-1)).toMatchObject({ status: 401, errorCode: 'Unauthorized' });
  });

  test("a token presigned against local-aws's own STS endpoint (HTTP or HTTPS) is accepted; another loopback port is not", async () => {
    const before = local.admin.eks.authenticationRefusals().length;
    const own = new URL(local.endpoint).host;
    expect((await kube('prod', await token({ host: own, scheme: 'http' }))).status).not.toBe(401);
    expect((await kube('prod', await token({ host: new URL(local.httpsUrl).host }))).status).not.toBe(401);
    expect(refusalsSince(before)).toEqual([]);
    expect((await kube('prod', await token({ host: '127.0.0.1:1', scheme: 'http' }))).status).toBe(401);
    expect(refusalsSince(before).map((r) => r.reason)).toEqual([
      'unexpected hostname "127.0.0.1" in pre-signed URL',
    ]);
  });

  test('a tampered signature, a token of another type, and no token are refused 401', async () => {
    const good = await token();
    const url = Buffer.from(good.slice('k8s-aws-v1.'.length), 'base64url').toString('utf8');
    const tampered = url.replace(
      /X-Amz-Signature=([0-9a-f]+)/,
      (_m, sig: string) => `X-Amz-Signature=${sig.slice(0, -1)}${sig.endsWith('0') ? '1' : '0'}`,
    );
    const before = local.admin.eks.authenticationRefusals().length;
    expect((await kube('prod', `k8s-aws-v1.${Buffer.from(tampered).toString('base64url')}`)).status).toBe(
      401,
    );
    expect((await kube('prod', 'not-a-token')).status).toBe(401);
    expect((await kube('prod', undefined)).status).toBe(401);
    expect(refusalsSince(before).map((r) => r.reason)).toEqual([
      expect.stringMatching(/SignatureDoesNotMatch/),
      'token is not of type k8s-aws-v1',
      'no bearer token',
    ]);
  });

  test("faults armed for eks/k8s answer after authentication in the apiserver's terms, and are logged", async () => {
    local.faults.arm({ kind: 'throttling', service: 'eks', operation: 'k8s', count: 1 });
    local.faults.arm({ kind: 'unavailable', service: 'eks', operation: 'k8s', count: 1 });
    // A refused token is refused before any fault.
    expect((await kube('prod', await token({ credentials: STRANGER }))).status).toBe(401);
    const throttled = await kube('prod', await token());
    expect(throttled.status).toBe(429);
    expect(throttled.headers['retry-after']).toBe('1');
    expect(throttled.json()).toMatchObject({ kind: 'Status', reason: 'TooManyRequests', code: 429 });
    const unavailable = await kube('prod', await token());
    expect(unavailable.status).toBe(503);
    expect(unavailable.json()).toMatchObject({ reason: 'ServiceUnavailable', code: 503 });
    expect((await kube('prod', await token())).status).not.toBe(503);
    expect(local.opLog.entries({ service: 'eks', operation: 'k8s' }).slice(-2)).toMatchObject([
      { status: 429, errorCode: 'TooManyRequests', identityArn: `arn:aws:iam::${ACCOUNT}:root` },
      { status: 503, errorCode: 'ServiceUnavailable', identityArn: `arn:aws:iam::${ACCOUNT}:root` },
    ]);
  });

  test('the endpoint is HTTPS only, as the apiserver is', async () => {
    const plain = local.admin.eks.endpoint('prod').replace(local.httpsUrl, local.httpUrl);
    const res = await rawRequest(`${plain}/version`, {
      headers: { authorization: `Bearer ${await token()}` },
    });
    expect(res.status).toBe(400);
    expect(res.body).toBe('Client sent an HTTP request to an HTTPS server.\n');
  });

  test('an assumed-role session maps through its role access entry, its username templated', async () => {
    const res = await kube('prod', await token({ credentials: DEPLOYER }));
    expect(res.status).not.toBe(401);
    const state = local.admin.eks.snapshot().regions[`${ACCOUNT}/us-east-1`]!['prod']!;
    const user = mapIdentity(state, local.admin.eks.kubernetes('prod')!.store, {
      accountId: ACCOUNT,
      arn: DEPLOYER.arn,
      userId: DEPLOYER.userId,
      accessKeyId: DEPLOYER.accessKeyId,
    });
    // {{SessionName}} has '@' as '-', as the authenticator renders it.
    expect(user).toMatchObject({
      username: 'deploy:github-actions-acme:000000000000',
      groups: ['deployers'],
    });
  });
});

describe('the aws-auth ConfigMap and the authentication modes', () => {
  const configMaps = findByPath('', 'v1', 'configmaps')!;
  const writeAwsAuth = (cluster: string, data: Record<string, string>) => {
    const store = local.admin.eks.kubernetes(cluster)!.store;
    const existing = store.get(configMaps, 'kube-system', 'aws-auth');
    if (existing) store.update(configMaps, { ...existing, data });
    else
      store.create(configMaps, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'aws-auth', namespace: 'kube-system' },
        data,
      });
  };
  const stateOf = (cluster: string) => local.admin.eks.snapshot().regions[`${ACCOUNT}/us-east-1`]![cluster]!;

  test('CONFIG_MAP: mapUsers and mapRoles (matched without the path), and the creator as kubernetes-admin', async () => {
    expect((await kube('legacy', await token({ cluster: 'legacy', credentials: OPERATOR }))).status).toBe(
      401,
    );
    writeAwsAuth('legacy', {
      mapRoles: `- rolearn: arn:aws:iam::${ACCOUNT}:role/deployer\n  username: ci:{{SessionName}}\n  groups:\n    - system:masters\n`,
      mapUsers: `- userarn: arn:aws:iam::${ACCOUNT}:user/operator\n  username: operator\n  groups: [viewers]\n`,
    });
    expect((await kube('legacy', await token({ cluster: 'legacy', credentials: OPERATOR }))).status).not.toBe(
      401,
    );
    expect((await kube('legacy', await token({ cluster: 'legacy', credentials: DEPLOYER }))).status).not.toBe(
      401,
    );
    const store = local.admin.eks.kubernetes('legacy')!.store;
    const identity = (c: { accessKeyId: string; arn: string }) => ({
      accountId: ACCOUNT,
      arn: c.arn,
      userId: 'AID',
      accessKeyId: c.accessKeyId,
    });
    expect(mapIdentity(stateOf('legacy'), store, identity(DEPLOYER))).toMatchObject({
      username: 'ci:github-actions-acme',
      groups: ['system:masters'],
    });
    expect(mapIdentity(stateOf('legacy'), store, identity(OPERATOR))).toMatchObject({
      username: 'operator',
      groups: ['viewers'],
    });
    expect(
      mapIdentity(stateOf('legacy'), store, {
        accountId: ACCOUNT,
        arn: `arn:aws:iam::${ACCOUNT}:root`,
        userId: ACCOUNT,
        accessKeyId: 'test',
      }),
    ).toMatchObject({ username: 'kubernetes-admin', groups: ['system:masters'] });
  });

  test('API mode ignores aws-auth; API_AND_CONFIG_MAP reads it when there is no access entry', async () => {
    const mapping = {
      mapUsers: `- userarn: arn:aws:iam::${ACCOUNT}:user/stranger\n  username: stranger\n  groups: []\n`,
    };
    writeAwsAuth('api-only', mapping);
    expect((await kube('api-only', await token({ cluster: 'api-only', credentials: STRANGER }))).status).toBe(
      401,
    );
    writeAwsAuth('staging', mapping);
    expect(
      (await kube('staging', await token({ cluster: 'staging', credentials: STRANGER }))).status,
    ).not.toBe(401);
  });
});

describe('access policies as Kubernetes rights (KubernetesHost.authorize)', () => {
  const prodState = () => local.admin.eks.snapshot().regions[`${ACCOUNT}/us-east-1`]!['prod']!;
  const user = (canonicalArn: string, groups: string[] = []) => ({
    username: 'u',
    groups,
    extra: { canonicalArn: [canonicalArn] },
  });
  const ask = (
    who: ReturnType<typeof user>,
    verb: string,
    group: string,
    resource: string,
    namespace?: string,
    subresource?: string,
  ): AccessRequest => ({
    user: who,
    verb,
    group,
    resource,
    ...(namespace ? { namespace } : {}),
    ...(subresource ? { subresource } : {}),
  });

  test('AmazonEKSEditPolicy scoped to prod: workloads and secrets in prod, nothing elsewhere, never RBAC', () => {
    const deployer = user(`arn:aws:iam::${ACCOUNT}:role/deployer`, ['deployers']);
    const s = prodState();
    expect(authorize(s, ask(deployer, 'patch', 'apps', 'deployments', 'prod'))).toBe(true);
    expect(authorize(s, ask(deployer, 'get', '', 'secrets', 'prod'))).toBe(true);
    expect(authorize(s, ask(deployer, 'get', '', 'pods', 'prod', 'log'))).toBe(true);
    expect(authorize(s, ask(deployer, 'patch', 'apps', 'deployments', 'dev'))).toBe(false);
    expect(authorize(s, ask(deployer, 'list', '', 'pods'))).toBe(false);
    expect(authorize(s, ask(deployer, 'create', 'rbac.authorization.k8s.io', 'rolebindings', 'prod'))).toBe(
      false,
    );
    expect(authorize(s, ask(deployer, 'list', '', 'nodes'))).toBe(false);
    // A namespace's own object is in that namespace for a namespace scope.
    expect(authorize(s, { ...ask(deployer, 'get', '', 'namespaces'), name: 'prod' })).toBe(true);
    expect(authorize(s, { ...ask(deployer, 'get', '', 'namespaces'), name: 'dev' })).toBe(false);
    expect(authorize(s, ask(deployer, 'list', '', 'namespaces'))).toBe(false);
    // Every authenticated user may ask what it may do (kubectl auth can-i) and read discovery.
    expect(authorize(s, ask(deployer, 'create', 'authorization.k8s.io', 'selfsubjectaccessreviews'))).toBe(
      true,
    );
  });

  test('the creator (AmazonEKSClusterAdminPolicy) and system:masters may do anything; a group without RBAC nothing', () => {
    const s = prodState();
    expect(authorize(s, ask(user(`arn:aws:iam::${ACCOUNT}:root`), 'delete', '', 'nodes'))).toBe(true);
    expect(
      authorize(
        s,
        ask(user('arn:aws:iam::111122223333:user/x', ['system:masters']), 'delete', '', 'namespaces'),
      ),
    ).toBe(true);
    expect(
      authorize(s, ask(user('arn:aws:iam::111122223333:user/x', ['developers']), 'get', '', 'pods', 'prod')),
    ).toBe(false);
  });

  test('View reads but never secrets; Admin writes anything namespaced in its namespaces', async () => {
    const eks = new EKSClient({
      endpoint: local.endpoint,
      region: 'us-east-1',
      credentials: ADMIN,
      maxAttempts: 1,
    });
    const viewer = `arn:aws:iam::${ACCOUNT}:role/viewer`;
    const admin = `arn:aws:iam::${ACCOUNT}:role/team-admin`;
    const grants: Array<[string, string, AccessScope]> = [
      [viewer, 'AmazonEKSViewPolicy', { type: 'cluster' }],
      [admin, 'AmazonEKSAdminPolicy', { type: 'namespace', namespaces: ['team-*'] }],
    ];
    for (const [principalArn, policy, scope] of grants) {
      await eks.send(new CreateAccessEntryCommand({ clusterName: 'prod', principalArn }));
      await eks.send(
        new AssociateAccessPolicyCommand({
          clusterName: 'prod',
          principalArn,
          policyArn: `arn:aws:eks::aws:cluster-access-policy/${policy}`,
          accessScope: scope,
        }),
      );
    }
    const s = prodState();
    expect(authorize(s, ask(user(viewer), 'list', 'apps', 'deployments'))).toBe(true);
    expect(authorize(s, ask(user(viewer), 'watch', '', 'pods', 'prod'))).toBe(true);
    expect(authorize(s, ask(user(viewer), 'get', '', 'secrets', 'prod'))).toBe(false);
    expect(authorize(s, ask(user(viewer), 'patch', 'apps', 'deployments', 'prod'))).toBe(false);
    expect(
      authorize(s, ask(user(admin), 'delete', 'rbac.authorization.k8s.io', 'rolebindings', 'team-a')),
    ).toBe(true);
    expect(authorize(s, ask(user(admin), 'create', '', 'secrets', 'team-b'))).toBe(true);
    expect(authorize(s, ask(user(admin), 'create', '', 'secrets', 'prod'))).toBe(false);
    expect(authorize(s, ask(user(admin), 'delete', '', 'nodes'))).toBe(false);
  });
});

describe('kubectl and the AWS CLI as judges', () => {
  const cliEnv = (creds: Creds) => ({
    PATH: '/usr/bin:/bin',
    HOME: temp,
    KUBECACHEDIR: join(temp, `cache-${creds.accessKeyId}`),
    AWS_ACCESS_KEY_ID: creds.accessKeyId,
    AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
    ...(creds.sessionToken ? { AWS_SESSION_TOKEN: creds.sessionToken } : {}),
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  });
  const exec = async (file: string, args: string[], env: Record<string, string>) => {
    try {
      const out = await run(file, args, { env, timeout: 60_000 });
      return { code: 0, stdout: out.stdout, stderr: out.stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  };

  withCliAndKubectl(
    '`aws eks get-token` makes a token the endpoint accepts',
    async () => {
      const out = await exec(AWS_CLI, ['eks', 'get-token', '--cluster-name', 'prod'], cliEnv(ADMIN));
      const credential = JSON.parse(out.stdout) as { kind: string; status: { token: string } };
      expect(credential.kind).toBe('ExecCredential');
      const before = local.admin.eks.authenticationRefusals().length;
      expect((await kube('prod', credential.status.token)).status).not.toBe(401);
      expect(refusalsSince(before)).toEqual([]);
      // The same token is another cluster's refusal: it was signed for prod.
      expect((await kube('staging', credential.status.token)).status).toBe(401);
    },
    60_000,
  );

  withCliAndKubectl(
    '`aws eks update-kubeconfig`, then kubectl through its exec plugin: the creator is in, a stranger must log in',
    async () => {
      const kubeconfig = join(temp, 'kubeconfig');
      const updated = await exec(
        AWS_CLI,
        [
          'eks',
          'update-kubeconfig',
          '--name',
          'prod',
          '--kubeconfig',
          kubeconfig,
          '--endpoint-url',
          local.endpoint,
        ],
        cliEnv(ADMIN),
      );
      expect(updated.stdout).toContain(`Added new context arn:aws:eks:us-east-1:${ACCOUNT}:cluster/prod`);
      expect(readFileSync(kubeconfig, 'utf8')).toContain(`server: ${local.admin.eks.endpoint('prod')}`);

      const before = local.admin.eks.authenticationRefusals().length;
      const calls = local.opLog.entries({
        service: 'eks',
        identityArn: `arn:aws:iam::${ACCOUNT}:root`,
      }).length;
      const admin = await exec(
        KUBECTL,
        ['--kubeconfig', kubeconfig, 'get', 'namespaces', '--request-timeout=20s'],
        cliEnv(ADMIN),
      );
      expect(admin.stderr).not.toContain('You must be logged in');
      expect(refusalsSince(before)).toEqual([]);
      expect(
        local.opLog.entries({ service: 'eks', identityArn: `arn:aws:iam::${ACCOUNT}:root` }).length,
      ).toBeGreaterThan(calls);

      const stranger = await exec(
        KUBECTL,
        ['--kubeconfig', kubeconfig, 'get', 'pods', '--request-timeout=20s'],
        cliEnv(STRANGER),
      );
      expect(stranger.code).not.toBe(0);
      expect(stranger.stderr).toContain(
        'error: You must be logged in to the server (the server has asked for the client to provide credentials)',
      );
      expect(
        refusalsSince(before).every(
          (r) => r.reason === `ARN is not mapped: arn:aws:iam::${ACCOUNT}:user/stranger`,
        ),
      ).toBe(true);
    },
    120_000,
  );

  withCliAndKubectl(
    "kubectl as a session with AmazonEKSEditPolicy in prod: can-i, the apiserver's 403 elsewhere, each call in the op log",
    async () => {
      const bearer = await token({ credentials: DEPLOYER });
      const kubectl = (...args: string[]) =>
        exec(
          KUBECTL,
          [
            '--server',
            local.admin.eks.endpoint('prod'),
            '--certificate-authority',
            local.caCertPath,
            '--token',
            bearer,
            '--request-timeout=20s',
            ...args,
          ],
          cliEnv(DEPLOYER),
        );
      expect((await kubectl('auth', 'can-i', 'patch', 'deployments.apps', '-n', 'prod')).stdout.trim()).toBe(
        'yes',
      );
      expect((await kubectl('auth', 'can-i', 'patch', 'deployments.apps', '-n', 'dev')).stdout.trim()).toBe(
        'no',
      );
      expect(
        (
          await kubectl('auth', 'can-i', 'create', 'rolebindings.rbac.authorization.k8s.io', '-n', 'prod')
        ).stdout.trim(),
      ).toBe('no');
      const denied = await kubectl('get', 'pods', '-n', 'dev');
      expect(denied.code).not.toBe(0);
      expect(denied.stderr).toContain(
        'Error from server (Forbidden): pods is forbidden: User "deploy:github-actions-acme:000000000000" cannot list resource "pods" in API group "" in the namespace "dev"',
      );
      const allowed = await kubectl('get', 'pods', '-n', 'prod');
      expect(allowed.stderr).toContain('No resources found in prod namespace.');
      await new Promise((resolve) => setTimeout(resolve, 50));
      const calls = local.opLog.entries({ service: 'eks', identityArn: DEPLOYER.arn });
      expect(calls).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ operation: 'k8s:list pods', status: 403 }),
          expect.objectContaining({ operation: 'k8s:list pods', status: 200 }),
        ]),
      );
    },
    120_000,
  );

  const tamper = async () => {
    const url = Buffer.from((await token()).slice('k8s-aws-v1.'.length), 'base64url').toString('utf8');
    const spoiled = url.replace(
      /X-Amz-Signature=([0-9a-f]+)/,
      (_m, sig: string) => `X-Amz-Signature=${sig.slice(0, -1)}${sig.endsWith('0') ? '1' : '0'}`,
    );
    return `k8s-aws-v1.${Buffer.from(spoiled).toString('base64url')}`;
  };
  const spoiled: Array<[string, () => Promise<string>, RegExp]> = [
    ['expired', () => token({ signingDate: new Date(Date.now() - 16 * 60_000) }), /expired/],
    ['tampered', tamper, /SignatureDoesNotMatch/],
    ["another cluster's", () => token({ cluster: 'staging' }), /SignatureDoesNotMatch/],
    ['unmapped', () => token({ credentials: STRANGER }), /ARN is not mapped/],
    ['non-STS host', () => token({ host: 'example.org' }), /unexpected hostname/],
    ['extra query key', () => token({ extraQuery: { Extra: '1' } }), /non-whitelisted/],
  ];
  for (const [what, make, reason] of spoiled) {
    withCliAndKubectl(
      `kubectl with a static ${what} token must log in`,
      async () => {
        const before = local.admin.eks.authenticationRefusals().length;
        const out = await exec(
          KUBECTL,
          [
            '--server',
            local.admin.eks.endpoint('prod'),
            '--certificate-authority',
            local.caCertPath,
            '--token',
            await make(),
            'get',
            'deployments',
            '-n',
            'prod',
            '--request-timeout=20s',
          ],
          cliEnv(ADMIN),
        );
        expect(out.code).not.toBe(0);
        // kubectl words a 401 as client-go's message when discovery fails on it, or as the
        // Status's message once discovery is cached: a real apiserver gets both.
        expect(out.stderr).toMatch(
          /error: You must be logged in to the server \((Unauthorized|the server has asked for the client to provide credentials)\)/,
        );
        const refusals = refusalsSince(before);
        expect(refusals.length).toBeGreaterThan(0);
        for (const refusal of refusals) expect(refusal.reason).toMatch(reason);
      },
      60_000,
    );
  }

  withCliAndKubectl(
    "@kubernetes/client-node with update-kubeconfig's kubeconfig: the exec plugin's token gets in, CA and path prefix included",
    async () => {
      const kubeconfig = join(temp, 'kubeconfig-client-node');
      await exec(
        AWS_CLI,
        [
          'eks',
          'update-kubeconfig',
          '--name',
          'prod',
          '--kubeconfig',
          kubeconfig,
          '--endpoint-url',
          local.endpoint,
        ],
        cliEnv(ADMIN),
      );
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfig);
      const user = kc.getCurrentUser()!;
      // The exec plugin runs with the credentials of the session at hand (here: the deployer's).
      const env = Object.entries(cliEnv(DEPLOYER)).map(([name, value]) => ({ name, value }));
      kc.users = kc.users.map((u) =>
        u.name === user.name ? { ...u, exec: { ...u.exec, command: AWS_CLI, env } } : u,
      );
      const before = local.admin.eks.authenticationRefusals().length;
      const core = kc.makeApiClient(CoreV1Api);
      const pods = await core.listNamespacedPod({ namespace: 'prod' });
      expect(pods.items).toEqual([]);
      await expect(core.listNamespacedPod({ namespace: 'dev' })).rejects.toMatchObject({ code: 403 });
      expect(refusalsSince(before)).toEqual([]);
    },
    120_000,
  );

  withCliAndKubectl(
    'CONFIG_MAP: the creator applies aws-auth with kubectl, then the user it maps gets in',
    async () => {
      const kubeconfig = join(temp, 'kubeconfig-legacy');
      await exec(
        AWS_CLI,
        [
          'eks',
          'update-kubeconfig',
          '--name',
          'legacy',
          '--kubeconfig',
          kubeconfig,
          '--endpoint-url',
          local.endpoint,
        ],
        cliEnv(ADMIN),
      );
      const operator = { accessKeyId: OPERATOR.accessKeyId, secretAccessKey: OPERATOR.secretAccessKey };
      const manifest = join(temp, 'aws-auth.yaml');
      writeFileSync(
        manifest,
        [
          'apiVersion: v1',
          'kind: ConfigMap',
          'metadata:',
          '  name: aws-auth',
          '  namespace: kube-system',
          'data:',
          '  mapUsers: |',
          `    - userarn: arn:aws:iam::${ACCOUNT}:user/operator`,
          '      username: operator',
          '      groups: [system:masters]',
          '',
        ].join('\n'),
      );
      const applied = await exec(
        KUBECTL,
        [
          '--kubeconfig',
          kubeconfig,
          'apply',
          '--server-side',
          '--force-conflicts',
          '-f',
          manifest,
          '--request-timeout=20s',
        ],
        cliEnv(ADMIN),
      );
      expect(applied.stderr).toBe('');
      expect(applied.stdout).toContain('configmap/aws-auth serverside-applied');
      const listed = await exec(
        KUBECTL,
        ['--kubeconfig', kubeconfig, 'get', 'namespaces', '-o', 'name', '--request-timeout=20s'],
        cliEnv(operator),
      );
      expect(listed.stderr).toBe('');
      expect(listed.stdout).toContain('namespace/kube-system');
    },
    120_000,
  );
});
