// Secrets Manager: AWS JSON 1.1 (`secretsmanager.<Operation>`, signing name `secretsmanager`),
// secrets per account and region with versions and staging labels (api.ts, model.ts), IAM as the
// Service Authorization Reference says ("Actions defined by AWS Secrets Manager": the secret's ARN
// and secretsmanager:* condition keys), and the resolver ECS reads `secrets[].valueFrom` with.
import type { AuthorizationRequest, ContextValue } from '../platform/iam-policy.js';
import type { SecretResolution, SecretResolver, SecretValueFrom } from '../secret-references.js';
import type { Authorization, JsonService, ServiceFactory } from '../service.js';
import { createSecretsManagerOperations } from './api.js';
import {
  findSecret,
  findVersion,
  loadState,
  MARKED_FOR_DELETION,
  newSecretArn,
  partialSecretArn,
  SECRET_NOT_FOUND,
  secretsOf,
  versionNotFoundMessage,
  type SecretsManagerState,
} from './model.js';

export type { Secret, SecretsManagerState, SecretVersion } from './model.js';

export const SECRETS_MANAGER_TARGET_PREFIX = 'secretsmanager';

/** Test hooks for Secrets Manager, exposed on the handle as admin.secretsmanager. */
export interface SecretsManagerAdmin {
  /** A deep copy of the state (secrets per `<account>/<region>`, keyed by ARN). */
  snapshot(): SecretsManagerState;
  /** What ECS's agent finds for a Secrets Manager valueFrom (see secret-references.ts). */
  resolve(ref: Extract<SecretValueFrom, { service: 'secretsmanager' }>): SecretResolution;
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

/** AWS managed keys, which need no kms:Decrypt grant of the caller. */
const AWS_MANAGED_KEY = /^(alias\/aws\/|arn:aws[a-z-]*:kms:[^:]+:\d{12}:alias\/aws\/)/;

export function createSecretsManager(): ServiceFactory<SecretsManagerAdmin> {
  return ({ state, clock }) => {
    const sm = loadState(state);
    const newArns = new Map<string, string>();
    const service: JsonService = {
      protocol: 'json1.1',
      signingName: 'secretsmanager',
      targetPrefix: SECRETS_MANAGER_TARGET_PREFIX,
      operations: createSecretsManagerOperations(sm, () => state.save(), {
        takeNewArn(requestId) {
          const arn = newArns.get(requestId);
          newArns.delete(requestId);
          return arn;
        },
      }),
      authorization: secretsManagerAuthorization(sm, (requestId, arn) => {
        if (newArns.size > 1000) newArns.clear();
        newArns.set(requestId, arn);
      }),
    };
    return {
      services: [service],
      routes: [],
      admin: {
        snapshot: () => structuredClone(sm),
        resolve(ref) {
          const secret = findSecret(secretsOf(sm, ref.accountId, ref.region, clock.now()), ref.secretArn);
          if (!secret)
            return { arn: ref.secretArn, missing: `ResourceNotFoundException: ${SECRET_NOT_FOUND}` };
          const kms =
            secret.kmsKeyId !== undefined && !AWS_MANAGED_KEY.test(secret.kmsKeyId)
              ? { kmsKeyId: secret.kmsKeyId }
              : {};
          const found = { arn: secret.arn, ...kms };
          if (secret.deletedDate !== undefined)
            return { ...found, missing: `InvalidRequestException: ${MARKED_FOR_DELETION}` };
          const version = findVersion(secret, ref.versionId, ref.versionStage);
          if (!version)
            return {
              ...found,
              missing: `ResourceNotFoundException: ${versionNotFoundMessage(ref.versionId, ref.versionStage)}`,
            };
          if (ref.jsonKey !== undefined) {
            let parsed: unknown;
            try {
              parsed = JSON.parse(version.secretString ?? '');
            } catch {
              parsed = undefined;
            }
            if (typeof parsed !== 'object' || parsed === null || !(ref.jsonKey in parsed))
              return {
                ...found,
                missing: `retrieved secret from Secrets Manager did not contain json key ${ref.jsonKey}`,
              };
          }
          return found;
        },
      },
    };
  };
}

/**
 * Each operation is `secretsmanager:<Operation>` on the secret's ARN (CreateSecret: the ARN it
 * will have, its suffix chosen here), ListSecrets on "*"; a secret not found is named by the ARN
 * given or the partial ARN of the name. Condition keys: secretsmanager:SecretId, Name,
 * Description, KmsKeyId, VersionId, VersionStage, RecoveryWindowInDays, ForceDeleteWithoutRecovery,
 * the secret's tags (aws:ResourceTag/… and secretsmanager:ResourceTag/…) and CreateSecret's
 * (aws:RequestTag/…, aws:TagKeys).
 */
function secretsManagerAuthorization(
  sm: SecretsManagerState,
  chose: (requestId: string, arn: string) => void,
): Authorization<Record<string, unknown>> {
  return (operation, input, ctx): AuthorizationRequest[] => {
    const action = `secretsmanager:${operation}`;
    const { accountId } = ctx.identity;
    const context: Record<string, ContextValue> = {};
    const put = (key: string, value: unknown) => {
      if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number')
        context[key] = value;
    };
    if (
      operation === 'ListSecrets' ||
      operation === 'GetRandomPassword' ||
      operation === 'BatchGetSecretValue'
    )
      return [{ action, resource: '*' }];
    if (operation === 'CreateSecret') {
      const name = text(input.Name) ?? '';
      const arn = newSecretArn(accountId, ctx.region, name);
      chose(ctx.requestId, arn);
      put('secretsmanager:Name', name);
      put('secretsmanager:Description', input.Description);
      put('secretsmanager:KmsKeyId', input.KmsKeyId);
      const tags = Array.isArray(input.Tags) ? (input.Tags as Array<Record<string, unknown>>) : [];
      for (const t of tags) if (typeof t?.Key === 'string') put(`aws:RequestTag/${t.Key}`, t.Value ?? '');
      if (tags.length > 0) context['aws:TagKeys'] = tags.map((t) => String(t?.Key));
      return [{ action, resource: arn, context }];
    }
    const secretId = text(input.SecretId) ?? '';
    const secret = findSecret(secretsOf(sm, accountId, ctx.region, ctx.clock.now()), secretId);
    const resource =
      secret?.arn ??
      (secretId.startsWith('arn:') ? secretId : partialSecretArn(accountId, ctx.region, secretId));
    put('secretsmanager:SecretId', secret?.arn ?? secretId);
    put('secretsmanager:VersionId', input.VersionId);
    put('secretsmanager:VersionStage', input.VersionStage);
    put('secretsmanager:Description', operation === 'UpdateSecret' ? input.Description : undefined);
    put('secretsmanager:RecoveryWindowInDays', input.RecoveryWindowInDays);
    put('secretsmanager:ForceDeleteWithoutRecovery', input.ForceDeleteWithoutRecovery);
    for (const t of secret?.tags ?? []) {
      context[`aws:ResourceTag/${t.Key}`] = t.Value;
      context[`secretsmanager:ResourceTag/${t.Key}`] = t.Value;
    }
    return [{ action, resource, context }];
  };
}

/**
 * The one resolver ECS is given (admin.secrets.resolve): a Secrets Manager valueFrom goes to
 * Secrets Manager, a parameter to SSM.
 */
export function createSecretResolver(modules: {
  secretsmanager: Pick<SecretsManagerAdmin, 'resolve'>;
  ssm: { resolve(ref: Extract<SecretValueFrom, { service: 'ssm' }>): SecretResolution };
}): SecretResolver {
  return (ref) => (ref.service === 'ssm' ? modules.ssm.resolve(ref) : modules.secretsmanager.resolve(ref));
}
