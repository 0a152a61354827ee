// EKS: the REST-JSON control plane (api.ts: clusters, authentication mode, access entries and
// access policies), a simulated Kubernetes cluster per EKS cluster (local-kubernetes, on the
// server's clock), and its Kubernetes API behind EKS's authentication (clusters.ts, token.ts,
// authenticator.ts) at the cluster's endpoint on local-aws's HTTPS listener.
import { readFileSync } from 'node:fs';
import type { ImageInfo, KubernetesCluster } from '@aws-containers/local-kubernetes';
import type { Ec2Network } from '../ec2/index.js';
import type { RestJsonService, ServiceFactory } from '../service.js';
import { createEksOperations, EKS_ROUTES } from './api.js';
import { eksAuthorization } from './authorization.js';
import { EksClusters, type AuthenticationRefusal, type SchedulingClock } from './clusters.js';
import { imageResolver, type ImageDeps } from './images.js';
import {
  clustersOf,
  DEFAULT_TIMINGS,
  loadState,
  type ClusterState,
  type ClusterStatus,
  type EksState,
  type EksTimings,
} from './model.js';

export type { EksTimings, EksState, ClusterState as EksClusterState } from './model.js';
export type { AuthenticationRefusal } from './clusters.js';

/** Which cluster an admin call means: a name in the default account and region, or all three. */
export type ClusterRef = string | { name: string; accountId?: string; region?: string };

/** Test hooks for EKS, exposed on the handle startLocalAws() returns as admin.eks. */
export interface EksAdmin {
  /** Change how long transitions take (simulated ms); applies to the next ones. */
  setTimings(timings: Partial<EksTimings>): void;
  timings(): EksTimings;
  /** A deep copy of EKS's state (clusters, access entries, updates), for assertions. */
  snapshot(): EksState;
  /** Sets a cluster's status now (ACTIVE: serve at once; DELETING: delete after the deletion delay). */
  setClusterStatus(cluster: ClusterRef, status: ClusterStatus): void;
  /** The simulated Kubernetes cluster of an EKS cluster (its store and pod logs), if it has one. */
  kubernetes(cluster: ClusterRef): KubernetesCluster | undefined;
  /** The cluster's Kubernetes endpoint (what DescribeCluster answers once ACTIVE). */
  endpoint(cluster: ClusterRef): string;
  /** Every Kubernetes request refused at authentication, and why (the op log has the call). */
  authenticationRefusals(): AuthenticationRefusal[];
  /**
   * What a cluster's kubelet gets pulling an image (KubernetesHost.resolveImage): the digest and
   * labels of an image in local-aws's registries, or undefined when it does not pull.
   */
  resolveImage(reference: string): Promise<ImageInfo | undefined>;
}

export interface EksDeps extends ImageDeps {
  network: Ec2Network;
  /** The server's default account and region (admin calls naming a cluster alone). */
  accountId: string;
  region: string;
  /** The server's HTTPS URL, once it listens. */
  httpsUrl(): string;
}

export function createEksFactory(deps: EksDeps): ServiceFactory<EksAdmin> {
  return ({ clock, state, verifyPresignedUrl, credentialNow }) => {
    const s = loadState(state);
    const save = () => state.save();
    const scheduling = clock as unknown as Partial<SchedulingClock>;
    if (typeof scheduling.at !== 'function' || typeof scheduling.setTimer !== 'function')
      throw new Error('EKS needs the server clock (with at() and setTimer()).');
    if (!verifyPresignedUrl) throw new Error('EKS needs the server to verify presigned STS URLs.');
    const resolveImage = imageResolver(deps);
    const clusters = new EksClusters(s, {
      clock: scheduling as SchedulingClock,
      save,
      resolveImage,
      verifyPresignedUrl,
      credentialNow: credentialNow ?? (() => Date.now()),
    });
    let caPem: string | undefined;
    const operations = createEksOperations(s, save, {
      network: deps.network,
      now: () => clock.now(),
      lifecycle: {
        created: (c) => clusters.created(c),
        deleting: (c) => clusters.deleting(c),
        updating: (c) => clusters.updating(c),
        endpointOf: (c, ctx) => clusters.endpointOf(c, ctx.server.httpsUrl),
        caPem: (ctx) => (caPem ??= readFileSync(ctx.server.caCertPath, 'utf8')),
      },
    });
    const service: RestJsonService = {
      protocol: 'rest-json',
      signingName: 'eks',
      routes: EKS_ROUTES,
      operations,
      authorization: eksAuthorization(s),
    };
    clusters.resume();

    const find = (ref: ClusterRef): ClusterState => {
      const {
        name,
        accountId = deps.accountId,
        region = deps.region,
      } = typeof ref === 'string' ? { name: ref } : ref;
      const cluster = clustersOf(s, accountId, region)[name];
      if (!cluster) throw new Error(`no EKS cluster ${name} in ${accountId}/${region}`);
      return cluster;
    };
    return {
      services: [service],
      routes: [clusters.route()],
      admin: {
        setTimings(timings) {
          for (const [k, v] of Object.entries(timings))
            if (k in DEFAULT_TIMINGS && typeof v === 'number' && v >= 0) s.timings[k as keyof EksTimings] = v;
          save();
        },
        timings: () => ({ ...s.timings }),
        snapshot: () => structuredClone(s),
        setClusterStatus: (ref, status) => clusters.setStatus(find(ref), status),
        kubernetes: (ref) => clusters.kubernetes(find(ref)),
        endpoint: (ref) => clusters.endpointOf(find(ref), deps.httpsUrl()),
        authenticationRefusals: () => [...clusters.refusals],
        resolveImage,
      },
    };
  };
}

const STATUSES: readonly ClusterStatus[] = [
  'CREATING',
  'ACTIVE',
  'DELETING',
  'FAILED',
  'UPDATING',
  'PENDING',
];

/**
 * admin.eks for out-of-process users (`npx local-aws`): `POST /_local-aws/eks/cluster-status`
 * `{"name", "status", "accountId"?, "region"?}`, `POST /_local-aws/eks/timings` `{"activationMs"…}`,
 * `GET /_local-aws/eks/authentication-refusals`.
 */
export function eksAdminEndpoints(admin: () => EksAdmin) {
  return [
    {
      method: 'POST',
      path: '/_local-aws/eks/cluster-status',
      handle: (body: Record<string, unknown>) => {
        const { name, status, accountId, region } = body;
        if (typeof name !== 'string' || !STATUSES.includes(status as ClusterStatus))
          throw new Error(
            `give {"name": "…", "status": one of ${STATUSES.join(', ')}} (and "accountId", "region")`,
          );
        admin().setClusterStatus(
          {
            name,
            ...(typeof accountId === 'string' ? { accountId } : {}),
            ...(typeof region === 'string' ? { region } : {}),
          },
          status as ClusterStatus,
        );
        return { name, status };
      },
    },
    {
      method: 'POST',
      path: '/_local-aws/eks/timings',
      handle: (body: Record<string, unknown>) => {
        admin().setTimings(body as Partial<EksTimings>);
        return { timings: admin().timings() };
      },
    },
    {
      method: 'GET',
      path: '/_local-aws/eks/authentication-refusals',
      handle: () => ({ refusals: admin().authenticationRefusals() }),
    },
  ];
}
