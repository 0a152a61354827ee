// The server as a whole: admin endpoints, routing, robustness against any input, and the clock
// that later simulations (ECS rollouts) run on.
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { connect } from 'node:net';
import { LocalClock, startLocalAws } from '../src/index.js';
import type { LocalAws } from '../src/index.js';
import { jsonCall, rawRequest, signedRequest } from './helpers/signing.js';
import { TEST_TARGET, testService } from './helpers/test-service.js';

let local: LocalAws;
const errors: string[] = [];
beforeAll(async () => {
  local = await startLocalAws({
    modules: [testService],
    steppedClock: true,
    logError: (l) => errors.push(l),
  });
});
afterAll(() => local.stop());

describe('admin endpoints', () => {
  test('health names the URLs, account, region, services and routes', async () => {
    const res = await rawRequest(`${local.endpoint}/_local-aws/health`);
    expect(res.status).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      status: 'ok',
      accountId: '000000000000',
      region: 'us-east-1',
      httpUrl: local.httpUrl,
      httpsUrl: local.httpsUrl,
      caCertPath: local.caCertPath,
    });
    expect(body.services).toEqual(
      expect.arrayContaining([
        { protocol: 'query', signingName: 'sts', version: '2011-06-15' },
        { protocol: 'json1.1', signingName: 'ecr', targetPrefix: 'AmazonEC2ContainerRegistry_V20150921' },
        { protocol: 'json1.1', signingName: 'testsvc', targetPrefix: TEST_TARGET },
      ]),
    );
    expect(body.routes).toContain('/test-route/');
  });

  test('the op log is readable, filterable and clearable over HTTP', async () => {
    local.opLog.clear();
    await jsonCall(local.endpoint, `${TEST_TARGET}.Echo`, {}, { service: 'testsvc' });
    await rawRequest(`${local.endpoint}/test-route/a`);
    const all = (await rawRequest(`${local.endpoint}/_local-aws/oplog`)).json().entries as {
      action: string;
    }[];
    expect(all.map((e) => e.action)).toEqual(['testsvc:Echo', 'testsvc:RouteOp']);
    const filtered = await rawRequest(`${local.endpoint}/_local-aws/oplog?operation=RouteOp`);
    expect(filtered.json().entries).toHaveLength(1);
    expect(local.opLog.actions()).toEqual(['testsvc:Echo', 'testsvc:RouteOp']);
    await rawRequest(`${local.endpoint}/_local-aws/oplog`, { method: 'DELETE' });
    expect(local.opLog.entries()).toEqual([]);
  });

  test('the clock can be read and advanced over HTTP', async () => {
    const before = (await rawRequest(`${local.endpoint}/_local-aws/clock`)).json();
    expect(before.mode).toBe('stepped');
    const after = await rawRequest(`${local.endpoint}/_local-aws/clock/advance`, {
      method: 'POST',
      body: JSON.stringify({ seconds: 90 }),
    });
    expect(after.json().now).toBe((before.now as number) + 90_000);
    const bad = await rawRequest(`${local.endpoint}/_local-aws/clock/advance`, {
      method: 'POST',
      body: '{"ms": -1}',
    });
    expect(bad.status).toBe(400);
    expect((await rawRequest(`${local.endpoint}/_local-aws/nope`)).status).toBe(404);
  });
});

describe('admin endpoints refuse browsers on other sites (DNS rebinding, cross-site requests)', () => {
  const port = () => new URL(local.endpoint).port;
  test.each([
    { name: 'Host 127.0.0.1:<port>', headers: () => ({ host: `127.0.0.1:${port()}` }), status: 200 },
    { name: 'Host localhost:<port>', headers: () => ({ host: `localhost:${port()}` }), status: 200 },
    { name: 'Host [::1]:<port>', headers: () => ({ host: `[::1]:${port()}` }), status: 200 },
    {
      name: "the server's own Origin",
      headers: () => ({ host: `127.0.0.1:${port()}`, origin: `http://localhost:${port()}` }),
      status: 200,
    },
    { name: 'Host evil.example (DNS rebinding)', headers: () => ({ host: 'evil.example' }), status: 403 },
    { name: 'Host evil.example:<port>', headers: () => ({ host: `evil.example:${port()}` }), status: 403 },
    { name: 'Host 127.0.0.1 on another port', headers: () => ({ host: '127.0.0.1:1' }), status: 403 },
    { name: 'Host 127.0.0.1 without the port', headers: () => ({ host: '127.0.0.1' }), status: 403 },
    {
      name: 'Origin http://evil.example',
      headers: () => ({ host: `127.0.0.1:${port()}`, origin: 'http://evil.example' }),
      status: 403,
    },
    { name: 'Origin null', headers: () => ({ host: `127.0.0.1:${port()}`, origin: 'null' }), status: 403 },
    {
      name: 'Origin of another local port',
      headers: () => ({ host: `127.0.0.1:${port()}`, origin: 'http://localhost:3000' }),
      status: 403,
    },
    {
      name: 'Sec-Fetch-Site cross-site (a page elsewhere, no Origin)',
      headers: () => ({ host: `127.0.0.1:${port()}`, 'sec-fetch-site': 'cross-site' }),
      status: 403,
    },
  ])('GET /_local-aws/state with $name: $status', async ({ headers, status }) => {
    const res = await rawRequest(`${local.endpoint}/_local-aws/state`, { headers: headers() });
    expect(res.status).toBe(status);
    if (status === 403) expect(res.body).not.toContain('secret');
  });

  test('a cross-site POST arms no fault and a rebinding DELETE clears nothing', async () => {
    local.faults.clear();
    const armed = await rawRequest(`${local.endpoint}/_local-aws/faults`, {
      method: 'POST',
      headers: { origin: 'http://evil.example', 'content-type': 'text/plain' },
      body: JSON.stringify({ kind: 'drop', service: '*' }),
    });
    expect(armed.status).toBe(403);
    expect(local.faults.list()).toEqual([]);
    local.faults.arm({ kind: 'latency', service: 'nothing', latencyMs: 1 });
    const cleared = await rawRequest(`${local.endpoint}/_local-aws/faults`, {
      method: 'DELETE',
      headers: { host: `evil.example:${port()}` },
    });
    expect(cleared.status).toBe(403);
    expect(local.faults.list()).toHaveLength(1);
    local.faults.clear();
  });
});

describe('never crashes', () => {
  test('garbage of every kind gets a 4xx, and the server keeps serving', async () => {
    const target = { 'x-amz-target': `${TEST_TARGET}.Echo` };
    const cases: {
      path?: string;
      method?: string;
      headers?: Record<string, string>;
      body?: string | Buffer;
    }[] = [
      { method: 'POST', headers: target, body: Buffer.from([0xff, 0x00, 0xfe, 0x7b]) },
      { method: 'POST', headers: { ...target, authorization: 'AWS4-HMAC-SHA256' } },
      { method: 'POST', headers: { ...target, authorization: 'Bearer abc' } },
      {
        method: 'POST',
        headers: {
          ...target,
          authorization: 'AWS4-HMAC-SHA256 Credential=a/b, SignedHeaders=, Signature=zz',
          'x-amz-date': 'yesterday',
        },
      },
      {
        method: 'POST',
        headers: {
          ...target,
          authorization:
            'AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/testsvc/aws4_request, SignedHeaders=host, Signature=00',
          'x-amz-date': '20240101T000000Z',
        },
      },
      { path: '/%E0%A4%A?Action=%ZZ&X-Amz-Algorithm=AWS4-HMAC-SHA256' },
      { path: '/?Action=GetCallerIdentity&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=test%2Fx' },
      { path: '/', method: 'DELETE' },
      { path: '/', method: 'HEAD' },
      { path: '/../../etc/passwd' },
      { method: 'POST', headers: { 'x-amz-target': '' }, body: '{}' },
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'Action=GetCallerIdentity&%%%',
      },
      { path: '/_local-aws/faults', method: 'POST', body: 'not json' },
    ];
    for (const c of cases) {
      const res = await rawRequest(`${local.endpoint}${c.path ?? '/'}`, {
        method: c.method ?? 'GET',
        headers: c.headers ?? {},
        ...(c.body !== undefined ? { body: c.body } : {}),
      });
      expect([c, res.status]).toEqual([c, expect.any(Number)]);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    // Not even HTTP.
    await new Promise<void>((resolve) => {
      const socket = connect(Number(new URL(local.endpoint).port), '127.0.0.1', () =>
        socket.end('GARBAGE\r\n\r\n'),
      );
      socket.on('data', () => {});
      socket.on('close', () => resolve());
      socket.on('error', () => resolve());
    });
    expect(errors).toEqual([]);
    expect((await rawRequest(`${local.endpoint}/_local-aws/health`)).status).toBe(200);
  });

  test('a Query request signed for a service local-aws does not have, and a request for nothing', async () => {
    const res = await signedRequest({
      endpoint: local.endpoint,
      service: 'iam',
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=ListUsers&Version=2010-05-08',
    });
    expect(res.status).toBe(400);
    expect(res.body).toContain('<Code>InvalidAction</Code>');
    expect((await rawRequest(`${local.endpoint}/`)).status).toBe(404);
  });
});

describe('the clock', () => {
  test('stepped: time stands still; advance() fires timers in order, each at its due time', async () => {
    const clock = new LocalClock({ stepped: true, start: 1_000_000 });
    expect(clock.now()).toBe(1_000_000);
    const fired: [string, number][] = [];
    clock.setTimer(300, () => fired.push(['c', clock.now()]));
    clock.setTimer(100, () => fired.push(['a', clock.now()]));
    const cancelled = clock.setTimer(150, () => fired.push(['x', clock.now()]));
    clock.setTimer(200, () => fired.push(['b', clock.now()]));
    cancelled.cancel();
    await clock.advance(250);
    expect(fired).toEqual([
      ['a', 1_000_100],
      ['b', 1_000_200],
    ]);
    expect(clock.now()).toBe(1_000_250);
    await clock.advance(1000);
    expect(fired.at(-1)).toEqual(['c', 1_000_300]);
    expect(clock.now()).toBe(1_001_250);
  });

  test('a simulation that awaits sleep() in a loop runs to completion under one big advance()', async () => {
    const clock = new LocalClock({ stepped: true, start: 0 });
    const steps: number[] = [];
    const rollout = (async () => {
      for (let i = 0; i < 5; i++) {
        await clock.sleep(60_000);
        await Promise.resolve(); // more async work between steps
        steps.push(clock.now());
      }
      return 'done';
    })();
    await clock.advance(10 * 60_000);
    expect(steps).toEqual([60_000, 120_000, 180_000, 240_000, 300_000]);
    await expect(rollout).resolves.toBe('done');
    expect(clock.now()).toBe(600_000);
  });

  test('sleep() can be aborted; sleepUntil() resolves at an absolute time', async () => {
    const clock = new LocalClock({ stepped: true, start: 0 });
    const controller = new AbortController();
    const aborted = clock.sleep(1000, controller.signal);
    controller.abort(new Error('cancelled'));
    await expect(aborted).rejects.toThrow('cancelled');
    expect(clock.pendingTimers()).toBe(0);
    let woke = -1;
    void clock.sleepUntil(5000).then(() => (woke = clock.now()));
    await clock.advance(10_000);
    expect(woke).toBe(5000);
  });

  test('scaled: a simulated minute passes in a tenth of a second at 600x', async () => {
    const clock = new LocalClock({ timeScale: 600 });
    expect(clock.mode).toBe('scaled');
    const started = Date.now();
    const simStart = clock.now();
    await clock.sleep(60_000);
    const wall = Date.now() - started;
    expect(wall).toBeGreaterThanOrEqual(90);
    expect(wall).toBeLessThan(2000);
    expect(clock.now() - simStart).toBeGreaterThanOrEqual(60_000);
    clock.dispose();
  });

  test('signatureClock "simulated": SDKs correct their skew from the Date header and sign in simulated time', async () => {
    const past = await startLocalAws({
      steppedClock: true,
      startTime: Date.now() - 2 * 3600_000,
      signatureClock: 'simulated',
    });
    try {
      const sts = new STSClient({
        endpoint: past.endpoint,
        region: 'us-east-1',
        credentials: past.credentials,
        maxAttempts: 3,
      });
      const out = await sts.send(new GetCallerIdentityCommand({}));
      expect(out.Account).toBe('000000000000');
      expect(past.opLog.entries().map((e) => e.errorCode)).toEqual(['SignatureDoesNotMatch', undefined]);
    } finally {
      await past.stop();
    }
  });
});
