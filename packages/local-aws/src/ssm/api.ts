// SSM Parameter Store's operations (AWS JSON 1.1, `AmazonSSM.<Operation>`): PutParameter,
// GetParameter, GetParameters, GetParameterHistory, LabelParameterVersion, DeleteParameter,
// DeleteParameters — and the state they share: the parameters of each account and region, each
// with its versions (up to 100) and the labels on them.
import { randomBytes } from 'node:crypto';
import { AwsError, type JsonOperation, type RequestContext, type StateStore } from '../service.js';

export type ParameterType = 'String' | 'StringList' | 'SecureString';

export interface ParameterVersion {
  version: number;
  type: ParameterType;
  value: string;
  /** SecureString: what GetParameter answers without WithDecryption (the KMS ciphertext, base64). */
  ciphertext?: string;
  keyId?: string;
  description?: string;
  allowedPattern?: string;
  tier: string;
  dataType: string;
  lastModifiedDate: number;
  lastModifiedUser: string;
  labels: string[];
}

export interface Parameter {
  name: string;
  tags: Array<{ Key: string; Value: string }>;
  /** Oldest first; the last is the parameter's current version. */
  versions: ParameterVersion[];
}

export interface SsmState {
  /** `<account>/<region>` → name → parameter. */
  regions: Record<string, Record<string, Parameter>>;
}

export function loadState(state: StateStore): SsmState {
  return state.namespace<SsmState>('ssm', () => ({ regions: {} }));
}

export const parametersOf = (ssm: SsmState, accountId: string, region: string): Record<string, Parameter> =>
  (ssm.regions[`${accountId}/${region}`] ??= {});

/** `arn:aws:ssm:<region>:<account>:parameter/<name without its leading slash>`. */
export function parameterArn(accountId: string, region: string, name: string): string {
  return `arn:aws:ssm:${region}:${accountId}:parameter/${name.replace(/^\//, '')}`;
}

export interface ParameterRef {
  name: string;
  selector?: string;
  version?: number;
  label?: string;
  /** When the reference is an ARN: its account and region. */
  accountId?: string;
  region?: string;
}

/** `name`, `name:<version>` or `name:<label>`, the name or the parameter's ARN. */
export function parseSelector(ref: string): ParameterRef {
  const arn = /^arn:aws[a-z-]*:ssm:([a-z0-9-]+):(\d{12}):parameter(\/[^:]+)(?::(.*))?$/.exec(ref);
  if (arn) {
    const [, region = '', accountId = '', name = '', selector] = arn;
    return { ...parseSelector(selector !== undefined ? `${name}:${selector}` : name), accountId, region };
  }
  const colon = ref.indexOf(':');
  if (colon < 0) return { name: ref };
  const name = ref.slice(0, colon);
  const selector = ref.slice(colon + 1);
  return /^\d+$/.test(selector)
    ? { name, selector: `:${selector}`, version: Number(selector) }
    : { name, selector: `:${selector}`, label: selector };
}

/**
 * The parameter of a name; a name taken from an ARN (`parameter/x` gives `/x`) also names the
 * parameter `x`, whose ARN is the same.
 */
export function findParameter(
  parameters: Record<string, Parameter>,
  name: string,
  fromArn: boolean,
): Parameter | undefined {
  const found = parameters[name];
  if (found || !fromArn || !/^\/[^/]+$/.test(name)) return found;
  return parameters[name.slice(1)];
}

export const DEFAULT_SECURE_STRING_KEY = 'alias/aws/ssm';
const TYPES = ['String', 'StringList', 'SecureString'];
const MAX_VERSIONS = 100;
const NAME_RULES =
  'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_';

const validation = (message: string) => new AwsError('ValidationException', message);
/** AWS answers ParameterNotFound with no message. */
const notFound = () => new AwsError('ParameterNotFound', '');
const versionNotFound = (selector: string, name: string) =>
  new AwsError(
    'ParameterVersionNotFound',
    `Systems Manager could not find version ${selector} of ${name}. Verify the version and try again.`,
  );

function checkName(name: string): void {
  if (name.length < 1 || name.length > 2048)
    throw validation(
      `1 validation error detected: Value '${name}' at 'name' failed to satisfy constraint: Member must have length less than or equal to 2048`,
    );
  const bare = name.replace(/^\//, '').toLowerCase();
  if (
    !/^[A-Za-z0-9_.\-/]+$/.test(name) ||
    name.includes('//') ||
    bare.startsWith('aws') ||
    bare.startsWith('ssm')
  )
    throw validation(NAME_RULES);
  if (name.includes('/') && !name.startsWith('/'))
    throw validation('Parameter name must be a fully qualified name.');
}

/** The version a parsed selector names; undefined when there is none. */
export function selectVersion(
  parameter: Parameter,
  selected: { version?: number; label?: string },
): ParameterVersion | undefined {
  if (selected.version !== undefined) return parameter.versions.find((v) => v.version === selected.version);
  if (selected.label !== undefined) return parameter.versions.find((v) => v.labels.includes(selected.label!));
  return parameter.versions.at(-1);
}

/** A parameter as GetParameter/GetParameters answer it. */
function render(
  ctx: RequestContext,
  parameter: Parameter,
  version: ParameterVersion,
  decrypt: boolean,
  ref: ParameterRef,
) {
  return {
    Name: parameter.name,
    Type: version.type,
    Value: version.type === 'SecureString' && !decrypt ? version.ciphertext : version.value,
    Version: version.version,
    ...(ref.selector !== undefined ? { Selector: ref.selector } : {}),
    LastModifiedDate: new Date(version.lastModifiedDate),
    ARN: parameterArn(ref.accountId ?? ctx.identity.accountId, ref.region ?? ctx.region, parameter.name),
    DataType: version.dataType,
  };
}

/** A stand-in of the KMS ciphertext of a value (opaque base64, as KMS's blobs are). */
function ciphertextOf(value: string): string {
  return Buffer.concat([
    Buffer.from([1, 2, 2, 0, 120]),
    randomBytes(32 + Math.min(value.length, 4096)),
  ]).toString('base64');
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

export function createSsmOperations(ssm: SsmState, save: () => void): Record<string, JsonOperation> {
  const here = (ctx: RequestContext) => parametersOf(ssm, ctx.identity.accountId, ctx.region);
  /** The parameter a reference names (an ARN: in its account and region). */
  const find = (ctx: RequestContext, ref: ParameterRef): Parameter | undefined =>
    findParameter(
      parametersOf(ssm, ref.accountId ?? ctx.identity.accountId, ref.region ?? ctx.region),
      ref.name,
      ref.accountId !== undefined,
    );

  function requiredName(input: Record<string, unknown>): string {
    const name = text(input.Name);
    if (name === undefined)
      throw validation(
        "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null",
      );
    return name;
  }

  return {
    PutParameter(input, ctx) {
      const name = requiredName(input);
      const value = typeof input.Value === 'string' ? input.Value : '';
      if (value === '')
        throw validation(
          "1 validation error detected: Value '' at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1.",
        );
      const overwrite = input.Overwrite === true;
      const tags = Array.isArray(input.Tags) ? (input.Tags as Array<Record<string, unknown>>) : [];
      if (overwrite && tags.length > 0)
        throw validation(
          "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.",
        );
      checkName(name);
      const type = text(input.Type);
      if (type !== undefined && !TYPES.includes(type))
        throw validation(
          `1 validation error detected: Value '${type}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]`,
        );
      const parameters = here(ctx);
      const existing = parameters[name];
      if (existing && !overwrite)
        throw new AwsError(
          'ParameterAlreadyExists',
          'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
        );
      const previous = existing?.versions.at(-1);
      if (!previous && type === undefined)
        throw validation('A parameter type is required when you create a parameter.');
      const finalType = (type ?? previous!.type) as ParameterType;
      const tier = text(input.Tier) ?? previous?.tier ?? 'Standard';
      if (!['Standard', 'Advanced', 'Intelligent-Tiering'].includes(tier))
        throw validation(
          `1 validation error detected: Value '${tier}' at 'tier' failed to satisfy constraint: Member must satisfy enum value set: [Advanced, Intelligent-Tiering, Standard]`,
        );
      const effectiveTier =
        tier === 'Intelligent-Tiering' ? (value.length > 4096 ? 'Advanced' : 'Standard') : tier;
      if (effectiveTier === 'Standard' && value.length > 4096)
        throw validation(
          'Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html',
        );
      const allowedPattern = text(input.AllowedPattern) ?? previous?.allowedPattern;
      if (allowedPattern !== undefined && !new RegExp(allowedPattern).test(value))
        throw new AwsError(
          'ParameterPatternMismatchException',
          `Parameter value, cannot be validated against allowedPattern: ${allowedPattern}`,
        );
      const dataType = text(input.DataType) ?? previous?.dataType ?? 'text';
      if (!['text', 'aws:ec2:image', 'aws:ssm:integration'].includes(dataType))
        throw validation(
          `The following data type is not supported: ${dataType} (Data type names are all lowercase.)`,
        );
      const parameter: Parameter = existing ?? {
        name,
        tags: tags.map((t) => ({ Key: String(t.Key ?? ''), Value: String(t.Value ?? '') })),
        versions: [],
      };
      if (parameter.versions.length >= MAX_VERSIONS) {
        const oldest = parameter.versions[0]!;
        if (oldest.labels.length > 0)
          throw new AwsError(
            'ParameterMaxVersionLimitExceeded',
            `You attempted to create a new version of ${name} by calling the PutParameter API with the overwrite flag. Version ${oldest.version}, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again.`,
          );
        parameter.versions.shift();
      }
      const keyId =
        finalType === 'SecureString'
          ? (text(input.KeyId) ?? previous?.keyId ?? DEFAULT_SECURE_STRING_KEY)
          : undefined;
      const description = typeof input.Description === 'string' ? input.Description : previous?.description;
      const version: ParameterVersion = {
        version: (previous?.version ?? 0) + 1,
        type: finalType,
        value,
        ...(finalType === 'SecureString' ? { ciphertext: ciphertextOf(value), keyId } : {}),
        ...(description !== undefined ? { description } : {}),
        ...(allowedPattern !== undefined ? { allowedPattern } : {}),
        tier: effectiveTier,
        dataType,
        lastModifiedDate: ctx.clock.now(),
        lastModifiedUser: ctx.identity.arn,
        labels: [],
      };
      parameter.versions.push(version);
      parameters[name] = parameter;
      save();
      return { Version: version.version, Tier: version.tier };
    },

    GetParameter(input, ctx) {
      const ref = parseSelector(requiredName(input));
      const parameter = find(ctx, ref);
      if (!parameter) throw notFound();
      const version = selectVersion(parameter, ref);
      if (!version) {
        if (ref.label !== undefined) throw notFound();
        throw versionNotFound(String(ref.version), ref.name);
      }
      return { Parameter: render(ctx, parameter, version, input.WithDecryption === true, ref) };
    },

    GetParameters(input, ctx) {
      const names = Array.isArray(input.Names)
        ? input.Names.filter((n): n is string => typeof n === 'string')
        : [];
      if (names.length < 1 || names.length > 10)
        throw validation(
          `1 validation error detected: Value '[${names.join(', ')}]' at 'names' failed to satisfy constraint: Member must have length ${names.length < 1 ? 'greater than or equal to 1' : 'less than or equal to 10'}`,
        );
      const parameters: unknown[] = [];
      const invalidParameters: string[] = [];
      for (const requested of [...new Set(names)]) {
        const ref = parseSelector(requested);
        const parameter = find(ctx, ref);
        const version = parameter && selectVersion(parameter, ref);
        if (parameter && version)
          parameters.push(render(ctx, parameter, version, input.WithDecryption === true, ref));
        else invalidParameters.push(requested);
      }
      return { Parameters: parameters, InvalidParameters: invalidParameters };
    },

    GetParameterHistory(input, ctx) {
      const name = requiredName(input);
      const parameter = here(ctx)[name];
      if (!parameter) throw notFound();
      const decrypt = input.WithDecryption === true;
      const maxResults = typeof input.MaxResults === 'number' ? input.MaxResults : 50;
      const start = text(input.NextToken) !== undefined ? Number(input.NextToken) : 0;
      const page = parameter.versions.slice(start, start + maxResults);
      return {
        Parameters: page.map((v) => ({
          Name: parameter.name,
          Type: v.type,
          ...(v.keyId !== undefined ? { KeyId: v.keyId } : {}),
          LastModifiedDate: new Date(v.lastModifiedDate),
          LastModifiedUser: v.lastModifiedUser,
          ...(v.description !== undefined ? { Description: v.description } : {}),
          Value: v.type === 'SecureString' && !decrypt ? v.ciphertext : v.value,
          ...(v.allowedPattern !== undefined ? { AllowedPattern: v.allowedPattern } : {}),
          Version: v.version,
          Labels: [...v.labels],
          Tier: v.tier,
          Policies: [],
          DataType: v.dataType,
        })),
        ...(start + maxResults < parameter.versions.length ? { NextToken: String(start + maxResults) } : {}),
      };
    },

    LabelParameterVersion(input, ctx) {
      const name = requiredName(input);
      const labels = Array.isArray(input.Labels)
        ? input.Labels.filter((l): l is string => typeof l === 'string')
        : [];
      if (labels.length < 1 || labels.length > 10)
        throw validation(
          `1 validation error detected: Value '[${labels.join(', ')}]' at 'labels' failed to satisfy constraint: Member must have length ${labels.length < 1 ? 'greater than or equal to 1' : 'less than or equal to 10'}`,
        );
      for (const label of labels)
        if (label.length > 100)
          throw validation(
            `1 validation error detected: Value '[${label}]' at 'labels' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 100, Member must have length greater than or equal to 1]`,
          );
      const parameter = here(ctx)[name];
      if (!parameter) throw notFound();
      const wanted = typeof input.ParameterVersion === 'number' ? input.ParameterVersion : undefined;
      const version =
        wanted === undefined ? parameter.versions.at(-1)! : selectVersion(parameter, { version: wanted });
      if (!version) throw versionNotFound(String(wanted), name);
      const invalidLabels = labels.filter(
        (l) => /^(aws|ssm)/i.test(l) || /^\d/.test(l) || !/^[A-Za-z0-9_.-]+$/.test(l),
      );
      const valid = [...new Set(labels.filter((l) => !invalidLabels.includes(l)))];
      const after = new Set([...version.labels, ...valid]);
      if (after.size > 10)
        throw new AwsError(
          'ParameterVersionLabelLimitExceeded',
          'A parameter version can have maximum 10 labels.Move one or more labels to another version and try again.',
        );
      for (const v of parameter.versions)
        if (v !== version) v.labels = v.labels.filter((l) => !valid.includes(l));
      version.labels = [...after];
      save();
      return { InvalidLabels: invalidLabels, ParameterVersion: version.version };
    },

    DeleteParameter(input, ctx) {
      const name = requiredName(input);
      const parameters = here(ctx);
      if (!parameters[name]) throw notFound();
      delete parameters[name];
      save();
      return {};
    },

    DeleteParameters(input, ctx) {
      const names = Array.isArray(input.Names)
        ? input.Names.filter((n): n is string => typeof n === 'string')
        : [];
      if (names.length < 1 || names.length > 10)
        throw validation(
          `1 validation error detected: Value '[${names.join(', ')}]' at 'names' failed to satisfy constraint: Member must have length ${names.length < 1 ? 'greater than or equal to 1' : 'less than or equal to 10'}`,
        );
      const parameters = here(ctx);
      const deleted: string[] = [];
      const invalid: string[] = [];
      for (const name of names) {
        if (parameters[name]) {
          delete parameters[name];
          deleted.push(name);
        } else invalid.push(name);
      }
      save();
      return { DeletedParameters: deleted, InvalidParameters: invalid };
    },
  };
}
