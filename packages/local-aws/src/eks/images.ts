// The image lookup a simulated cluster's kubelet pulls through (KubernetesHost.resolveImage), with
// ECS's rule: an image on one of local-aws's registry hosts resolves in that registry (its manifest
// digest and its config's labels, which script the container) or does not pull; an image of any
// other registry pulls, with no labels, unless admin.ecs.setUnpullable() marked it.
import type { ImageInfo } from '@aws-containers/local-kubernetes';
import { parseImageUri, type RegistryLookup } from '../ecs/index.js';
import { sha256 } from '../oci-image.js';

export interface ImageDeps {
  lookup: RegistryLookup;
  registryAt(host: string): { accountId: string; region: string } | undefined;
  /** Whether an image of another registry was marked unpullable (ECS's setUnpullable list). */
  unpullable(image: string): boolean;
}

export function imageResolver(deps: ImageDeps): (reference: string) => Promise<ImageInfo | undefined> {
  return async (image) => {
    const { host, repository, reference } = parseImageUri(image);
    const registry = host === undefined ? undefined : deps.registryAt(host);
    if (registry) {
      const found = await deps.lookup({ ...registry, repositoryName: repository, reference });
      return found.found ? { digest: found.digest, labels: found.labels } : undefined;
    }
    if (deps.unpullable(image)) return undefined;
    // Another registry's image: pullable; a digest reference is its own imageID, a tag gets a
    // stable made-up digest (what the kubelet reports does not matter to anyone here).
    return {
      digest: reference.startsWith('sha256:') ? reference : sha256(image),
      labels: {},
    };
  };
}
