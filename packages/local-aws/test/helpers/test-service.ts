// A small JSON 1.1 service (and an HTTP route) mounted next to the built-in ones, to test the
// server's routing, framing and fault handling independently of any real service.
import type { HttpRoute, ServiceFactory } from '../../src/service.js';
import { AwsError } from '../../src/service.js';

export const TEST_TARGET = 'LocalAwsTest_20240101';

export const testService: ServiceFactory = ({ clock }) => {
  const route: HttpRoute = {
    prefix: '/test-route/',
    async handle(req, res, env) {
      if (await env.fault('testsvc', 'RouteOp', res)) return;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`route ok ${req.url}`);
      env.log({ service: 'testsvc', operation: 'RouteOp', status: 200 });
    },
  };
  return {
    services: [
      {
        protocol: 'json1.1',
        signingName: 'testsvc',
        targetPrefix: TEST_TARGET,
        operations: {
          Echo: (input, ctx) => ({
            input,
            arn: ctx.identity.arn,
            region: ctx.region,
            requestId: ctx.requestId,
          }),
          Now: () => ({ at: new Date(clock.now()), nested: { list: [new Date(1700000000500)] } }),
          Fail: (input) => {
            throw new AwsError(String(input.code ?? 'ValidationException'), 'it failed', 400, {
              reason: 'test',
            });
          },
          Crash: () => {
            throw new Error('boom');
          },
          Slow: async () => {
            await new Promise((r) => setTimeout(r, 20));
            return { ok: true };
          },
        },
      },
    ],
    routes: [route],
    admin: {},
  };
};
