// Secrets Manager's operations (AWS JSON 1.1, `secretsmanager.<Operation>`): CreateSecret,
// DescribeSecret, GetSecretValue, PutSecretValue, DeleteSecret (recovery window or
// ForceDeleteWithoutRecovery), RestoreSecret and ListSecrets.
import { randomUUID } from 'node:crypto';
import { AwsError, type JsonOperation, type RequestContext } from '../service.js';
import {
  findSecret,
  findVersion,
  MARKED_FOR_DELETION,
  newSecretArn,
  SECRET_NOT_FOUND,
  secretsOf,
  versionNotFoundMessage,
  type Secret,
  type SecretsManagerState,
  type SecretTag,
  type SecretVersion,
} from './model.js';

const DAY_MS = 86_400_000;
const NAME_RE = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

const invalid = (message: string) => new AwsError('InvalidParameterException', message);

function requireText(input: Record<string, unknown>, member: string): string {
  const value = text(input[member]);
  if (value === undefined)
    throw invalid(
      `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
    );
  return value;
}

function tagsOf(value: unknown): SecretTag[] {
  if (!Array.isArray(value)) return [];
  return value
    .filter((t): t is Record<string, unknown> => typeof t === 'object' && t !== null)
    .map((t) => ({ Key: String(t.Key ?? ''), Value: String(t.Value ?? '') }));
}

/** SecretString / SecretBinary of a request (not both). */
function valueOf(
  input: Record<string, unknown>,
): { secretString?: string; secretBinary?: string } | undefined {
  const secretString = typeof input.SecretString === 'string' ? input.SecretString : undefined;
  const secretBinary = typeof input.SecretBinary === 'string' ? input.SecretBinary : undefined;
  if (secretString !== undefined && secretBinary !== undefined)
    throw invalid(
      "You can't specify both a binary secret value and a string secret value in the same secret.",
    );
  if (secretString !== undefined) return { secretString };
  if (secretBinary !== undefined) return { secretBinary };
  return undefined;
}

function clientRequestToken(input: Record<string, unknown>): string {
  const token = text(input.ClientRequestToken);
  if (token === undefined) return randomUUID();
  if (token.length < 32 || token.length > 64)
    throw invalid('ClientRequestToken must be 32-64 characters long.');
  return token;
}

/** Puts `stages` on `version`, taking them from the others; AWSCURRENT leaves AWSPREVIOUS behind. */
function moveStages(secret: Secret, version: SecretVersion, stages: string[]): void {
  for (const stage of stages) {
    const holder = secret.versions.find((v) => v !== version && v.stages.includes(stage));
    if (holder) {
      holder.stages = holder.stages.filter((s) => s !== stage);
      if (stage === 'AWSCURRENT') {
        for (const v of secret.versions) v.stages = v.stages.filter((s) => s !== 'AWSPREVIOUS');
        holder.stages.push('AWSPREVIOUS');
      }
    }
    if (!version.stages.includes(stage)) version.stages.push(stage);
  }
  if (stages.includes('AWSCURRENT')) version.stages = version.stages.filter((s) => s !== 'AWSPREVIOUS');
}

const versionIdsToStages = (secret: Secret): Record<string, string[]> =>
  Object.fromEntries(
    secret.versions.filter((v) => v.stages.length > 0).map((v) => [v.versionId, [...v.stages]]),
  );

const date = (ms: number | undefined): Date | undefined => (ms === undefined ? undefined : new Date(ms));

function description(secret: Secret, versionsMember: 'VersionIdsToStages' | 'SecretVersionsToStages') {
  return {
    ARN: secret.arn,
    Name: secret.name,
    ...(secret.description !== undefined ? { Description: secret.description } : {}),
    ...(secret.kmsKeyId !== undefined ? { KmsKeyId: secret.kmsKeyId } : {}),
    LastChangedDate: date(secret.lastChangedDate),
    ...(secret.lastAccessedDate !== undefined ? { LastAccessedDate: date(secret.lastAccessedDate) } : {}),
    ...(secret.deletedDate !== undefined ? { DeletedDate: date(secret.deletedDate) } : {}),
    ...(secret.tags.length > 0 ? { Tags: secret.tags.map((t) => ({ ...t })) } : {}),
    [versionsMember]: versionIdsToStages(secret),
    CreatedDate: date(secret.createdDate),
  };
}

export interface SecretsManagerFacts {
  /** The ARN authorization chose for a CreateSecret request (its random suffix), by request id. */
  takeNewArn(requestId: string): string | undefined;
}

export function createSecretsManagerOperations(
  sm: SecretsManagerState,
  save: () => void,
  facts: SecretsManagerFacts,
): Record<string, JsonOperation> {
  const secretsHere = (ctx: RequestContext) =>
    secretsOf(sm, ctx.identity.accountId, ctx.region, ctx.clock.now());

  function lookup(input: Record<string, unknown>, ctx: RequestContext): Secret {
    const secret = findSecret(secretsHere(ctx), requireText(input, 'SecretId'));
    if (!secret) throw new AwsError('ResourceNotFoundException', SECRET_NOT_FOUND);
    return secret;
  }

  function live(input: Record<string, unknown>, ctx: RequestContext): Secret {
    const secret = lookup(input, ctx);
    if (secret.deletedDate !== undefined) throw new AwsError('InvalidRequestException', MARKED_FOR_DELETION);
    return secret;
  }

  return {
    CreateSecret(input, ctx) {
      const name = requireText(input, 'Name');
      if (!NAME_RE.test(name))
        throw invalid(
          'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!',
        );
      const secrets = secretsHere(ctx);
      const existing = Object.values(secrets).find((s) => s.name === name);
      if (existing?.deletedDate !== undefined)
        throw new AwsError(
          'InvalidRequestException',
          "You can't create this secret because a secret with this name is already scheduled for deletion.",
        );
      if (existing)
        throw new AwsError(
          'ResourceExistsException',
          `The operation failed because the secret ${name} already exists.`,
        );
      const value = valueOf(input);
      const versionId = clientRequestToken(input);
      const now = ctx.clock.now();
      const arn = facts.takeNewArn(ctx.requestId) ?? newSecretArn(ctx.identity.accountId, ctx.region, name);
      const secret: Secret = {
        arn,
        name,
        ...(text(input.Description) !== undefined ? { description: text(input.Description) } : {}),
        ...(text(input.KmsKeyId) !== undefined ? { kmsKeyId: text(input.KmsKeyId) } : {}),
        tags: tagsOf(input.Tags),
        createdDate: now,
        lastChangedDate: now,
        versions: value ? [{ versionId, ...value, createdDate: now, stages: ['AWSCURRENT'] }] : [],
      };
      secrets[arn] = secret;
      save();
      return { ARN: arn, Name: name, ...(value ? { VersionId: versionId } : {}) };
    },

    DescribeSecret(input, ctx) {
      return description(lookup(input, ctx), 'VersionIdsToStages');
    },

    GetSecretValue(input, ctx) {
      const secret = live(input, ctx);
      const versionId = text(input.VersionId);
      const versionStage = text(input.VersionStage);
      const version = findVersion(secret, versionId, versionStage);
      if (!version)
        throw new AwsError('ResourceNotFoundException', versionNotFoundMessage(versionId, versionStage));
      const now = ctx.clock.now();
      secret.lastAccessedDate = now - (now % DAY_MS);
      save();
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: version.versionId,
        ...(version.secretString !== undefined ? { SecretString: version.secretString } : {}),
        ...(version.secretBinary !== undefined ? { SecretBinary: version.secretBinary } : {}),
        VersionStages: [...version.stages],
        CreatedDate: date(version.createdDate),
      };
    },

    PutSecretValue(input, ctx) {
      const secret = live(input, ctx);
      const value = valueOf(input);
      if (!value) throw invalid('You must provide either SecretString or SecretBinary.');
      const versionId = clientRequestToken(input);
      const stages = Array.isArray(input.VersionStages)
        ? input.VersionStages.filter((s): s is string => typeof s === 'string' && s !== '')
        : ['AWSCURRENT'];
      const existing = secret.versions.find((v) => v.versionId === versionId);
      if (existing) {
        if (existing.secretString !== value.secretString || existing.secretBinary !== value.secretBinary)
          throw new AwsError(
            'ResourceExistsException',
            "You can't modify an existing version, you can only create a new version.",
          );
        return {
          ARN: secret.arn,
          Name: secret.name,
          VersionId: versionId,
          VersionStages: [...existing.stages],
        };
      }
      const now = ctx.clock.now();
      const version: SecretVersion = { versionId, ...value, createdDate: now, stages: [] };
      secret.versions.push(version);
      moveStages(secret, version, stages);
      secret.lastChangedDate = now;
      // Versions without a staging label are deprecated; AWS keeps about 100 of them.
      const deprecated = secret.versions.filter((v) => v.stages.length === 0);
      for (const v of deprecated.slice(0, Math.max(0, deprecated.length - 100)))
        secret.versions.splice(secret.versions.indexOf(v), 1);
      save();
      return { ARN: secret.arn, Name: secret.name, VersionId: versionId, VersionStages: [...version.stages] };
    },

    DeleteSecret(input, ctx) {
      const force = input.ForceDeleteWithoutRecovery === true;
      const window = input.RecoveryWindowInDays;
      if (force && window !== undefined && window !== null)
        throw invalid("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
      const days = typeof window === 'number' ? window : 30;
      if (!force && (!Number.isInteger(days) || days < 7 || days > 30))
        throw invalid('The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).');
      const secret = lookup(input, ctx);
      if (secret.deletedDate !== undefined && !force)
        throw new AwsError('InvalidRequestException', MARKED_FOR_DELETION);
      const now = ctx.clock.now();
      const deletionDate = force ? now : now + days * DAY_MS;
      if (force) delete secretsHere(ctx)[secret.arn];
      else {
        secret.deletedDate = now;
        secret.deletionDate = deletionDate;
      }
      save();
      return { ARN: secret.arn, Name: secret.name, DeletionDate: date(deletionDate) };
    },

    RestoreSecret(input, ctx) {
      const secret = lookup(input, ctx);
      delete secret.deletedDate;
      delete secret.deletionDate;
      secret.lastChangedDate = ctx.clock.now();
      save();
      return { ARN: secret.arn, Name: secret.name };
    },

    ListSecrets(input, ctx) {
      const maxResults = typeof input.MaxResults === 'number' ? input.MaxResults : 100;
      if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 100)
        throw invalid('MaxResults must be between 1 and 100.');
      const filters = Array.isArray(input.Filters) ? (input.Filters as Array<Record<string, unknown>>) : [];
      let secrets = Object.values(secretsHere(ctx))
        .filter((s) => input.IncludePlannedDeletion === true || s.deletedDate === undefined)
        .filter((s) => filters.every((f) => matchesFilter(s, f)))
        .sort((a, b) => a.createdDate - b.createdDate);
      if (input.SortOrder === 'desc') secrets = secrets.reverse();
      const start = text(input.NextToken)
        ? Number(Buffer.from(String(input.NextToken), 'base64').toString())
        : 0;
      if (!Number.isInteger(start) || start < 0) throw invalid('Invalid NextToken.');
      const page = secrets.slice(start, start + maxResults);
      const next = start + maxResults < secrets.length ? start + maxResults : undefined;
      return {
        SecretList: page.map((s) => description(s, 'SecretVersionsToStages')),
        ...(next !== undefined ? { NextToken: Buffer.from(String(next)).toString('base64') } : {}),
      };
    },
  };
}

/** ListSecrets' filters: name and description by prefix, tag-key, tag-value, all. */
function matchesFilter(secret: Secret, filter: Record<string, unknown>): boolean {
  const values = Array.isArray(filter.Values)
    ? filter.Values.filter((v): v is string => typeof v === 'string')
    : [];
  const test = (candidates: Array<string | undefined>) =>
    values.some((value) => {
      const negate = value.startsWith('!');
      const wanted = (negate ? value.slice(1) : value).toLowerCase();
      const hit = candidates.some((c) => c !== undefined && c.toLowerCase().startsWith(wanted));
      return negate ? !hit : hit;
    });
  switch (filter.Key) {
    case 'name':
      return test([secret.name]);
    case 'description':
      return test([secret.description]);
    case 'tag-key':
      return test(secret.tags.map((t) => t.Key));
    case 'tag-value':
      return test(secret.tags.map((t) => t.Value));
    case 'all':
      return test([secret.name, secret.description, ...secret.tags.flatMap((t) => [t.Key, t.Value])]);
    default:
      throw invalid(`Invalid filter key: ${String(filter.Key)}`);
  }
}
