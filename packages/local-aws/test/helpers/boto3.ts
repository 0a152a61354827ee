// boto3 as a judge: a Python program run with `json`, `boto3` and `botocore` (its config and
// exceptions) imported, `endpoint` (local-aws's URL) and `data` (the JSON `input`) in scope, and
// the handle's first key and the region in the environment. The last line it prints is parsed as
// JSON and is the answer.
import { spawn } from 'node:child_process';
import type { LocalAws } from '../../src/index.js';
import { requireTool } from '../../../../test/helpers/tools.js';

export const withBoto3 = requireTool('python3 (with boto3)', 'python3');

const PRELUDE = [
  'import json, os, sys',
  'import boto3, botocore, botocore.config, botocore.exceptions',
  "endpoint = os.environ['LOCAL_AWS_ENDPOINT']",
  'data = json.loads(sys.stdin.read() or "null")',
].join('\n');

export function boto3(
  aws: Pick<LocalAws, 'endpoint' | 'credentials'>,
  program: string,
  options: { input?: unknown; region?: string } = {},
): Promise<unknown> {
  const region = options.region ?? 'us-east-1';
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', `${PRELUDE}\n${program}`], {
      env: {
        ...process.env,
        LOCAL_AWS_ENDPOINT: aws.endpoint,
        AWS_ACCESS_KEY_ID: aws.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: aws.credentials.secretAccessKey,
        ...(aws.credentials.sessionToken ? { AWS_SESSION_TOKEN: aws.credentials.sessionToken } : {}),
        AWS_DEFAULT_REGION: region,
        AWS_REGION: region,
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        AWS_EC2_METADATA_DISABLED: 'true',
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || last === '')
        return reject(new Error(`python3 exited ${code}: ${stderr.trim() || stdout.trim()}`));
      try {
        resolve(JSON.parse(last));
      } catch {
        reject(new Error(`not JSON: ${last}`));
      }
    });
    child.stdin.end(JSON.stringify(options.input ?? null));
  });
}
