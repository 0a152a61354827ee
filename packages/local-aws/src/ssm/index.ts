// SSM Parameter Store: AWS JSON 1.1 (`AmazonSSM.<Operation>`, signing name `ssm`), parameters per
// account and region with versions and labels (api.ts), IAM as the Service Authorization Reference
// says ("Actions defined by AWS Systems Manager": `ssm:<Operation>` on each parameter's ARN), and
// the resolver ECS reads `secrets[].valueFrom` parameters with.
import type { AuthorizationRequest, ContextValue } from '../platform/iam-policy.js';
import type { SecretResolution, SecretValueFrom } from '../secret-references.js';
import type { Authorization, JsonService, ServiceFactory } from '../service.js';
import {
  createSsmOperations,
  DEFAULT_SECURE_STRING_KEY,
  findParameter,
  loadState,
  parameterArn,
  parametersOf,
  parseSelector,
  type SsmState,
} from './api.js';

export type { Parameter, ParameterType, ParameterVersion, SsmState } from './api.js';
export { parameterArn } from './api.js';

export const SSM_TARGET_PREFIX = 'AmazonSSM';

/** Test hooks for SSM, exposed on the handle as admin.ssm. */
export interface SsmAdmin {
  /** A deep copy of the state (parameters per `<account>/<region>`, by name). */
  snapshot(): SsmState;
  /** What ECS's agent finds for an SSM valueFrom (see secret-references.ts). */
  resolve(ref: Extract<SecretValueFrom, { service: 'ssm' }>): SecretResolution;
}

export function createSsm(): ServiceFactory<SsmAdmin> {
  return ({ state }) => {
    const ssm = loadState(state);
    const service: JsonService = {
      protocol: 'json1.1',
      signingName: 'ssm',
      targetPrefix: SSM_TARGET_PREFIX,
      operations: createSsmOperations(ssm, () => state.save()),
      authorization: ssmAuthorization(ssm),
    };
    return {
      services: [service],
      routes: [],
      admin: {
        snapshot: () => structuredClone(ssm),
        resolve(ref) {
          const parameter = findParameter(
            parametersOf(ssm, ref.accountId, ref.region),
            ref.name,
            ref.name.startsWith('/'),
          );
          const arn = parameterArn(ref.accountId, ref.region, parameter?.name ?? ref.name);
          if (!parameter) return { arn, missing: `invalid parameters: ${ref.name}` };
          const keyId = parameter.versions.at(-1)?.keyId;
          return keyId !== undefined && !isAwsManagedKey(keyId) ? { arn, kmsKeyId: keyId } : { arn };
        },
      },
    };
  };
}

function isAwsManagedKey(keyId: string): boolean {
  return keyId === DEFAULT_SECURE_STRING_KEY || /^arn:aws[a-z-]*:kms:[^:]+:\d{12}:alias\/aws\//.test(keyId);
}

/** Operations on no parameter: "*". */
const ACCOUNT_ACTIONS = new Set(['DescribeParameters']);

/**
 * `ssm:<Operation>` on the parameter ARN of each name (a selector stripped; GetParameters and
 * DeleteParameters: one request per name), with the parameter's tags as aws:ResourceTag/… and
 * ssm:resourceTag/…, and PutParameter's ssm:Overwrite and request tags (aws:RequestTag/…,
 * aws:TagKeys).
 */
function ssmAuthorization(ssm: SsmState): Authorization<Record<string, unknown>> {
  return (operation, input, ctx): AuthorizationRequest[] => {
    const action = `ssm:${operation}`;
    if (ACCOUNT_ACTIONS.has(operation)) return [{ action, resource: '*' }];
    const names = Array.isArray(input.Names)
      ? input.Names.filter((n): n is string => typeof n === 'string')
      : typeof input.Name === 'string'
        ? [input.Name]
        : [];
    if (names.length === 0) return [{ action, resource: '*' }];
    return [...new Set(names)].map((requested) => {
      const ref = parseSelector(requested);
      const accountId = ref.accountId ?? ctx.identity.accountId;
      const region = ref.region ?? ctx.region;
      const parameter = findParameter(
        parametersOf(ssm, accountId, region),
        ref.name,
        ref.accountId !== undefined,
      );
      const context: Record<string, ContextValue> = {};
      for (const t of parameter?.tags ?? []) {
        context[`aws:ResourceTag/${t.Key}`] = t.Value;
        context[`ssm:resourceTag/${t.Key}`] = t.Value;
      }
      if (operation === 'PutParameter') {
        context['ssm:Overwrite'] = input.Overwrite === true ? 'true' : 'false';
        const tags = Array.isArray(input.Tags) ? (input.Tags as Array<Record<string, unknown>>) : [];
        for (const t of tags)
          if (typeof t?.Key === 'string') context[`aws:RequestTag/${t.Key}`] = String(t.Value ?? '');
        if (tags.length > 0) context['aws:TagKeys'] = tags.map((t) => String(t?.Key));
      }
      return { action, resource: parameterArn(accountId, region, parameter?.name ?? ref.name), context };
    });
  };
}
