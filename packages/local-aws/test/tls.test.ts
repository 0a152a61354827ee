// HTTPS with local-aws's own CA: trusted when the CA file is given, refused otherwise, for the
// names and addresses in the certificate; the CA is reused from an existing CA dir.
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent } from 'node:https';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { startLocalAws } from '../src/index.js';
import type { LocalAws } from '../src/index.js';
import { rawRequest } from './helpers/signing.js';

let local: LocalAws;
let ca: string;
beforeAll(async () => {
  local = await startLocalAws();
  ca = readFileSync(local.caCertPath, 'utf8');
});
afterAll(() => local.stop());

test('an https request trusting the CA file succeeds, for 127.0.0.1 and localhost', async () => {
  expect(local.httpsUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  const res = await rawRequest(`${local.httpsUrl}/_local-aws/health`, { ca });
  expect(res.status).toBe(200);
  expect(res.json()).toMatchObject({ status: 'ok', httpsUrl: local.httpsUrl, caCertPath: local.caCertPath });
  const byName = await rawRequest(`${local.httpsUrl.replace('127.0.0.1', 'localhost')}/_local-aws/health`, {
    ca,
  });
  expect(byName.status).toBe(200);
});

test('without the CA the certificate is not trusted', async () => {
  await expect(rawRequest(`${local.httpsUrl}/_local-aws/health`)).rejects.toMatchObject({
    code: expect.stringMatching(
      /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/,
    ),
  });
});

test('the certificate is a CA-issued leaf with the loopback names; the admin API serves the CA', async () => {
  const caCert = new X509Certificate(ca);
  expect(caCert.ca).toBe(true);
  const served = await rawRequest(`${local.endpoint}/_local-aws/ca.crt`);
  expect(served.body).toBe(ca);
});

test('the AWS SDK over HTTPS with the CA trusted', async () => {
  const sts = new STSClient({
    endpoint: local.httpsUrl,
    region: 'us-east-1',
    credentials: local.credentials,
    requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca }) }),
  });
  const out = await sts.send(new GetCallerIdentityCommand({}));
  expect(out.Arn).toBe('arn:aws:iam::000000000000:root');
});

test('the CA folder holds ca.crt alone; the key, 0600 in <caDir>-private, makes the CA reused across restarts', async () => {
  const root = mkdtempSync(join(tmpdir(), 'local-aws-ca-test-'));
  const caDir = join(root, 'ca');
  try {
    const first = await startLocalAws({ caDir });
    const pem = readFileSync(first.caCertPath, 'utf8');
    await first.stop();
    expect(readdirSync(caDir)).toEqual(['ca.crt']);
    expect(readdirSync(join(root, 'ca-private'))).toEqual(['ca.key']);
    expect(statSync(join(root, 'ca-private', 'ca.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(root, 'ca-private')).mode & 0o777).toBe(0o700);
    const second = await startLocalAws({ caDir });
    try {
      expect(second.caCertPath).toBe(join(caDir, 'ca.crt'));
      expect(readFileSync(second.caCertPath, 'utf8')).toBe(pem);
      const res = await rawRequest(`${second.httpsUrl}/_local-aws/health`, { ca: pem });
      expect(res.status).toBe(200);
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a key an earlier local-aws kept beside ca.crt is moved out, and that CA still serves', async () => {
  const root = mkdtempSync(join(tmpdir(), 'local-aws-ca-test-'));
  const caDir = join(root, 'ca');
  try {
    const first = await startLocalAws({ caDir });
    const pem = readFileSync(first.caCertPath, 'utf8');
    await first.stop();
    // The layout before: ca.crt and ca.key side by side, no private folder.
    mkdirSync(caDir, { recursive: true });
    writeFileSync(join(caDir, 'ca.key'), readFileSync(join(root, 'ca-private', 'ca.key')));
    rmSync(join(root, 'ca-private'), { recursive: true });
    const second = await startLocalAws({ caDir });
    try {
      expect(readdirSync(caDir)).toEqual(['ca.crt']);
      expect(readFileSync(second.caCertPath, 'utf8')).toBe(pem);
      expect((await rawRequest(`${second.httpsUrl}/_local-aws/health`, { ca: pem })).status).toBe(200);
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a temp CA folder and its private sibling are removed at stop', async () => {
  const temp = await startLocalAws();
  const caDir = join(temp.caCertPath, '..');
  expect(readdirSync(caDir)).toEqual(['ca.crt']);
  await temp.stop();
  expect(() => statSync(join(caDir, '..'))).toThrow();
});
