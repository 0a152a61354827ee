// Pure: what the step will do, decided from the inputs and the run's git context before any AWS
// call, so that a bad tag or a missing file fails the step with nothing changed.
//
// Paths are resolved here, once, against GITHUB_WORKSPACE (else the working directory): the path
// that was checked is the path that is read or built, whatever directory the step runs in.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { InputError, InputErrors, type GitHubContext } from '@aws-containers/core';
import { isRemoteContext } from './docker.js';
import type { ImageSource, Inputs, PromoteReference } from './inputs.js';
import { computeTags, type SkippedRule } from './tags.js';

/** The image source with every local path absolute: what the push stage reads or builds. */
export type PlannedSource =
  | {
      kind: 'context';
      /** An absolute folder, or a remote context (git or https URL) as given. */
      context: string;
      /** Absolute for a local context; as given (inside the context) for a remote one. */
      dockerfile: string | undefined;
      buildArgs: ReadonlyMap<string, string>;
      target: string | undefined;
      platforms: string[];
    }
  | { kind: 'image'; image: string }
  | { kind: 'oci-layout'; path: string; ref: string | undefined }
  | { kind: 'docker-archive'; path: string }
  | { kind: 'promote-from'; reference: PromoteReference };

export interface PushPlan {
  tags: string[];
  /** Rules that give no tag in this run, and why (logged, one line each). */
  skippedRules: SkippedRule[];
  /** OCI labels from git plus the labels input (builds only). */
  labels: Record<string, string>;
  version: string | undefined;
  source: PlannedSource;
  /** The docker engine is needed: to build or to take a local image. */
  needsEngine: boolean;
}

export function planPush(inputs: Inputs, context: GitHubContext, now: Date): PushPlan {
  const computed = computeTags(inputs.tagRules, context, now);
  const errors: InputError[] = computed.errors.map(
    (e) => new InputError('tags', e.expected, e.given, e.hint),
  );
  if (computed.tags.length === 0 && errors.length === 0) {
    const why = computed.skipped.map((s) => `"${s.rule}": ${s.why}`).join('; ');
    errors.push(
      new InputError(
        'tags',
        'rules that give at least one tag for this run',
        undefined,
        `No rule applied to this ${context.eventName ?? 'run'} (ref ${context.ref ?? 'unknown'})${why ? ` (${why})` : ''}. Add one that always applies, such as sha or raw:<tag>`,
      ),
    );
  }
  const source = resolveSource(inputs.source, context.workspace ?? process.cwd());
  errors.push(...sourceErrors(inputs.source, source));
  if (errors.length > 0) throw new InputErrors(errors);
  return {
    tags: computed.tags,
    skippedRules: computed.skipped,
    labels: { ...computed.labels, ...Object.fromEntries(inputs.labels) },
    version: computed.version,
    source,
    needsEngine: source.kind === 'context' || source.kind === 'image',
  };
}

/** The source with its local paths resolved against `base` (the workspace). */
export function resolveSource(source: ImageSource, base: string): PlannedSource {
  const resolve = (p: string) => path.resolve(base, p);
  switch (source.kind) {
    case 'context': {
      if (isRemoteContext(source.context)) return { ...source };
      const context = resolve(source.context);
      const dockerfile =
        source.dockerfile !== undefined
          ? resolve(source.dockerfile)
          : (['Dockerfile', 'dockerfile'].map((name) => path.join(context, name)).find(existsSync) ??
            path.join(context, 'Dockerfile'));
      return { ...source, context, dockerfile };
    }
    case 'oci-layout':
    case 'docker-archive':
      return { ...source, path: resolve(source.path) };
    default:
      return source;
  }
}

function isDirectory(file: string): boolean {
  return existsSync(file) && statSync(file).isDirectory();
}

/**
 * The files an image source names must be there before anything is logged in to or built.
 * `given` is the source as the user wrote it (for the messages), `planned` the same resolved.
 */
export function sourceErrors(given: ImageSource, planned: PlannedSource): InputError[] {
  if (given.kind === 'context' && planned.kind === 'context') {
    if (isRemoteContext(given.context)) return [];
    if (!isDirectory(planned.context)) {
      return [new InputError('context', 'a directory to build', given.context, 'It does not exist')];
    }
    if (planned.dockerfile === undefined || !existsSync(planned.dockerfile)) {
      return [
        new InputError(
          'dockerfile',
          'a Dockerfile',
          given.dockerfile ?? path.join(given.context, 'Dockerfile'),
          given.dockerfile
            ? 'It does not exist'
            : 'The context has no Dockerfile; name one with the dockerfile input',
        ),
      ];
    }
    return [];
  }
  if (given.kind === 'oci-layout' && planned.kind === 'oci-layout') {
    if (!isDirectory(planned.path)) {
      return [new InputError('oci-layout', 'an OCI image layout directory', given.path, 'It does not exist')];
    }
    if (!existsSync(path.join(planned.path, 'oci-layout'))) {
      return [
        new InputError(
          'oci-layout',
          'an OCI image layout directory',
          given.path,
          'It has no oci-layout file: is it a layout (docker buildx --output type=oci,tar=false, skopeo copy … oci:DIR)?',
        ),
      ];
    }
    return [];
  }
  if (given.kind === 'docker-archive' && planned.kind === 'docker-archive') {
    return existsSync(planned.path)
      ? []
      : [new InputError('docker-archive', 'a docker save archive', given.path, 'It does not exist')];
  }
  return [];
}
