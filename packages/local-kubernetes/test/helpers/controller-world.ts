// A cluster's store and controllers on a stepped clock, with a registry of images (reference →
// digest and labels) for host.resolveImage, and readers for what the tests assert: objects by
// name, pods of an owner, events of an object.
import { createHash } from 'node:crypto';
import { startControllers } from '../../src/controllers/index.js';
import type { ClusterOptions } from '../../src/cluster.js';
import type { ImageInfo } from '../../src/host.js';
import { PodLogs } from '../../src/logs.js';
import { findByPath, type ResourceType } from '../../src/resources.js';
import { ObjectStore, type KObject, type NewObject } from '../../src/store.js';
import { SteppedClock } from './stepped-clock.js';

export const types = {
  nodes: findByPath('', 'v1', 'nodes')!,
  pods: findByPath('', 'v1', 'pods')!,
  events: findByPath('', 'v1', 'events')!,
  configmaps: findByPath('', 'v1', 'configmaps')!,
  secrets: findByPath('', 'v1', 'secrets')!,
  deployments: findByPath('apps', 'v1', 'deployments')!,
  replicasets: findByPath('apps', 'v1', 'replicasets')!,
  statefulsets: findByPath('apps', 'v1', 'statefulsets')!,
  daemonsets: findByPath('apps', 'v1', 'daemonsets')!,
  controllerrevisions: findByPath('apps', 'v1', 'controllerrevisions')!,
  jobs: findByPath('batch', 'v1', 'jobs')!,
};

export const digestOf = (ref: string) => `sha256:${createHash('sha256').update(ref).digest('hex')}`;

export function world(options: ClusterOptions = {}) {
  const clock = new SteppedClock();
  const start = clock.now();
  const store = new ObjectStore({ clock });
  const logs = new PodLogs();
  const images = new Map<string, ImageInfo>();
  const pulls: string[] = [];
  const controllers = startControllers({
    store,
    logs,
    options,
    host: {
      clock,
      resolveImage: async (reference) => {
        pulls.push(reference);
        return images.get(reference);
      },
    },
  });
  const w = {
    clock,
    store,
    logs,
    pulls,
    controllers,
    /** Seconds since the world started. */
    elapsed: () => (clock.now() - start) / 1000,
    image(reference: string, labels: Record<string, string> = {}, size?: number) {
      images.set(reference, { digest: digestOf(reference), labels, ...(size !== undefined ? { size } : {}) });
      return reference;
    },
    create(type: ResourceType, object: NewObject) {
      return store.create(type, object);
    },
    get(type: ResourceType, name: string, namespace = 'default') {
      return store.get(type, namespace, name);
    },
    /** Changes an object as a client's PUT would (spec, metadata). */
    edit(type: ResourceType, name: string, mutate: (o: KObject) => void, namespace = 'default') {
      const o = store.require(type, namespace, name);
      mutate(o);
      return store.update(type, o);
    },
    podsOf(owner: KObject): KObject[] {
      return store
        .list(types.pods, owner.metadata.namespace)
        .filter((p) => p.metadata.ownerReferences?.some((r) => r.uid === owner.metadata.uid));
    },
    replicaSetsOf(d: KObject): KObject[] {
      return store
        .list(types.replicasets, d.metadata.namespace)
        .filter((rs) => rs.metadata.ownerReferences?.some((r) => r.uid === d.metadata.uid));
    },
    /** Events about an object, oldest first, as "reason: message" (with ×count when > 1). */
    eventsOf(object: KObject | undefined, options: { withCount?: boolean } = {}): string[] {
      if (!object) return [];
      return store
        .list(types.events, object.metadata.namespace ?? 'default')
        .filter((e) => (e.involvedObject as { uid: string }).uid === object.metadata.uid)
        .sort(
          (a, b) =>
            String(a.firstTimestamp).localeCompare(String(b.firstTimestamp)) ||
            a.metadata.name.localeCompare(b.metadata.name),
        )
        .map(
          (e) =>
            `${e.reason}: ${e.message}${options.withCount && (e.count as number) > 1 ? ` ×${e.count}` : ''}`,
        );
    },
    async advance(seconds: number) {
      await clock.advance(seconds * 1000);
    },
    stop() {
      controllers.stop();
    },
  };
  return w;
}

export type World = ReturnType<typeof world>;

export const deployment = (
  name: string,
  image: string,
  spec: Record<string, unknown> = {},
  container: Record<string, unknown> = {},
): NewObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'default' },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name, image, ...container }] },
    },
    ...spec,
  },
});

export const statusOf = <T = Record<string, unknown>>(o: KObject | undefined) => (o?.status ?? {}) as T;

export const condition = (o: KObject | undefined, type: string) =>
  ((o?.status as { conditions?: Array<Record<string, string>> } | undefined)?.conditions ?? []).find(
    (c) => c.type === type,
  );
