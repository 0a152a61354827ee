// What a simulated cluster needs from the server it runs in (local-aws's EKS mounts one per
// cluster), as a small interface so this package imports nothing from local-aws, core or the
// actions: the clock every controller runs on, the images its pods pull, where calls are logged,
// and who may do what.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The shared clock (local-aws's LocalClock satisfies it): simulated ms, timers on simulated time. */
export interface KubernetesClock {
  now(): number;
  setTimer(delayMs: number, fn: () => void): { cancel(): void };
}

/** An authenticated caller, as the authenticator maps it (EKS: access entries or aws-auth). */
export interface KubernetesUser {
  username: string;
  groups: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

/** One authorization question, in the terms of SubjectAccessReview's resourceAttributes. */
export interface AccessRequest {
  user: KubernetesUser;
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

/** What the registry says about an image a pod pulls. */
export interface ImageInfo {
  /** The manifest digest (`sha256:…`): a pod's imageID. */
  digest: string;
  /** The image config's labels (they script the container, as for ECS: local-aws's labels). */
  labels: Record<string, string>;
  /** The image's size in bytes (the kubelet's Pulled event says it); 0 when not given. */
  size?: number;
}

/** One API call, for the server's operation log. */
export interface KubernetesCall {
  user: string;
  verb: string;
  /** `deployments.apps`, `pods/log`. */
  resource: string;
  namespace?: string;
  name?: string;
  status: number;
}

export interface KubernetesHost {
  clock: KubernetesClock;
  /**
   * Resolves an image reference as the kubelet's pull would: its digest and labels, or undefined
   * when the registry does not have it (ErrImagePull). Without it every image pulls, with no labels.
   */
  resolveImage?(reference: string): Promise<ImageInfo | undefined>;
  /** Every API call, after it is answered. */
  log?(call: KubernetesCall): void;
  /** Whether the user may do this; default: any authenticated user may do anything. */
  authorize?(request: AccessRequest): boolean;
}

/** An API server answering one request that the host has authenticated. */
export type KubernetesHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  user: KubernetesUser,
  /** The request path below the cluster's root (`/apis/apps/v1/namespaces/prod/deployments`), with its query. */
  path: string,
) => Promise<void>;
