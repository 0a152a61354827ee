// A simulated cluster served alone over HTTP on 127.0.0.1, for tests: `Authorization: Bearer
// <token>` names the user (401 Unauthorized otherwise), then the cluster's API answers. local-aws's
// EKS authenticates as EKS does instead and calls the same handler.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createKubernetesCluster, type ClusterOptions, type KubernetesCluster } from './cluster.js';
import { unauthorized } from './errors.js';
import type { KubernetesHost, KubernetesUser } from './host.js';

export interface KubernetesServerOptions {
  /** The host the cluster runs on; default: the real clock, any authenticated user may do anything. */
  host?: KubernetesHost;
  /** Bearer tokens and who they are; default: `admin-token` → kubernetes-admin in system:masters. */
  tokens?: Record<string, KubernetesUser>;
  /** A cluster to serve; default: a new one on `host`. */
  cluster?: KubernetesCluster;
  clusterOptions?: ClusterOptions;
  /**
   * Serve HTTPS with this key and certificate (PEM). kubectl sends a bearer token only over TLS
   * (client-go drops credentials for an http:// server), so kubectl tests need it.
   */
  tls?: { key: string; cert: string };
}

export interface KubernetesServer {
  url: string;
  cluster: KubernetesCluster;
  stop(): Promise<void>;
}

/** Real time, for a server run without a host: timers are real timers. */
const realClock: KubernetesHost['clock'] = {
  now: () => Date.now(),
  setTimer: (ms, fn) => {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
};

export async function startKubernetesServer(
  options: KubernetesServerOptions = {},
): Promise<KubernetesServer> {
  const host = options.host ?? { clock: realClock };
  const cluster = options.cluster ?? createKubernetesCluster(host, options.clusterOptions ?? {});
  const tokens = options.tokens ?? {
    'admin-token': { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] },
  };
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    const user = match ? tokens[match[1]!.trim()] : undefined;
    if (!user) {
      const body = JSON.stringify(unauthorized().body());
      res.writeHead(401, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    cluster.handle(req, res, user, req.url ?? '/').catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(err));
    });
  };
  const server: Server = options.tls ? createTlsServer(options.tls, listener) : createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    cluster,
    stop: async () => {
      if (!options.cluster) cluster.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
