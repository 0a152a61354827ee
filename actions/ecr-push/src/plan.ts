// Pure: what the step will do, decided from the inputs and the run's git context before any AWS
// call, so that a bad tag or a missing file fails the step with nothing changed.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { InputError, InputErrors, type GitHubContext } from '@aws-containers/core';
import type { ImageSource, Inputs } from './inputs.js';
import { computeTags } from './tags.js';

export interface PushPlan {
  tags: string[];
  /** OCI labels from git plus the labels input (builds only). */
  labels: Record<string, string>;
  version: string | undefined;
  /** The docker engine is needed: to build or to take a local image. */
  needsEngine: boolean;
}

export function planPush(inputs: Inputs, context: GitHubContext, now: Date): PushPlan {
  const computed = computeTags(inputs.tagRules, context, now);
  const errors: InputError[] = computed.errors.map(
    (e) => new InputError('tags', e.expected, e.given, e.hint),
  );
  if (computed.tags.length === 0 && errors.length === 0) {
    errors.push(
      new InputError(
        'tags',
        'rules that give at least one tag for this run',
        undefined,
        `No rule applied to this ${context.eventName ?? 'run'} (ref ${context.ref ?? 'unknown'}). Add one that always applies, such as sha or raw:<tag>`,
      ),
    );
  }
  errors.push(...sourceErrors(inputs.source, context.workspace));
  if (errors.length > 0) throw new InputErrors(errors);
  return {
    tags: computed.tags,
    labels: { ...computed.labels, ...Object.fromEntries(inputs.labels) },
    version: computed.version,
    needsEngine: inputs.source.kind === 'context' || inputs.source.kind === 'image',
  };
}

function isDirectory(file: string): boolean {
  return existsSync(file) && statSync(file).isDirectory();
}

/** The files an image source names must be there before anything is logged in to or built. */
export function sourceErrors(source: ImageSource, workspace: string | undefined): InputError[] {
  const resolve = (p: string) => path.resolve(workspace ?? process.cwd(), p);
  switch (source.kind) {
    case 'context': {
      const errors: InputError[] = [];
      if (!isDirectory(resolve(source.context))) {
        errors.push(new InputError('context', 'a directory to build', source.context, 'It does not exist'));
      } else {
        const dockerfile = source.dockerfile ?? path.join(source.context, 'Dockerfile');
        if (!existsSync(resolve(dockerfile))) {
          errors.push(
            new InputError(
              'dockerfile',
              'a Dockerfile',
              dockerfile,
              source.dockerfile
                ? 'It does not exist'
                : 'The context has no Dockerfile; name one with the dockerfile input',
            ),
          );
        }
      }
      return errors;
    }
    case 'oci-layout':
      if (!isDirectory(resolve(source.path))) {
        return [
          new InputError('oci-layout', 'an OCI image layout directory', source.path, 'It does not exist'),
        ];
      }
      if (!existsSync(resolve(path.join(source.path, 'oci-layout')))) {
        return [
          new InputError(
            'oci-layout',
            'an OCI image layout directory',
            source.path,
            'It has no oci-layout file: is it a layout (docker buildx --output type=oci,tar=false, skopeo copy … oci:DIR)?',
          ),
        ];
      }
      return [];
    case 'docker-archive':
      return existsSync(resolve(source.path))
        ? []
        : [new InputError('docker-archive', 'a docker save archive', source.path, 'It does not exist')];
    default:
      return [];
  }
}
