// The judges of the EC2 and ELBv2 tests, none of which shares code with local-aws: boto3 kept in
// one Python process per test file (each call one JSON line in — service, snake_case operation,
// parameters — and one out: the result without ResponseMetadata, or the ClientError's code,
// message and HTTP status; one attempt, no retries), the AWS CLI v2 (/usr/bin/aws; about a
// second a call, so tests that step a clock between calls lean on boto3), and moto_server.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { findTool, requireTool } from '../../../../test/helpers/tools.js';

export const AWS_CLI = '/usr/bin/aws';
export const withCli = requireTool('AWS CLI v2', AWS_CLI);
export const withBoto3 = requireTool('python3 (with boto3)', 'python3');
export const withMoto = requireTool('moto_server', 'moto_server');

const BRIDGE = String.raw`
import json, sys
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

clients = {}
def client(service, endpoint, region, key, secret, token=None):
    k = (service, endpoint, region, key, token)
    if k not in clients:
        clients[k] = boto3.client(service, endpoint_url=endpoint, region_name=region,
            aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token,
            config=Config(retries={'total_max_attempts': 1, 'mode': 'standard'}))
    return clients[k]

for line in sys.stdin:
    req = json.loads(line)
    try:
        c = client(req['service'], req['endpoint'], req['region'], req['key'], req['secret'], req.get('token'))
        if req.get('paginate'):
            pages = list(c.get_paginator(req['op']).paginate(**req['params']))
            for p in pages: p.pop('ResponseMetadata', None)
            out = {'id': req['id'], 'result': pages}
        elif req.get('waiter'):
            c.get_waiter(req['op']).wait(**req['params'])
            out = {'id': req['id'], 'result': 'done'}
        else:
            r = getattr(c, req['op'])(**req['params'])
            r.pop('ResponseMetadata', None)
            out = {'id': req['id'], 'result': r}
    except ClientError as e:
        err = e.response.get('Error', {})
        out = {'id': req['id'], 'error': {'Code': err.get('Code'), 'Message': err.get('Message'),
               'HTTPStatusCode': e.response.get('ResponseMetadata', {}).get('HTTPStatusCode')}}
    except Exception as e:
        out = {'id': req['id'], 'error': {'Code': type(e).__name__, 'Message': str(e)}}
    sys.stdout.write(json.dumps(out, default=str) + '\n')
    sys.stdout.flush()
`;

export interface Boto3Error {
  Code: string;
  Message: string;
  HTTPStatusCode?: number;
}

export interface Boto3Target {
  endpoint: string;
  region?: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export class Boto3Judge {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending = new Map<number, (line: { result?: unknown; error?: Boto3Error }) => void>();
  private nextId = 1;
  private stderr = '';

  constructor() {
    this.child = spawn('python3', ['-u', '-c', BRIDGE], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const parsed = JSON.parse(line) as { id: number; result?: unknown; error?: Boto3Error };
      this.pending.get(parsed.id)?.(parsed);
      this.pending.delete(parsed.id);
    });
    this.child.on('exit', () => {
      for (const resolve of this.pending.values())
        resolve({ error: { Code: 'BridgeExited', Message: this.stderr.trim() } });
      this.pending.clear();
    });
  }

  private send(
    target: Boto3Target,
    service: string,
    op: string,
    params: object,
    mode: { paginate?: boolean; waiter?: boolean } = {},
  ): Promise<{ result?: unknown; error?: Boto3Error }> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.child.stdin.write(
        JSON.stringify({
          id,
          service,
          op,
          params,
          endpoint: target.endpoint,
          region: target.region ?? 'us-east-1',
          key: target.credentials.accessKeyId,
          secret: target.credentials.secretAccessKey,
          ...(target.credentials.sessionToken ? { token: target.credentials.sessionToken } : {}),
          ...mode,
        }) + '\n',
      );
    });
  }

  /** The operation's result; a ClientError rejects with {Code, Message, HTTPStatusCode}. */
  async call<T = Record<string, unknown>>(
    target: Boto3Target,
    service: string,
    op: string,
    params: object = {},
  ): Promise<T> {
    const answer = await this.send(target, service, op, params);
    if (answer.error) throw answer.error;
    return answer.result as T;
  }

  /** The error the operation answers with (fails the test if it succeeds). */
  async error(target: Boto3Target, service: string, op: string, params: object = {}): Promise<Boto3Error> {
    const answer = await this.send(target, service, op, params);
    if (!answer.error) throw new Error(`${op} succeeded: ${JSON.stringify(answer.result)}`);
    return answer.error;
  }

  /** Every page of a paginated operation, through boto3's own paginator. */
  async pages<T = Record<string, unknown>>(
    target: Boto3Target,
    service: string,
    op: string,
    params: object = {},
  ): Promise<T[]> {
    const answer = await this.send(target, service, op, params, { paginate: true });
    if (answer.error) throw answer.error;
    return answer.result as T[];
  }

  /** Runs one of boto3's waiters to success; rejects with the waiter's error. */
  async wait(target: Boto3Target, service: string, waiter: string, params: object = {}): Promise<void> {
    const answer = await this.send(target, service, waiter, params, { waiter: true });
    if (answer.error) throw answer.error;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null) return resolve();
      this.child.once('exit', () => resolve());
      this.child.stdin.end();
    });
  }
}

/** Every member path with its JSON type ("Vpcs[].CidrBlockAssociationSet[].CidrBlock: string"). */
export function shape(value: unknown, path = '', out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const v of value) shape(v, `${path}[]`, out);
    if (value.length === 0) out.add(`${path}: array`);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) shape(v, path ? `${path}.${k}` : k, out);
  } else {
    out.add(`${path}: ${value === null ? 'null' : typeof value}`);
  }
  return out;
}

export interface CliAnswer {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout as JSON ({} when empty or not JSON). */
  json: Record<string, unknown>;
}

/** `aws --endpoint-url <endpoint> --output json <args>` with the target's key, in its region. */
export function awsCli(target: Boto3Target, args: string[]): Promise<CliAnswer> {
  const region = target.region ?? 'us-east-1';
  return new Promise((resolve, reject) => {
    const child = spawn(AWS_CLI, ['--endpoint-url', target.endpoint, '--output', 'json', ...args], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/tmp',
        AWS_ACCESS_KEY_ID: target.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: target.credentials.secretAccessKey,
        ...(target.credentials.sessionToken ? { AWS_SESSION_TOKEN: target.credentials.sessionToken } : {}),
        AWS_DEFAULT_REGION: region,
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_PAGER: '',
      },
    });
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
  });
}

/** A moto_server on a free loopback port; stop() ends the process group it started. */
export async function startMoto(): Promise<{ endpoint: string; stop(): void }> {
  const port = await new Promise<number>((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
    srv.on('error', reject);
  });
  const moto = spawn(findTool('moto_server') ?? 'moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: 'ignore',
    detached: true, // the pyenv shim starts python as a child: stop the whole group we started
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = () => {
    if (moto.pid !== undefined && moto.exitCode === null) process.kill(-moto.pid, 'SIGTERM');
  };
  for (let i = 0; ; i++) {
    try {
      await fetch(endpoint);
      return { endpoint, stop };
    } catch (e) {
      if (i > 150) {
        stop();
        throw e;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
