// A tiny HTTP server that answers like an AWS JSON 1.1 service, so that real SDK clients run their
// whole stack (endpoint, signing, retries, error parsing) in unit tests. local-aws is the real
// simulator; this only scripts single responses.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** Never answer (a call that AWS or a proxy leaves hanging). */
  hang?: boolean;
}

export interface SeenRequest {
  method: string;
  target: string | undefined;
  userAgent: string;
  amzUserAgent: string;
  authorization: string;
  body: string;
}

export interface FakeAwsServer {
  url: string;
  requests: SeenRequest[];
  /** Responses served in order; the last one repeats. */
  respond(...responses: FakeResponse[]): void;
  close(): Promise<void>;
}

export function awsError(type: string, message: string, status = 400, requestId = 'req-0001'): FakeResponse {
  return { status, body: { __type: type, message }, headers: { 'x-amzn-RequestId': requestId } };
}

export async function startFakeAws(): Promise<FakeAwsServer> {
  let queue: FakeResponse[] = [{ status: 200, body: {} }];
  const requests: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      requests.push({
        method: req.method ?? '',
        target: req.headers['x-amz-target'] as string | undefined,
        userAgent: req.headers['user-agent'] ?? '',
        amzUserAgent: (req.headers['x-amz-user-agent'] as string | undefined) ?? '',
        authorization: req.headers.authorization ?? '',
        body,
      });
      const next = (queue.length > 1 ? queue.shift() : queue[0]) as FakeResponse;
      if (next.hang) return;
      res.writeHead(next.status, {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-RequestId': 'req-0001',
        ...next.headers,
      });
      res.end(JSON.stringify(next.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    respond: (...responses) => {
      queue = responses;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** Sets env vars for one test and returns a function that restores them. */
export function setEnv(vars: Record<string, string | undefined>): () => void {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (v: Record<string, string | undefined>) => {
    for (const [k, value] of Object.entries(v)) {
      if (value === undefined) delete process.env[k];
      else process.env[k] = value;
    }
  };
  apply(vars);
  return () => apply(saved);
}
