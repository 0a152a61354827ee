// Secrets Manager's state: the secrets of each account and region, keyed by their full ARN, each
// with its versions (the version id is the ClientRequestToken) and the staging labels on them.
import { randomInt } from 'node:crypto';
import type { StateStore } from '../service.js';

export interface SecretTag {
  Key: string;
  Value: string;
}

export interface SecretVersion {
  versionId: string;
  secretString?: string;
  /** Base64, as the JSON protocol carries blobs. */
  secretBinary?: string;
  createdDate: number;
  stages: string[];
}

export interface Secret {
  arn: string;
  name: string;
  description?: string;
  kmsKeyId?: string;
  tags: SecretTag[];
  createdDate: number;
  lastChangedDate: number;
  lastAccessedDate?: number;
  /** Set while the secret is scheduled for deletion. */
  deletedDate?: number;
  /** When a secret scheduled for deletion is gone. */
  deletionDate?: number;
  /** Oldest first. */
  versions: SecretVersion[];
}

export interface SecretsManagerState {
  /** `<account>/<region>` → ARN → secret. */
  regions: Record<string, Record<string, Secret>>;
}

export function loadState(state: StateStore): SecretsManagerState {
  return state.namespace<SecretsManagerState>('secretsmanager', () => ({ regions: {} }));
}

const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A secret's ARN as Secrets Manager forms it: its name, a hyphen and 6 random alphanumerics. */
export function newSecretArn(accountId: string, region: string, name: string): string {
  let suffix = '';
  for (let i = 0; i < 6; i++) suffix += SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)];
  return `${partialSecretArn(accountId, region, name)}-${suffix}`;
}

export function partialSecretArn(accountId: string, region: string, name: string): string {
  return `arn:aws:secretsmanager:${region}:${accountId}:secret:${name}`;
}

/** The secrets of an account and region, those whose recovery window has ended removed. */
export function secretsOf(
  sm: SecretsManagerState,
  accountId: string,
  region: string,
  now: number,
): Record<string, Secret> {
  const secrets = (sm.regions[`${accountId}/${region}`] ??= {});
  for (const [arn, secret] of Object.entries(secrets))
    if (secret.deletionDate !== undefined && secret.deletionDate <= now) delete secrets[arn];
  return secrets;
}

/**
 * The secret a SecretId names: its full ARN, a partial ARN (without the 6-character suffix), or
 * its name.
 */
export function findSecret(secrets: Record<string, Secret>, secretId: string): Secret | undefined {
  const exact = secrets[secretId];
  if (exact) return exact;
  const all = Object.values(secrets);
  if (secretId.startsWith('arn:')) return all.find((s) => s.arn.slice(0, s.arn.length - 7) === secretId);
  return all.find((s) => s.name === secretId);
}

/** The version a stage or a version id names (both: the version must carry the stage). */
export function findVersion(
  secret: Secret,
  versionId: string | undefined,
  versionStage: string | undefined,
): SecretVersion | undefined {
  if (versionId !== undefined) {
    const version = secret.versions.find((v) => v.versionId === versionId);
    return version && (versionStage === undefined || version.stages.includes(versionStage))
      ? version
      : undefined;
  }
  const stage = versionStage ?? 'AWSCURRENT';
  return secret.versions.find((v) => v.stages.includes(stage));
}

/** The message of the ResourceNotFoundException for a version that is not there. */
export function versionNotFoundMessage(
  versionId: string | undefined,
  versionStage: string | undefined,
): string {
  return versionId !== undefined
    ? `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`
    : `Secrets Manager can't find the specified secret value for staging label: ${versionStage ?? 'AWSCURRENT'}`;
}

export const SECRET_NOT_FOUND = "Secrets Manager can't find the specified secret.";
export const MARKED_FOR_DELETION =
  "You can't perform this operation on the secret because it was marked for deletion.";
