// The preflight stage: the SDK clients its reads need (one per region, made on first use), the
// account and partition it places names in, and runPreflight.
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { ECRClient } from '@aws-sdk/client-ecr';
import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { clientsPerRegion, createAwsClient } from '@aws-containers/core';
import type { Inputs } from './inputs.js';
import type { PreflightFinding } from './preflight.js';
import { runPreflight } from './preflight-checks.js';
import type { RenderedTaskDefinition } from './render.js';
import { ACTION } from './version.js';

export async function preflight(
  td: RenderedTaskDefinition,
  region: string,
  inputs: Pick<Inputs, 'maxAttempts'>,
  signal: AbortSignal,
): Promise<PreflightFinding[]> {
  const options = (r: string) => ({ region: r, maxAttempts: inputs.maxAttempts, action: ACTION });
  const sts = createAwsClient(STSClient, options(region));
  const who = await sts.send(new GetCallerIdentityCommand({}), { abortSignal: signal });
  const arn = /^arn:(aws[a-z-]*):[a-z]+::(\d{12}):/.exec(who.Arn ?? '');
  return runPreflight(
    {
      ecr: clientsPerRegion((r) => createAwsClient(ECRClient, options(r))),
      secretsManager: clientsPerRegion((r) => createAwsClient(SecretsManagerClient, options(r))),
      ssm: clientsPerRegion((r) => createAwsClient(SSMClient, options(r))),
      logs: clientsPerRegion((r) => createAwsClient(CloudWatchLogsClient, options(r))),
      iam: createAwsClient(IAMClient, options(region)),
      sts,
      signal,
    },
    td,
    { region, accountId: arn?.[2] ?? who.Account ?? '', partition: arn?.[1] ?? 'aws' },
  );
}
