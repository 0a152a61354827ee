// The repository pushed to: found, or created with the requested settings; an existing one is
// left as it is unless update-repository-settings asks otherwise.
import {
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  PutImageScanningConfigurationCommand,
  PutImageTagMutabilityCommand,
  PutLifecyclePolicyCommand,
  SetRepositoryPolicyCommand,
  TagResourceCommand,
  type CreateRepositoryCommandInput,
  type ECRClient,
  type Repository,
} from '@aws-sdk/client-ecr';
import { ActionError } from '@aws-containers/core';
import type { RepositorySettings } from './inputs.js';

export interface RepositoryTarget {
  /** Undefined: the registry of the caller's account. */
  registryId: string | undefined;
  repositoryName: string;
  region: string;
}

export interface EnsuredRepository {
  repository: Repository;
  /** What this step did to it, in the user's words, for the log and the summary. */
  changes: string[];
  created: boolean;
}

function exclusionFilters(
  settings: RepositorySettings,
): Pick<CreateRepositoryCommandInput, 'imageTagMutabilityExclusionFilters'> {
  if (settings.imageTagMutabilityExclusions.length === 0) return {};
  return {
    imageTagMutabilityExclusionFilters: settings.imageTagMutabilityExclusions.map((filter) => ({
      filterType: 'WILDCARD',
      filter,
    })),
  };
}

/** The CreateRepository request for the settings (pure). */
export function createRepositoryRequest(
  target: RepositoryTarget,
  settings: RepositorySettings,
): CreateRepositoryCommandInput {
  return {
    ...registryOf(target),
    repositoryName: target.repositoryName,
    imageTagMutability: settings.imageTagMutability,
    ...exclusionFilters(settings),
    imageScanningConfiguration: { scanOnPush: settings.scanOnPush },
    encryptionConfiguration:
      settings.encryption.type === 'KMS'
        ? {
            encryptionType: 'KMS',
            ...(settings.encryption.kmsKey ? { kmsKey: settings.encryption.kmsKey } : {}),
          }
        : { encryptionType: 'AES256' },
    ...(settings.tags.size > 0 ? { tags: [...settings.tags].map(([Key, Value]) => ({ Key, Value })) } : {}),
  };
}

function registryOf(target: RepositoryTarget): { registryId?: string } {
  return target.registryId ? { registryId: target.registryId } : {};
}

function isNotFound(err: unknown): boolean {
  return err instanceof Error && err.name === 'RepositoryNotFoundException';
}

export async function findRepository(
  ecr: ECRClient,
  target: RepositoryTarget,
  signal?: AbortSignal,
): Promise<Repository | undefined> {
  try {
    const found = await ecr.send(
      new DescribeRepositoriesCommand({ ...registryOf(target), repositoryNames: [target.repositoryName] }),
      { abortSignal: signal },
    );
    return found.repositories?.[0];
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export async function ensureRepository(
  ecr: ECRClient,
  target: RepositoryTarget,
  options: { create: boolean; update: boolean; settings: RepositorySettings; signal?: AbortSignal },
): Promise<EnsuredRepository> {
  const { settings, signal } = options;
  const existing = await findRepository(ecr, target, signal);
  if (!existing && !options.create) {
    throw new ActionError(
      `The repository "${target.repositoryName}" does not exist in ${target.registryId ? `registry ${target.registryId}` : "your account's registry"} (${target.region})`,
      { hint: 'Create it, or set create-repository: true' },
    );
  }
  const changes: string[] = [];
  let repository = existing;
  if (!repository) {
    const created = await ecr.send(new CreateRepositoryCommand(createRepositoryRequest(target, settings)), {
      abortSignal: signal,
    });
    repository = created.repository as Repository;
    changes.push(
      `created with ${settings.imageTagMutability} tags, scan on push ${settings.scanOnPush ? 'on' : 'off'}, ${settings.encryption.type} encryption`,
    );
  } else if (options.update) {
    const mutability = repository.imageTagMutability;
    if (mutability !== settings.imageTagMutability || settings.imageTagMutabilityExclusions.length > 0) {
      await ecr.send(
        new PutImageTagMutabilityCommand({
          ...registryOf(target),
          repositoryName: target.repositoryName,
          imageTagMutability: settings.imageTagMutability,
          ...exclusionFilters(settings),
        }),
        { abortSignal: signal },
      );
      changes.push(`tag mutability ${mutability ?? 'unknown'} → ${settings.imageTagMutability}`);
    }
    if ((repository.imageScanningConfiguration?.scanOnPush ?? false) !== settings.scanOnPush) {
      await ecr.send(
        new PutImageScanningConfigurationCommand({
          ...registryOf(target),
          repositoryName: target.repositoryName,
          imageScanningConfiguration: { scanOnPush: settings.scanOnPush },
        }),
        { abortSignal: signal },
      );
      changes.push(`scan on push ${settings.scanOnPush ? 'on' : 'off'}`);
    }
    if (settings.tags.size > 0 && repository.repositoryArn) {
      await ecr.send(
        new TagResourceCommand({
          resourceArn: repository.repositoryArn,
          tags: [...settings.tags].map(([Key, Value]) => ({ Key, Value })),
        }),
        { abortSignal: signal },
      );
      changes.push(`tags ${[...settings.tags.keys()].join(', ')}`);
    }
    // Encryption is fixed when a repository is created; ECR has no call to change it.
  }
  if (!existing || options.update) {
    if (settings.lifecyclePolicy !== undefined) {
      await ecr.send(
        new PutLifecyclePolicyCommand({
          ...registryOf(target),
          repositoryName: target.repositoryName,
          lifecyclePolicyText: settings.lifecyclePolicy,
        }),
        { abortSignal: signal },
      );
      changes.push('lifecycle policy set');
    }
    if (settings.repositoryPolicy !== undefined) {
      await ecr.send(
        new SetRepositoryPolicyCommand({
          ...registryOf(target),
          repositoryName: target.repositoryName,
          policyText: settings.repositoryPolicy,
        }),
        { abortSignal: signal },
      );
      changes.push('repository policy set');
    }
  }
  return { repository, changes, created: !existing };
}
