// The judges of the ECS fidelity tests: the AWS CLI v2 (/usr/bin/aws) and boto3, pointed at a
// running local-aws with its first key. Neither shares code with local-aws, so what they accept
// (shapes, error codes, messages) is what a user's first try with them would see.
import { spawn } from 'node:child_process';
import type { LocalAws } from '../../src/index.js';
import { requireTool, requireTools } from '../../../../test/helpers/tools.js';

export const AWS_CLI = '/usr/bin/aws';
export const withCli = requireTool('AWS CLI v2', AWS_CLI);
export const withBoto3 = requireTool('python3 (with boto3)', 'python3');
export const withCliAndBoto3 = requireTools([
  { name: 'AWS CLI v2', path: AWS_CLI },
  { name: 'python3 (with boto3)', path: 'python3' },
]);

export interface Judged {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout as JSON ({} when empty). */
  json: Record<string, unknown>;
}

function run(cmd: string, args: string[], env: Record<string, string>, stdin?: string): Promise<Judged> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      let json: Record<string, unknown> = {};
      try {
        if (stdout.trim() !== '') json = JSON.parse(stdout) as Record<string, unknown>;
      } catch {
        // not JSON: the test reads stdout
      }
      resolve({ code, stdout, stderr, json });
    });
    if (stdin !== undefined) child.stdin.end(stdin);
    else child.stdin.end();
  });
}

function env(aws: Pick<LocalAws, 'credentials'>, region: string): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: aws.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: aws.credentials.secretAccessKey,
    ...(aws.credentials.sessionToken ? { AWS_SESSION_TOKEN: aws.credentials.sessionToken } : {}),
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  };
}

/** `aws --endpoint-url <local-aws> --output json <args>` in `region`, with `extraEnv` on top. */
export function awsCli(
  aws: Pick<LocalAws, 'endpoint' | 'credentials'>,
  args: string[],
  region = 'us-east-1',
  extraEnv: Record<string, string> = {},
): Promise<Judged> {
  return run(AWS_CLI, ['--endpoint-url', aws.endpoint, '--output', 'json', ...args], {
    ...env(aws, region),
    ...extraEnv,
  });
}

/**
 * A Python snippet with `ecs` (a boto3 ECS client on local-aws) in scope; whatever it assigns to
 * `out` is printed as JSON. A botocore ClientError becomes `{"error": {"Code", "Message"}}`.
 */
export function boto3Ecs(
  aws: Pick<LocalAws, 'endpoint' | 'credentials'>,
  snippet: string,
  region = 'us-east-1',
): Promise<Judged> {
  const program = [
    'import json, os, sys, boto3, botocore.exceptions',
    "ecs = boto3.client('ecs', endpoint_url=os.environ['LOCAL_AWS_ENDPOINT'])",
    'out = None',
    'try:',
    ...snippet
      .trim()
      .split('\n')
      .map((line) => '    ' + line),
    'except botocore.exceptions.ClientError as e:',
    "    out = {'error': e.response['Error']}",
    'print(json.dumps(out, default=str))',
  ].join('\n');
  return run('python3', ['-'], { ...env(aws, region), LOCAL_AWS_ENDPOINT: aws.endpoint }, program);
}
