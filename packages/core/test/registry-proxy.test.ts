// The registry client goes through HTTP(S)_PROXY and honours NO_PROXY, like the SDK clients: a
// self-hosted runner behind a proxy can push without a daemon.
import { HttpClient } from '../src/registry/http.js';
import { startFakeAws, type FakeAwsServer } from './fake-aws-server.js';

let proxy: FakeAwsServer;
beforeAll(async () => {
  proxy = await startFakeAws();
});
afterAll(() => proxy.close());

test.each([
  ['HTTP_PROXY', (url: string) => ({ HTTP_PROXY: url }), true],
  [
    'NO_PROXY naming the registry',
    (url: string) => ({ HTTP_PROXY: url, NO_PROXY: 'registry.example.invalid' }),
    false,
  ],
])('%s', async (_name, env, throughProxy) => {
  proxy.requests.length = 0;
  const client = new HttpClient({ env: env(proxy.url) });
  const result = await client
    .request({ method: 'GET', url: new URL('http://registry.example.invalid/v2/') })
    .then(
      (res) => `status ${res.status}`,
      (e: unknown) => (e as Error).message,
    );
  if (throughProxy) {
    expect(result).toBe('status 200');
    expect(proxy.requests).toHaveLength(1);
  } else {
    expect(result).toMatch(/ENOTFOUND|getaddrinfo/);
    expect(proxy.requests).toHaveLength(0);
  }
  client.close();
});
