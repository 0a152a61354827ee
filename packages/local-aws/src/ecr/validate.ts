// Input checks in ECR's words. ECR reports constraint violations as InvalidParameterException
// "Invalid parameter at '<member>' failed to satisfy constraint: '<rule>'", and a member of the
// wrong JSON type as SerializationException. Unknown members are ignored, as AWS does.
import { AwsError } from '../service.js';
import { REPOSITORY_NAME_PATTERN, REPOSITORY_NAME_RE } from './model.js';

export type Input = Record<string, unknown>;

export function invalid(member: string, rule: string): AwsError {
  return new AwsError(
    'InvalidParameterException',
    `Invalid parameter at '${member}' failed to satisfy constraint: '${rule}'`,
  );
}

function serialization(member: string, expected: string): AwsError {
  return new AwsError(
    'SerializationException',
    `Unexpected value type for member '${member}': expected ${expected}`,
  );
}

interface StrOpts {
  min?: number;
  max?: number;
  pattern?: RegExp;
  patternText?: string;
  enumValues?: readonly string[];
}

export function optString(input: Input, key: string, opts: StrOpts = {}, path = key): string | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw serialization(path, 'a string');
  checkString(v, path, opts);
  return v;
}

export function reqString(input: Input, key: string, opts: StrOpts = {}, path = key): string {
  const v = optString(input, key, opts, path);
  if (v === undefined) throw invalid(path, 'Member must not be null');
  return v;
}

function checkString(v: string, path: string, opts: StrOpts): void {
  if (opts.enumValues && !opts.enumValues.includes(v)) {
    throw invalid(path, `Member must satisfy enum value set: [${opts.enumValues.join(', ')}]`);
  }
  if (opts.min !== undefined && v.length < opts.min) {
    throw invalid(path, `Member must have length greater than or equal to ${opts.min}`);
  }
  if (opts.max !== undefined && v.length > opts.max) {
    throw invalid(path, `Member must have length less than or equal to ${opts.max}`);
  }
  if (opts.pattern && !opts.pattern.test(v)) {
    throw invalid(
      path,
      `Member must satisfy regular expression pattern: ${opts.patternText ?? opts.pattern.source}`,
    );
  }
}

export function optBool(input: Input, key: string, path = key): boolean | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw serialization(path, 'a boolean');
  return v;
}

export function optInt(
  input: Input,
  key: string,
  opts: { min?: number; max?: number } = {},
  path = key,
): number | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw serialization(path, 'an integer');
  if (opts.min !== undefined && v < opts.min)
    throw invalid(path, `Member must have value greater than or equal to ${opts.min}`);
  if (opts.max !== undefined && v > opts.max)
    throw invalid(path, `Member must have value less than or equal to ${opts.max}`);
  return v;
}

export function optObject(input: Input, key: string, path = key): Input | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw serialization(path, 'a structure');
  return v as Input;
}

export function reqObject(input: Input, key: string, path = key): Input {
  const v = optObject(input, key, path);
  if (v === undefined) throw invalid(path, 'Member must not be null');
  return v;
}

export function optList(
  input: Input,
  key: string,
  opts: { min?: number; max?: number } = {},
  path = key,
): unknown[] | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw serialization(path, 'a list');
  if (opts.min !== undefined && v.length < opts.min) {
    throw invalid(path, `Member must have length greater than or equal to ${opts.min}`);
  }
  if (opts.max !== undefined && v.length > opts.max) {
    throw invalid(path, `Member must have length less than or equal to ${opts.max}`);
  }
  return v;
}

export function reqList(
  input: Input,
  key: string,
  opts: { min?: number; max?: number } = {},
  path = key,
): unknown[] {
  const v = optList(input, key, opts, path);
  if (v === undefined) throw invalid(path, 'Member must not be null');
  return v;
}

export function stringList(list: unknown[], path: string, opts: StrOpts = {}): string[] {
  return list.map((v, i) => {
    if (typeof v !== 'string') throw serialization(`${path}.${i + 1}.member`, 'a string');
    checkString(v, `${path}.${i + 1}.member`, opts);
    return v;
  });
}

export function structList(list: unknown[], path: string): Input[] {
  return list.map((v, i) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw serialization(`${path}.${i + 1}.member`, 'a structure');
    return v as Input;
  });
}

/** Repository names get ECR's own wording (no "Member"), as in its real error messages. */
export function checkRepositoryName(name: string, path = 'repositoryName'): string {
  if (name.length < 2) throw invalid(path, 'must have length greater than or equal to 2');
  if (name.length > 256) throw invalid(path, 'must have length less than or equal to 256');
  if (!REPOSITORY_NAME_RE.test(name))
    throw invalid(path, `must satisfy regular expression '${REPOSITORY_NAME_PATTERN}'`);
  return name;
}

export function repositoryName(input: Input, key = 'repositoryName'): string {
  const v = input[key];
  if (v === undefined || v === null) throw invalid(key, 'Member must not be null');
  if (typeof v !== 'string') throw serialization(key, 'a string');
  return checkRepositoryName(v, key);
}

export const REGISTRY_ID_RE = /^[0-9]{12}$/;
