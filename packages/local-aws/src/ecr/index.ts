// ECR: the JSON 1.1 control plane and the OCI registry data plane, sharing one state.
import type { JsonOperation, JsonService, ServiceFactory } from '../service.js';
import { BlobStore } from '../registry/blobs.js';
import type { RegistryHosts } from '../registry/hosts.js';
import { createRegistryRoute } from '../registry/route.js';
import { parseManifest } from '../registry/manifest.js';
import { createEcrOperations } from './api.js';
import { ecrAuthorization } from './authorization.js';
import { DEFAULT_SCAN_DURATION_MS, loadState, type EcrState, type ScanFindingsFixture } from './model.js';
import { REGISTRY_ID_RE } from './validate.js';

export type { ScanFinding, ScanFindingsFixture } from './model.js';

/** What a puller finds for a reference in this registry (ECS resolves task images with it). */
export type ImageResolution =
  | { found: true; digest: string; labels: Record<string, string> }
  | { found: false; reason: 'repository' | 'tag' | 'digest' };

/** Test hooks for ECR, exposed on the handle startLocalAws() returns. */
export interface EcrAdmin {
  /**
   * Attach scan findings (what DescribeImageScanFindings returns once a scan completes) to an image
   * digest, in every repository. `{ failWith: '…' }` makes the scan end FAILED instead.
   */
  setScanFindings(imageDigest: string, findings: ScanFindingsFixture): void;
  /** How long a scan stays IN_PROGRESS, in clock milliseconds (default 3000). */
  setScanDuration(ms: number): void;
  /** A deep copy of ECR's whole state (repositories, images, tags, templates), for assertions. */
  snapshot(): EcrState;
  /** Whether the blob store holds a blob (in any repository). */
  hasBlob(digest: string): boolean;
  /**
   * Resolves `reference` (a tag or a digest) in a repository of the registry of accountId/region,
   * as a pull would: the manifest digest and the image config's `config.Labels` (an index resolves
   * to its linux/amd64 child, else its first). Read only: nothing is created or logged.
   */
  resolveImage(query: {
    accountId: string;
    region: string;
    repositoryName: string;
    reference: string;
  }): Promise<ImageResolution>;
}

export const ECR_TARGET_PREFIX = 'AmazonEC2ContainerRegistry_V20150921';

/** What ECR needs of the server beyond a ServiceFactory's env. */
export interface EcrDeps {
  /** The registry host of each account and region. */
  hosts: RegistryHosts;
  /** The time registry tokens are issued and expire on (the server's credential clock). */
  credentialNow: () => number;
}

/**
 * Opens the registry hosts a call may name — its caller's, a registryId's, GetAuthorizationToken's
 * registryIds — before it runs, so that the operations can read them synchronously.
 */
function openingRegistryHosts(
  operations: Record<string, JsonOperation>,
  hosts: RegistryHosts,
): Record<string, JsonOperation> {
  const wrapped: Record<string, JsonOperation> = {};
  for (const [name, operation] of Object.entries(operations)) {
    wrapped[name] = async (input, ctx) => {
      const named = [input.registryId, ...(Array.isArray(input.registryIds) ? input.registryIds : [])];
      const ids = [ctx.identity.accountId, ...named].filter(
        (id): id is string => typeof id === 'string' && REGISTRY_ID_RE.test(id),
      );
      for (const id of new Set(ids)) await hosts.ensure(id, ctx.region);
      return operation(input, ctx);
    };
  }
  return wrapped;
}

export function createEcr({ hosts, credentialNow }: EcrDeps): ServiceFactory<EcrAdmin> {
  return ({ state }) => createEcrModule(state, hosts, credentialNow);
}

function createEcrModule(
  state: Parameters<ServiceFactory>[0]['state'],
  hosts: RegistryHosts,
  credentialNow: () => number,
): ReturnType<ServiceFactory<EcrAdmin>> {
  const ecr = loadState(state);
  const blobs = new BlobStore(state);
  const save = () => state.save();
  const facts = {
    registryHost(accountId: string, region: string) {
      const host = hosts.hostOf(accountId, region);
      if (!host) throw new Error(`local-aws: no registry host opened for ${accountId}/${region}`);
      return host;
    },
    credentialNow,
  };
  const service: JsonService = {
    protocol: 'json1.1',
    signingName: 'ecr',
    targetPrefix: ECR_TARGET_PREFIX,
    operations: openingRegistryHosts(createEcrOperations(ecr, blobs, save, facts), hosts),
    authorization: ecrAuthorization(ecr),
  };
  return {
    services: [service],
    routes: [createRegistryRoute({ ecr, blobs, save, hosts, credentialNow })],
    admin: {
      setScanFindings(imageDigest, findings) {
        ecr.scanFindings[imageDigest] = structuredClone(findings);
        save();
      },
      setScanDuration(ms) {
        ecr.scanDurationMs = ms >= 0 ? ms : DEFAULT_SCAN_DURATION_MS;
        save();
      },
      snapshot() {
        return structuredClone(ecr);
      },
      hasBlob(digest) {
        return blobs.has(digest);
      },
      async resolveImage({ accountId, region, repositoryName, reference }) {
        const repo = ecr.registries[`${accountId}/${region}`]?.repositories[repositoryName];
        if (!repo) return { found: false, reason: 'repository' };
        const digest = reference.includes(':') ? reference : repo.imageTags[reference];
        if (digest === undefined) return { found: false, reason: 'tag' };
        let image = repo.images[digest];
        if (!image) return { found: false, reason: 'digest' };
        let manifest = parseManifest(Buffer.from(image.manifest, 'utf8'), image.mediaType);
        if (manifest.kind === 'index') {
          const child =
            manifest.manifests.find(
              (m) => m.platform?.os === 'linux' && m.platform.architecture === 'amd64',
            ) ?? manifest.manifests[0];
          image = child ? repo.images[child.digest] : undefined;
          if (!image) return { found: false, reason: 'digest' };
          manifest = parseManifest(Buffer.from(image.manifest, 'utf8'), image.mediaType);
        }
        const labels: Record<string, string> = {};
        const configDigest = manifest.config?.digest;
        if (configDigest && blobs.has(configDigest)) {
          const chunks: Buffer[] = [];
          for await (const chunk of blobs.read(configDigest)) chunks.push(chunk as Buffer);
          try {
            const doc = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
              config?: { Labels?: Record<string, unknown> | null };
            };
            for (const [k, v] of Object.entries(doc.config?.Labels ?? {}))
              if (typeof v === 'string') labels[k] = v;
          } catch {
            // a config that is not JSON has no labels
          }
        }
        return { found: true, digest, labels };
      },
    },
  };
}
