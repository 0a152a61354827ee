// OIDC as every AWS workflow starts: the runner's token service (test/helpers/oidc.ts, a stand-in of
// GitHub's) hands a job an ID token, and local-aws's STS exchanges it for a role's credentials with
// AssumeRoleWithWebIdentity — after verifying the JWT against the issuer's published keys and the
// role's trust policy on the token's aud and sub, as GitHub's documentation writes it. Judged by
// @actions/core's own getIDToken() (from node_modules, in a child process with the two
// ACTIONS_ID_TOKEN_* variables), the AWS CLI v2, boto3 and the AWS SDK v3.
import { AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalAws, type LocalAws } from '@aws-containers/local-aws';
import { awsCli, Boto3Judge, withBoto3, withCli } from '../packages/local-aws/test/helpers/query-judges.js';
import { GITHUB_ISSUER, startOidcStandIn, type OidcStandIn } from './helpers/oidc.js';
import { iamQuery } from '../packages/local-aws/test/helpers/iam-query.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ACCOUNT = '000000000000';
const ADMIN = { accessKeyId: 'test', secretAccessKey: 'test' };
const PROVIDER_ARN = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/github-deployer`;
/** The trust policy of GitHub's guide "Configuring OpenID Connect in Amazon Web Services". */
const githubTrust = (providerArn: string, prefix: string, sub: string) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: providerArn },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: { [`${prefix}:aud`]: 'sts.amazonaws.com' },
          StringLike: { [`${prefix}:sub`]: sub },
        },
      },
    ],
  });

let aws: LocalAws;
let github: OidcStandIn;
let judge: Boto3Judge | undefined;

const iam = (action: string, params: Record<string, string>) => iamQuery(aws.endpoint, action, params);

/** What the runner does for a step: @actions/core's getIDToken(audience), in its own process. */
function getIDToken(
  env: Record<string, string>,
  audience?: string,
): Promise<{ token?: string; stdout: string; stderr: string }> {
  const program = [
    "import * as core from '@actions/core';",
    'try {',
    '  const token = await core.getIDToken(process.argv[1] || undefined);',
    "  process.stdout.write('TOKEN ' + token + '\\n');",
    '} catch (e) { process.stderr.write(String(e.message)); process.exit(1); }',
  ].join('\n');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', program, audience ?? ''], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', () => {
      const line = stdout.split('\n').find((l) => l.startsWith('TOKEN '));
      resolve({ ...(line ? { token: line.slice(6) } : {}), stdout, stderr });
    });
  });
}

const claimsOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
const sts = () =>
  new STSClient({ endpoint: aws.endpoint, region: 'us-east-1', credentials: ADMIN, maxAttempts: 1 });
const exchange = (token: string, roleArn = ROLE_ARN) =>
  sts().send(
    new AssumeRoleWithWebIdentityCommand({
      RoleArn: roleArn,
      RoleSessionName: 'gh-run',
      WebIdentityToken: token,
    }),
  );
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => ({ name: 'no error', message: '', $metadata: { httpStatusCode: 0 } }),
    (e: { name: string; message: string; $metadata: { httpStatusCode: number } }) => e,
  );

beforeAll(async () => {
  github = await startOidcStandIn({ issuer: GITHUB_ISSUER });
  aws = await startLocalAws({ oidcIssuers: { [GITHUB_ISSUER]: github.url } });
  await iam('CreateOpenIDConnectProvider', {
    Url: GITHUB_ISSUER,
    'ClientIDList.member.1': 'sts.amazonaws.com',
  });
  await iam('CreateRole', {
    RoleName: 'github-deployer',
    AssumeRolePolicyDocument: githubTrust(
      PROVIDER_ARN,
      'token.actions.githubusercontent.com',
      'repo:octo-org/octo-repo:*',
    ),
  });
  await iam('PutRolePolicy', {
    RoleName: 'github-deployer',
    PolicyName: 'deploy',
    PolicyDocument: JSON.stringify({
      Statement: [
        { Effect: 'Allow', Action: 'ecs:UpdateService', Resource: `arn:aws:ecs:*:${ACCOUNT}:service/prod/*` },
      ],
    }),
  });
});
afterAll(async () => {
  await judge?.close();
  await aws?.stop();
  await github?.stop();
});

describe('the token service stand-in', () => {
  test("@actions/core's getIDToken() gets GitHub's claims for the audience it asks for", async () => {
    const got = await getIDToken(github.env, 'sts.amazonaws.com');
    expect(got.stderr).toBe('');
    expect(got.stdout).toContain(`::add-mask::${got.token}`);
    const claims = claimsOf(got.token!);
    expect(claims).toMatchObject({
      iss: GITHUB_ISSUER,
      aud: 'sts.amazonaws.com',
      sub: 'repo:octo-org/octo-repo:ref:refs/heads/main',
      repository: 'octo-org/octo-repo',
      repository_owner: 'octo-org',
      ref: 'refs/heads/main',
      sha: 'a'.repeat(40),
      workflow: 'release',
      event_name: 'push',
      run_id: '1234567890',
      job_workflow_ref: 'octo-org/octo-repo/.github/workflows/release.yml@refs/heads/main',
    });
    expect((claims.exp as number) - (claims.iat as number)).toBe(300);
    // Without an audience, GitHub's default: the owner's URL.
    expect(claimsOf((await getIDToken(github.env)).token!).aud).toBe('https://github.com/octo-org');
    // A wrong request token is refused, and getIDToken says so.
    const refused = await getIDToken(
      { ...github.env, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'not-it' },
      'sts.amazonaws.com',
    );
    expect(refused.token).toBeUndefined();
    expect(refused.stderr).toContain('Failed to get ID Token');
    expect(github.requests.slice(-3)).toEqual([
      { audience: 'sts.amazonaws.com', status: 200 },
      { audience: undefined, status: 200 },
      { audience: 'sts.amazonaws.com', status: 401 },
    ]);
  });

  test('it publishes its discovery document and keys as token.actions.githubusercontent.com does', async () => {
    const config = (await (await fetch(`${github.url}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    expect(config).toMatchObject({
      issuer: GITHUB_ISSUER,
      jwks_uri: `${GITHUB_ISSUER}/.well-known/jwks`,
      id_token_signing_alg_values_supported: ['RS256'],
    });
    const jwks = (await (await fetch(`${github.url}/.well-known/jwks`)).json()) as {
      keys: Array<Record<string, unknown>>;
    };
    expect(jwks.keys).toEqual([
      expect.objectContaining({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: expect.any(String) }),
    ]);
  });
});

describe('AssumeRoleWithWebIdentity', () => {
  test("the token from getIDToken() becomes the role's credentials, which carry its policy (AWS SDK v3)", async () => {
    const { token } = await getIDToken(github.env, 'sts.amazonaws.com');
    const out = await exchange(token!);
    expect(out).toMatchObject({
      SubjectFromWebIdentityToken: 'repo:octo-org/octo-repo:ref:refs/heads/main',
      Audience: 'sts.amazonaws.com',
      Provider: PROVIDER_ARN,
      AssumedRoleUser: {
        Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/github-deployer/gh-run`,
        AssumedRoleId: expect.stringMatching(/^AROA[A-Z2-7]{17}:gh-run$/),
      },
    });
    const credentials = {
      accessKeyId: out.Credentials!.AccessKeyId!,
      secretAccessKey: out.Credentials!.SecretAccessKey!,
      sessionToken: out.Credentials!.SessionToken!,
    };
    expect(credentials.accessKeyId).toMatch(/^ASIA/);
    const whoami = new STSClient({
      endpoint: aws.endpoint,
      region: 'us-east-1',
      credentials,
      maxAttempts: 1,
    });
    expect((await whoami.send(new GetCallerIdentityCommand({}))).Arn).toBe(
      `arn:aws:sts::${ACCOUNT}:assumed-role/github-deployer/gh-run`,
    );
    const ecs = new ECSClient({ endpoint: aws.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    expect(
      (await failure(ecs.send(new UpdateServiceCommand({ cluster: 'prod', service: 'web' })))).name,
    ).toBe('ClusterNotFoundException');
    expect((await failure(ecs.send(new UpdateServiceCommand({ cluster: 'dev', service: 'web' })))).name).toBe(
      'AccessDeniedException',
    );
    expect(aws.opLog.entries({ operation: 'AssumeRoleWithWebIdentity' }).at(-1)).toMatchObject({
      status: 200,
      iam: [
        { action: 'sts:AssumeRoleWithWebIdentity', resource: ROLE_ARN, allowed: true, decision: 'allow' },
      ],
    });
  });

  withCli(
    'the AWS CLI v2: aws sts assume-role-with-web-identity --web-identity-token …',
    async () => {
      const token = github.mint('sts.amazonaws.com');
      const out = await awsCli({ endpoint: aws.endpoint, credentials: ADMIN }, [
        'sts',
        'assume-role-with-web-identity',
        '--role-arn',
        ROLE_ARN,
        '--role-session-name',
        'cli',
        '--web-identity-token',
        token,
      ]);
      expect([out.code, out.stderr]).toEqual([0, '']);
      expect(out.json).toMatchObject({
        SubjectFromWebIdentityToken: 'repo:octo-org/octo-repo:ref:refs/heads/main',
        Audience: 'sts.amazonaws.com',
        Provider: PROVIDER_ARN,
        AssumedRoleUser: { Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/github-deployer/cli` },
      });
      const c = out.json.Credentials as Record<string, string>;
      const who = await awsCli(
        {
          endpoint: aws.endpoint,
          credentials: {
            accessKeyId: c.AccessKeyId!,
            secretAccessKey: c.SecretAccessKey!,
            sessionToken: c.SessionToken!,
          },
        },
        ['sts', 'get-caller-identity'],
      );
      expect(who.json.Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/github-deployer/cli`);
      // The trust policy keeps another repository out, in STS's words.
      const other = await startOidcStandIn({ issuer: GITHUB_ISSUER, run: { repository: 'octo-org/other' } });
      try {
        aws.admin.iam.routeIssuer(GITHUB_ISSUER, other.url);
        const denied = await awsCli({ endpoint: aws.endpoint, credentials: ADMIN }, [
          'sts',
          'assume-role-with-web-identity',
          '--role-arn',
          ROLE_ARN,
          '--role-session-name',
          'cli',
          '--web-identity-token',
          other.mint('sts.amazonaws.com'),
        ]);
        expect(denied.stderr.trim()).toBe(
          'An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity',
        );
      } finally {
        aws.admin.iam.routeIssuer(GITHUB_ISSUER, github.url);
        await other.stop();
      }
    },
    30_000,
  );

  withBoto3("boto3: STS's error codes for tokens it will not take", async () => {
    judge ??= new Boto3Judge();
    const target = { endpoint: aws.endpoint, credentials: ADMIN };
    const attempt = (token: string, roleArn = ROLE_ARN) =>
      judge!.error(target, 'sts', 'assume_role_with_web_identity', {
        RoleArn: roleArn,
        RoleSessionName: 'boto3',
        WebIdentityToken: token,
      });
    const now = Math.floor(Date.now() / 1000);
    expect(await attempt(github.mint('sigstore'))).toEqual({
      Code: 'InvalidIdentityToken',
      Message: 'Incorrect token audience',
      HTTPStatusCode: 400,
    });
    expect(
      await attempt(
        github.mint('sts.amazonaws.com', { claims: { iat: now - 900, nbf: now - 1500, exp: now - 600 } }),
      ),
    ).toEqual({
      Code: 'ExpiredTokenException',
      Message: expect.stringMatching(
        new RegExp(
          `^Token expired: current date/time \\d+ must be before the expiration date/time ${now - 600}$`,
        ),
      ),
      HTTPStatusCode: 400,
    });
    expect((await attempt(github.mint('sts.amazonaws.com', { foreignKey: true }))).Code).toBe(
      'InvalidIdentityToken',
    );
    expect(
      await attempt(github.mint('sts.amazonaws.com', { claims: { iss: 'https://issuer.example.com' } })),
    ).toEqual({
      Code: 'InvalidIdentityToken',
      Message: 'No OpenIDConnect provider found in your account for https://issuer.example.com',
      HTTPStatusCode: 400,
    });
    expect(await attempt('not.a-jwt')).toMatchObject({ Code: 'InvalidIdentityToken', HTTPStatusCode: 400 });
    expect(
      await attempt(
        github.mint('sts.amazonaws.com', { claims: { sub: 'repo:octo-org/other:ref:refs/heads/main' } }),
      ),
    ).toEqual({
      Code: 'AccessDenied',
      Message: 'Not authorized to perform sts:AssumeRoleWithWebIdentity',
      HTTPStatusCode: 403,
    });
    // The issuer's keys cannot be fetched: STS's words, two spaces and all.
    aws.admin.iam.routeIssuer(GITHUB_ISSUER, 'http://127.0.0.1:9');
    try {
      expect(await attempt(github.mint('sts.amazonaws.com'))).toEqual({
        Code: 'InvalidIdentityToken',
        Message:
          "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements",
        HTTPStatusCode: 400,
      });
    } finally {
      aws.admin.iam.routeIssuer(GITHUB_ISSUER, github.url);
    }
    const ok = await judge.call<{ AssumedRoleUser: { Arn: string } }>(
      target,
      'sts',
      'assume_role_with_web_identity',
      {
        RoleArn: ROLE_ARN,
        RoleSessionName: 'boto3',
        WebIdentityToken: github.mint('sts.amazonaws.com'),
      },
    );
    expect(ok.AssumedRoleUser.Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/github-deployer/boto3`);
  });

  test("an issuer on loopback HTTPS (its certificate from local-aws's CA) needs no route: the key prefix is its host", async () => {
    const local = await startOidcStandIn({ tls: aws.issueCertificate(), run: { environment: 'production' } });
    try {
      const host = new URL(local.url).host;
      await iam('CreateOpenIDConnectProvider', {
        Url: local.url,
        'ClientIDList.member.1': 'sts.amazonaws.com',
      });
      await iam('CreateRole', {
        RoleName: 'loopback-deployer',
        AssumeRolePolicyDocument: githubTrust(
          `arn:aws:iam::${ACCOUNT}:oidc-provider/${host}`,
          host,
          'repo:octo-org/octo-repo:environment:production',
        ),
      });
      // The runner's Node trusts the CA the way a self-hosted runner trusts a corporate one.
      const { token } = await getIDToken(
        { ...local.env, NODE_EXTRA_CA_CERTS: aws.caCertPath },
        'sts.amazonaws.com',
      );
      expect(claimsOf(token!)).toMatchObject({
        iss: local.url,
        sub: 'repo:octo-org/octo-repo:environment:production',
      });
      const out = await exchange(token!, `arn:aws:iam::${ACCOUNT}:role/loopback-deployer`);
      expect(out.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/loopback-deployer/gh-run`);
    } finally {
      await local.stop();
    }
  });
});
