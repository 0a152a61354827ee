// eks-rollout's preflight (issue 15): before the first write, the images the rollout is about to
// run are asked of ECR (private ECR images only), and every namespace an object goes into must
// exist or be created by the manifests — otherwise the apply would stop half-way.
import {
  checkEcrImages,
  type DescribeEcrImage,
  type KubeObject,
  type PreflightFinding,
} from '@aws-containers/core';
import { templateImages } from './follow.js';
import { knownKind } from './manifests.js';
import type { StageContext } from './stages.js';

/** The images of the objects' pod templates (a Job's too) and of the set-image changes, each once (pure). */
export function imagesToRun(objects: readonly KubeObject[], setImages: readonly string[]): string[] {
  return [...new Set([...objects.flatMap((o) => templateImages(o)), ...setImages])];
}

/** The namespaces objects go into that the manifests do not create (pure). */
export function namespacesNeeded(objects: readonly KubeObject[], others: readonly string[]): string[] {
  const created = new Set(
    objects.filter((o) => o.kind === 'Namespace' && o.apiVersion === 'v1').map((o) => o.metadata.name),
  );
  const used = [
    ...objects
      .filter((o) => knownKind(o.apiVersion, o.kind)?.namespaced !== false && o.kind !== 'Namespace')
      .map((o) => o.metadata.namespace)
      .filter((n): n is string => typeof n === 'string' && n !== ''),
    ...others,
  ];
  return [...new Set(used)].filter((n) => !created.has(n));
}

export async function runEksPreflight(
  ctx: StageContext,
  describe: DescribeEcrImage,
  images: readonly string[],
  namespaces: readonly string[],
): Promise<PreflightFinding[]> {
  const [imageFindings, namespaceFindings] = await Promise.all([
    checkEcrImages(images, describe, ctx.signal).then((found) =>
      found.flatMap((f): PreflightFinding[] =>
        f.state === 'found'
          ? []
          : [
              {
                where: `image ${f.image}`,
                problem: f.message,
                fix:
                  f.state === 'missing'
                    ? 'push it first, or correct the tag or digest'
                    : 'give the role ecr:DescribeImages',
                severity: f.state === 'missing' ? 'error' : 'unchecked',
              },
            ],
      ),
    ),
    Promise.all(
      namespaces.map(async (name): Promise<PreflightFinding[]> => {
        const found = await ctx.client.find(
          { group: '', version: 'v1', plural: 'namespaces', name },
          { signal: ctx.signal },
        );
        return found
          ? []
          : [
              {
                where: `namespace ${name}`,
                problem: `the namespace ${name} does not exist and the manifests do not create it`,
                fix: 'add a Namespace to the manifests, or create it first',
                severity: 'error',
              },
            ];
      }),
    ).then((all) => all.flat()),
  ]);
  return [...namespaceFindings, ...imageFindings];
}
