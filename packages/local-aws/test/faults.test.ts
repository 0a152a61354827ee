// Fault injection seen from real clients: the SDK retries throttling and 5xx (the op log counts
// the attempts), a dropped connection is a socket error, latency is latency.
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { FaultInjector, startLocalAws } from '../src/index.js';
import type { LocalAws } from '../src/index.js';
import { jsonCall, rawRequest } from './helpers/signing.js';
import { TEST_TARGET, testService } from './helpers/test-service.js';

let local: LocalAws;
beforeAll(async () => {
  local = await startLocalAws({ modules: [testService] });
});
afterAll(() => local.stop());
beforeEach(() => {
  local.faults.clear();
  local.opLog.clear();
});

const client = (maxAttempts = 3) =>
  new STSClient({
    endpoint: local.endpoint,
    region: 'us-east-1',
    credentials: local.credentials,
    maxAttempts,
  });
const echo = () => jsonCall(local.endpoint, `${TEST_TARGET}.Echo`, {}, { service: 'testsvc' });

test('throttling: the SDK retries through two Throttling errors, and the op log shows three attempts', async () => {
  local.faults.arm({ kind: 'throttling', service: 'sts', operation: 'GetCallerIdentity', count: 2 });
  const out = await client().send(new GetCallerIdentityCommand({}));
  expect(out.Account).toBe('000000000000');
  expect(out.$metadata.attempts).toBe(3);
  const attempts = local.opLog.entries({ action: 'sts:GetCallerIdentity' });
  expect(attempts.map((e) => [e.status, e.errorCode])).toEqual([
    [400, 'Throttling'],
    [400, 'Throttling'],
    [200, undefined],
  ]);
  expect(local.faults.list()).toEqual([]); // used up
}, 20_000);

test('throttling that outlasts the retries surfaces as the protocol error (JSON 1.1: ThrottlingException)', async () => {
  local.faults.arm({ kind: 'throttling', service: 'testsvc' });
  const res = await echo();
  expect(res.status).toBe(400);
  expect(res.json()).toEqual({ __type: 'ThrottlingException', message: 'Rate exceeded' });
  await expect(client(1).send(new GetCallerIdentityCommand({}))).resolves.toBeDefined(); // other services unaffected
  local.faults.arm({ kind: 'throttling', service: '*', operation: 'GetCallerIdentity' });
  await expect(client(1).send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
    name: 'Throttling',
  });
});

test('5xx: InternalFailure 500 and ServiceUnavailable 503, retried by the SDK', async () => {
  local.faults.arm({ kind: 'internal-error', service: 'sts', count: 1 });
  local.faults.arm({ kind: 'unavailable', service: 'sts', count: 1 });
  const out = await client().send(new GetCallerIdentityCommand({}));
  expect(out.$metadata.attempts).toBe(3);
  expect(local.opLog.entries({ service: 'sts' }).map((e) => [e.status, e.errorCode])).toEqual([
    [500, 'InternalFailure'],
    [503, 'ServiceUnavailable'],
    [200, undefined],
  ]);
  local.faults.arm({ kind: 'unavailable', service: 'testsvc', count: 1 });
  const res = await echo();
  expect(res.status).toBe(503);
  expect(res.headers['x-amzn-errortype']).toBe('ServiceUnavailable');
}, 20_000);

test('a dropped connection is a socket error for the client', async () => {
  local.faults.arm({ kind: 'drop', service: 'testsvc', operation: 'Echo', count: 1 });
  await expect(echo()).rejects.toMatchObject({ code: expect.stringMatching(/ECONNRESET|socket hang up/) });
  expect((await echo()).status).toBe(200);
  local.faults.arm({ kind: 'drop', service: 'sts', count: 1 });
  await expect(client(1).send(new GetCallerIdentityCommand({}))).rejects.toBeDefined();
  expect(local.opLog.entries({ errorCode: 'ConnectionDropped' })).toHaveLength(2);
});

test('added latency delays the answer', async () => {
  local.faults.arm({ kind: 'latency', service: 'testsvc', latencyMs: 300, count: 1 });
  const started = Date.now();
  expect((await echo()).status).toBe(200);
  expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  const again = Date.now();
  await echo();
  expect(Date.now() - again).toBeLessThan(250);
});

test('probability decides per call; faults can be listed and disarmed', () => {
  let roll = 0;
  const rolls = [0.1, 0.9, 0.4, 0.6];
  const injector = new FaultInjector(() => rolls[roll++ % rolls.length]!);
  const fault = injector.arm({ kind: 'throttling', probability: 0.5 });
  const fates = [1, 2, 3, 4].map(() => injector.take('ecr', 'PutImage').fault?.kind);
  expect(fates).toEqual(['throttling', undefined, 'throttling', undefined]);
  expect(injector.list()[0]).toMatchObject({ id: fault.id, hits: 2 });
  expect(injector.disarm(fault.id)).toBe(true);
  expect(injector.take('ecr', 'PutImage').fault).toBeUndefined();
  expect(() => injector.arm({ kind: 'meteor' as never })).toThrow(/unknown fault kind/);
});

test('faults through the admin endpoint, and on HTTP routes (registry-style errors)', async () => {
  const armed = await rawRequest(`${local.endpoint}/_local-aws/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'throttling', service: 'testsvc', operation: 'RouteOp', count: 1 }),
  });
  expect(armed.status).toBe(201);
  expect((await rawRequest(`${local.endpoint}/_local-aws/faults`)).json().faults).toHaveLength(1);
  const throttled = await rawRequest(`${local.endpoint}/test-route/x`);
  expect(throttled.status).toBe(429);
  expect(throttled.json()).toEqual({
    errors: [{ code: 'TOOMANYREQUESTS', message: 'Rate exceeded', detail: null }],
  });
  expect((await rawRequest(`${local.endpoint}/test-route/x`)).status).toBe(200);
  expect(local.opLog.entries({ action: 'testsvc:RouteOp' }).map((e) => e.status)).toEqual([429, 200]);

  await rawRequest(`${local.endpoint}/_local-aws/faults`, {
    method: 'POST',
    body: JSON.stringify({ kind: 'internal-error' }),
  });
  expect((await rawRequest(`${local.endpoint}/_local-aws/faults`, { method: 'DELETE' })).status).toBe(200);
  expect(local.faults.list()).toEqual([]);
  const bad = await rawRequest(`${local.endpoint}/_local-aws/faults`, {
    method: 'POST',
    body: '{"kind":"meteor"}',
  });
  expect(bad.status).toBe(400);
});
