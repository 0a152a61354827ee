// The `images` input: `name=reference` lines. A name is a container name (the image of that
// container is set, as `kubectl set image` does) or an image repository (every image of that
// repository in the manifests is replaced, as kustomize's `images:` does).
import {
  ParseError,
  normalizeImageReference,
  parseImageReference,
  type ImageReference,
  type KubeObject,
} from '@aws-containers/core';
import { containersOf, podSpecOf, type Manifest } from './manifests.js';

export interface ImageChange {
  /** As written before the `=`. */
  name: string;
  /** The new reference, as written. */
  image: string;
  /** What `name` was taken for: decided against the manifests (see classifyImages). */
  target: 'container' | 'repository';
}

/** A container name: a DNS label (RFC 1123), as Kubernetes requires. */
export const CONTAINER_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export const IMAGES_KEY_EXPECTED =
  'a container name (a DNS label) or an image repository ([registry[:port]/]path, without tag or digest)';

/** Whether `name` can only be a repository: it has a registry or a path. */
function isRepositoryOnly(name: string): boolean {
  return !CONTAINER_NAME.test(name);
}

/** The repository part of a reference, normalised as docker pulls it (`nginx` = `docker.io/library/nginx`). */
export function repositoryKey(ref: ImageReference): string {
  const n = normalizeImageReference(ref);
  return `${n.registry}/${n.repository}`;
}

/** Checks one `images` key: a container name, or a repository (no tag or digest). Throws ParseError. */
export function parseImagesKey(name: string): void {
  if (CONTAINER_NAME.test(name)) return;
  let ref: ImageReference;
  try {
    ref = parseImageReference(name);
  } catch (error) {
    if (error instanceof ParseError) throw new ParseError(IMAGES_KEY_EXPECTED, name, error.hint);
    throw error;
  }
  if (ref.tag || ref.digest) {
    throw new ParseError(
      IMAGES_KEY_EXPECTED,
      name,
      'Leave the tag and digest out of the name; put them in the reference after "="',
    );
  }
}

/**
 * Decides what each name means. With manifests, a name is a repository when an image of the
 * manifests has that repository (compared as docker pulls them), else a container name when it
 * can be one; a repository found nowhere is an error. Without manifests every name must be a
 * container name of the workloads. Returns the changes, or the problems as sentences.
 */
export function classifyImages(
  images: ReadonlyMap<string, string>,
  manifests: readonly Manifest[] | undefined,
): { changes: ImageChange[]; problems: Array<{ name: string; problem: string }> } {
  const repositories = new Set<string>();
  const containerNames = new Set<string>();
  for (const m of manifests ?? []) {
    for (const c of containersOf(podSpecOf(m.object))) {
      containerNames.add(c.name);
      if (typeof c.image !== 'string') continue;
      try {
        repositories.add(repositoryKey(parseImageReference(c.image)));
      } catch {
        // An image the manifests write in a way docker would not pull is left to the API server.
      }
    }
  }
  const changes: ImageChange[] = [];
  const problems: Array<{ name: string; problem: string }> = [];
  for (const [name, image] of images) {
    const asRepository = manifests !== undefined ? repoKeyOf(name) : undefined;
    if (manifests !== undefined && asRepository !== undefined && repositories.has(asRepository)) {
      changes.push({ name, image, target: 'repository' });
    } else if (!isRepositoryOnly(name)) {
      if (manifests !== undefined && !containerNames.has(name)) {
        problems.push({
          name,
          problem: `"${name}" is neither a container of the manifests' workloads nor the repository of one of their images`,
        });
      } else changes.push({ name, image, target: 'container' });
    } else {
      problems.push({
        name,
        problem:
          manifests === undefined
            ? `"${name}" is an image repository, which is replaced in manifests; without manifests, give container names`
            : `no image of the manifests has the repository "${name}"`,
      });
    }
  }
  return { changes, problems };
}

function repoKeyOf(name: string): string | undefined {
  try {
    return repositoryKey(parseImageReference(name));
  } catch {
    return undefined;
  }
}

/**
 * The object with its images changed: a container named by a change gets its image, and a
 * container whose image has a changed repository gets the new reference. Returns the object
 * itself when nothing changed.
 */
export function substituteImages(object: KubeObject, changes: readonly ImageChange[]): KubeObject {
  if (changes.length === 0 || !podSpecOf(object)) return object;
  const copy = structuredClone(object);
  let changed = false;
  for (const container of containersOf(podSpecOf(copy))) {
    const byName = changes.find((c) => c.target === 'container' && c.name === container.name);
    const repository =
      typeof container.image === 'string' ? repoKeyOf(container.image.split('@')[0] ?? '') : undefined;
    const byRepository = changes.find(
      (c) => c.target === 'repository' && repository !== undefined && repoKeyOf(c.name) === repository,
    );
    const change = byName ?? byRepository;
    if (change && container.image !== change.image) {
      container.image = change.image;
      changed = true;
    }
  }
  return changed ? copy : object;
}

/**
 * The strategic merge patch `kubectl set image` sends for a live workload: each named container
 * (in containers or initContainers) with its new image, plus metadata annotations. Returns the
 * container names the workload does not have, so the caller can refuse before any write.
 */
export function setImagePatch(
  live: KubeObject,
  changes: readonly ImageChange[],
  annotations: Readonly<Record<string, string>>,
): { patch: Record<string, unknown>; missing: string[]; changed: string[] } {
  const spec = podSpecOf(live);
  const containers = Array.isArray(spec?.containers)
    ? (spec.containers as Array<{ name: string; image?: string }>)
    : [];
  const inits = Array.isArray(spec?.initContainers)
    ? (spec.initContainers as Array<{ name: string; image?: string }>)
    : [];
  const missing: string[] = [];
  const changed: string[] = [];
  const patchContainers: Array<{ name: string; image: string }> = [];
  const patchInits: Array<{ name: string; image: string }> = [];
  for (const change of changes.filter((c) => c.target === 'container')) {
    const inMain = containers.find((c) => c.name === change.name);
    const inInit = inits.find((c) => c.name === change.name);
    if (!inMain && !inInit) {
      missing.push(change.name);
      continue;
    }
    const current = (inMain ?? inInit)?.image;
    if (current !== change.image) changed.push(change.name);
    (inMain ? patchContainers : patchInits).push({ name: change.name, image: change.image });
  }
  const podSpec: Record<string, unknown> = {};
  if (patchContainers.length > 0) podSpec.containers = patchContainers;
  if (patchInits.length > 0) podSpec.initContainers = patchInits;
  const patch: Record<string, unknown> = { spec: { template: { spec: podSpec } } };
  if (Object.keys(annotations).length > 0) patch.metadata = { annotations };
  return { patch, missing, changed };
}
