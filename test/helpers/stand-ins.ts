// Stand-ins for the actions that are not this suite's, for the workflow runner
// (./workflow-runner.ts). Each sets what the real action sets, no more, so a README example that
// relies on something the action does not provide fails here as it would on GitHub:
//
// - actions/checkout: the workspace gets the files of a fixture repository (test/fixtures/<name>),
//   as checkout puts the repository's files there (`path:` puts them in a subfolder). No .git.
// - aws-actions/configure-aws-credentials: as its src/helpers.ts exportCredentials/exportRegion/
//   exportAccountId do — AWS_REGION and AWS_DEFAULT_REGION from `aws-region` (required);
//   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (cleared when there is none) in
//   the job's env, masked; the outputs `aws-account-id` and `authenticated-arn` from STS
//   GetCallerIdentity (asked of local-aws); with `output-credentials: true`, the credentials as
//   outputs too. Which credentials, as the action decides: with `role-to-assume` and a job that may
//   ask for an ID token (ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN, given for `id-token: write`) and no
//   keys in its inputs, it asks the runner's token service for a token (`audience`, default
//   sts.amazonaws.com) and exchanges it with STS AssumeRoleWithWebIdentity (`role-session-name`,
//   default GitHubActions; `role-duration-seconds`, default 3600): the role's session. With
//   `role-to-assume` and neither, it fails as the action does ("Could not load credentials from any
//   providers"). Without `role-to-assume`: the keys of its inputs, else local-aws's static keys.
// - docker/setup-buildx-action: the engine behind the docker CLI here (podman) has no BuildKit;
//   nothing to set up. It sets the output `name` (the builder) to `default`.
import { cpSync, existsSync } from 'node:fs';
import path from 'node:path';
import { AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { LocalAws } from '@aws-containers/local-aws';
import { repoRoot } from './action-runner.js';
import type { StandIn } from './workflow-runner.js';

/** The fixture repositories `actions/checkout` can check out, under test/fixtures/. */
export const FIXTURES = path.join(repoRoot, 'test', 'fixtures');

/** actions/checkout: the files of test/fixtures/<repository> in the workspace. */
export function checkout(repository: string): StandIn {
  const source = path.join(FIXTURES, repository);
  if (!existsSync(source)) throw new Error(`no fixture repository ${source}`);
  return async (call) => {
    const target = path.resolve(call.workspace, call.with.path ?? '');
    cpSync(source, target, { recursive: true });
    call.log(`checked out test/fixtures/${repository} into ${target}`);
    return {};
  };
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** The runner's token service, asked as @actions/core's getIDToken() asks it. */
async function idToken(env: Record<string, string>, audience: string): Promise<string> {
  const url = `${env.ACTIONS_ID_TOKEN_REQUEST_URL}&audience=${encodeURIComponent(audience)}`;
  const res = await fetch(url, {
    headers: { Authorization: `Bearer ${env.ACTIONS_ID_TOKEN_REQUEST_TOKEN}` },
    signal: AbortSignal.timeout(15_000),
  });
  if (!res.ok) throw new Error(`Failed to get ID Token. Error Code: ${res.status}`);
  const { value } = (await res.json()) as { value?: string };
  if (!value) throw new Error('Response json body do not have ID Token field');
  return value;
}

/** aws-actions/configure-aws-credentials: by OIDC for a role, or with static keys (above). */
export function configureAwsCredentials(aws: LocalAws): StandIn {
  return async (call) => {
    const region = call.with['aws-region'] ?? '';
    if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) {
      throw new Error(`Region is not valid: ${JSON.stringify(region)} (aws-region is required)`);
    }
    const role = call.with['role-to-assume'];
    if (role !== undefined && !ROLE_ARN.test(role)) {
      throw new Error(`role-to-assume is not a role ARN: ${JSON.stringify(role)}`);
    }
    const endpoint = call.env.AWS_ENDPOINT_URL;
    if (!endpoint) throw new Error('AWS_ENDPOINT_URL is not set on this runner: it points SDKs at local-aws');
    const keys = call.with['aws-access-key-id'];
    const canAskForToken =
      !!call.env.ACTIONS_ID_TOKEN_REQUEST_URL && !!call.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
    let credentials: Credentials;
    if (role && !keys && canAskForToken) {
      const token = await idToken(call.env, call.with.audience || 'sts.amazonaws.com');
      // AssumeRoleWithWebIdentity is not signed: the token is the credential.
      const sts = new STSClient({
        endpoint,
        region,
        credentials: { accessKeyId: 'unsigned', secretAccessKey: 'unsigned' },
        maxAttempts: 3,
      });
      try {
        const out = await sts.send(
          new AssumeRoleWithWebIdentityCommand({
            RoleArn: role,
            RoleSessionName: call.with['role-session-name'] || 'GitHubActions',
            WebIdentityToken: token,
            DurationSeconds: Number(call.with['role-duration-seconds'] || 3600),
          }),
          { abortSignal: AbortSignal.timeout(15_000) },
        );
        const got = out.Credentials;
        if (!got?.AccessKeyId || !got.SecretAccessKey) throw new Error('STS returned no credentials');
        credentials = {
          accessKeyId: got.AccessKeyId,
          secretAccessKey: got.SecretAccessKey,
          ...(got.SessionToken ? { sessionToken: got.SessionToken } : {}),
        };
        call.log(`assumed ${role} by OIDC (session ${out.AssumedRoleUser?.Arn ?? '?'})`);
      } finally {
        sts.destroy();
      }
    } else if (role && !keys) {
      throw new Error(
        'Credentials could not be loaded, please check your action inputs: Could not load credentials from any providers',
      );
    } else {
      credentials = {
        accessKeyId: keys || aws.credentials.accessKeyId,
        secretAccessKey: call.with['aws-secret-access-key'] || aws.credentials.secretAccessKey,
        ...(aws.credentials.sessionToken ? { sessionToken: aws.credentials.sessionToken } : {}),
      };
    }
    const sts = new STSClient({ endpoint, region, credentials, maxAttempts: 3 });
    try {
      const identity = await sts.send(new GetCallerIdentityCommand({}), {
        abortSignal: AbortSignal.timeout(15_000),
      });
      const outputs: Record<string, string> = {
        'aws-account-id': identity.Account ?? '',
        'authenticated-arn': identity.Arn ?? '',
      };
      if (call.with['output-credentials'] === 'true') {
        outputs['aws-access-key-id'] = credentials.accessKeyId;
        outputs['aws-secret-access-key'] = credentials.secretAccessKey;
        if (credentials.sessionToken) outputs['aws-session-token'] = credentials.sessionToken;
      }
      return {
        outputs,
        env: {
          AWS_REGION: region,
          AWS_DEFAULT_REGION: region,
          AWS_ACCESS_KEY_ID: credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
          AWS_SESSION_TOKEN: credentials.sessionToken ?? '',
        },
        secrets: [credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken ?? ''],
      };
    } finally {
      sts.destroy();
    }
  };
}

/** docker/setup-buildx-action: nothing to set up on this engine; the builder is `default`. */
export const setupBuildx: StandIn = async (call) => {
  call.log('the engine here has no BuildKit: docker builds use the classic builder');
  return { outputs: { name: 'default' } };
};
