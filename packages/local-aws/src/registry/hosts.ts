// One registry host per account and region, as on AWS (<account>.dkr.ecr.<region>.amazonaws.com),
// so that docker keeps one credential per registry and a push lands where its host says. Here a
// host is a port on 127.0.0.1: the default account and region are served on the server's own
// HTTPS (and HTTP) port; any other registry gets its own HTTPS listener the first time ECR names
// it (GetAuthorizationToken, repositoryUri). Ports are kept in state, so with --data-dir a
// registry keeps its host across restarts.
import type { StateStore } from '../service.js';

export interface RegistryAddress {
  accountId: string;
  region: string;
  /** 127.0.0.1:<port>, what proxyEndpoint and repositoryUri name. */
  host: string;
  port: number;
}

export interface RegistryHostsOptions {
  state: StateStore;
  /**
   * Opens an HTTPS listener on 127.0.0.1 that serves the registry (the server's handler);
   * resolves with the port it got. `port` 0 asks for an ephemeral one.
   */
  open(port: number): Promise<number>;
}

interface Persisted {
  /** "<account>/<region>" → port, for registries other than the default. */
  ports: Record<string, number>;
}

const keyOf = (accountId: string, region: string) => `${accountId}/${region}`;

export class RegistryHosts {
  private readonly byKey = new Map<string, RegistryAddress>();
  private readonly byPort = new Map<number, RegistryAddress>();
  private readonly opening = new Map<string, Promise<RegistryAddress>>();
  private readonly saved: Persisted;
  /** With a fixed HTTPS port, further registries try the ports after it (stable for certs.d). */
  private basePort = 0;

  constructor(private readonly options: RegistryHostsOptions) {
    this.saved = options.state.namespace<Persisted>('registry-hosts', () => ({ ports: {} }));
  }

  /**
   * The default registry, on the server's own listeners: `httpsPort` is its host, `otherPorts`
   * (the plain HTTP port) serve it too. `fixedPorts`: the ports were chosen by the user, so
   * further registries are given the ports after `httpsPort` when free.
   */
  setDefault(
    accountId: string,
    region: string,
    httpsPort: number,
    otherPorts: number[],
    fixedPorts: boolean,
  ) {
    const address = { accountId, region, host: `127.0.0.1:${httpsPort}`, port: httpsPort };
    this.byKey.set(keyOf(accountId, region), address);
    for (const port of [httpsPort, ...otherPorts]) this.byPort.set(port, address);
    this.basePort = fixedPorts ? httpsPort : 0;
  }

  /** Re-opens the registries a previous run with this data dir had, on their ports if free. */
  async reopenSaved(): Promise<void> {
    for (const key of Object.keys(this.saved.ports)) {
      const [accountId, region] = key.split('/') as [string, string];
      await this.ensure(accountId, region);
    }
  }

  /** The registry of accountId/region, its listener opened if it has none yet. */
  ensure(accountId: string, region: string): Promise<RegistryAddress> {
    const key = keyOf(accountId, region);
    const known = this.byKey.get(key);
    if (known) return Promise.resolve(known);
    let opening = this.opening.get(key);
    if (!opening) {
      opening = this.openFor(accountId, region).finally(() => this.opening.delete(key));
      this.opening.set(key, opening);
    }
    return opening;
  }

  /** host:port of a registry already opened (ensure() first). */
  hostOf(accountId: string, region: string): string | undefined {
    return this.byKey.get(keyOf(accountId, region))?.host;
  }

  /** The registry a listener port serves, if any. */
  at(port: number | undefined): RegistryAddress | undefined {
    return port === undefined ? undefined : this.byPort.get(port);
  }

  /** Every registry opened so far, the default first. */
  list(): RegistryAddress[] {
    return [...this.byKey.values()];
  }

  private async openFor(accountId: string, region: string): Promise<RegistryAddress> {
    const key = keyOf(accountId, region);
    const preferred = this.saved.ports[key] ?? (this.basePort ? this.basePort + this.byKey.size : 0);
    let port: number;
    try {
      port = await this.options.open(preferred);
    } catch (error) {
      if (preferred === 0) throw error;
      port = await this.options.open(0);
    }
    const address = { accountId, region, host: `127.0.0.1:${port}`, port };
    this.byKey.set(key, address);
    this.byPort.set(port, address);
    if (this.saved.ports[key] !== port) {
      this.saved.ports[key] = port;
      this.options.state.save();
    }
    return address;
  }
}
