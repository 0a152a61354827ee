// The contract between the Kubernetes client of core (packages/core/src/kubernetes/, issue 13) and
// the actions that use it (eks-rollout, the root action's EKS target). Types only: the client,
// the EKS token and the rollout status rules implement it.

/** A Kubernetes object as the API returns it. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Array<{
      apiVersion: string;
      kind: string;
      name: string;
      uid: string;
      controller?: boolean;
    }>;
    [member: string]: unknown;
  };
  [member: string]: unknown;
}

/** Where a request goes: `{ group: 'apps', version: 'v1', plural: 'deployments', namespace, name }`. */
export interface ResourceRef {
  /** '' for the core group. */
  group: string;
  version: string;
  plural: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export interface WatchEvent<T = KubeObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
  object: T;
}

/** Every call takes the step's signal (the step's deadline and cancellation). */
export interface CallOptions {
  signal: AbortSignal;
}

export interface KubernetesClient {
  get<T = KubeObject>(ref: ResourceRef, options: CallOptions): Promise<T>;
  /** undefined when the object does not exist (404), instead of an error. */
  find<T = KubeObject>(ref: ResourceRef, options: CallOptions): Promise<T | undefined>;
  list<T = KubeObject>(
    ref: ResourceRef,
    options: CallOptions & { labelSelector?: string; fieldSelector?: string },
  ): Promise<{ items: T[]; resourceVersion: string }>;
  /**
   * Watches from a resourceVersion; reconnects when the server closes the watch, and on 410 Gone
   * lists again and resumes (yielding the listed objects as MODIFIED, and those seen before that
   * are gone from the list as DELETED). Ends when the signal aborts.
   */
  watch<T = KubeObject>(
    ref: ResourceRef,
    options: CallOptions & { labelSelector?: string; fieldSelector?: string; resourceVersion?: string },
  ): AsyncIterable<WatchEvent<T>>;
  create<T = KubeObject>(
    ref: ResourceRef,
    body: unknown,
    options: CallOptions & { dryRun?: boolean },
  ): Promise<T>;
  /** Server-side apply: PATCH application/apply-patch+yaml with fieldManager (and force). */
  apply<T = KubeObject>(
    ref: ResourceRef,
    body: KubeObject,
    options: CallOptions & { fieldManager: string; force?: boolean; dryRun?: boolean },
  ): Promise<T>;
  patch<T = KubeObject>(
    ref: ResourceRef,
    patch: unknown,
    options: CallOptions & {
      type: 'strategic' | 'merge' | 'json';
      fieldManager?: string;
      dryRun?: boolean;
    },
  ): Promise<T>;
  delete(
    ref: ResourceRef,
    options: CallOptions & { propagationPolicy?: 'Background' | 'Foreground' | 'Orphan' },
  ): Promise<void>;
  /** text/plain, e.g. pods/log with container, previous, tailLines. */
  logs(
    ref: ResourceRef,
    options: CallOptions & { container?: string; previous?: boolean; tailLines?: number },
  ): Promise<string>;
  /** Resource types the server serves for a group/version (discovery), to map kinds to plurals. */
  resources(
    group: string,
    version: string,
    options: CallOptions,
  ): Promise<Array<{ name: string; kind: string; namespaced: boolean }>>;
}

/**
 * A failed API call: Kubernetes' Status (code, reason, message). `message` is text from outside the
 * workflow: print it only through core's fence.
 */
export interface KubernetesApiErrorShape {
  status: number;
  reason: string;
  message: string;
  /** The verb and path asked (never a token). */
  request: string;
}

/** How a workload's rollout stands, by kubectl's rules (`kubectl rollout status`). */
export interface RolloutStatus {
  done: boolean;
  /** kubectl's own sentence ("Waiting for deployment \"web\" rollout to finish: 1 of 3 updated replicas are available..."). */
  message: string;
  /** Set when kubectl would give up: ProgressDeadlineExceeded. */
  failed?: string;
}
