// Input readers in ECS's terms: a member of the wrong JSON type is a SerializationException (as
// the JSON 1.1 front end reports it); a missing or out-of-range member is a ClientException or an
// InvalidParameterException, depending on the operation, with ECS's wording where it is known.
import { AwsError } from '../service.js';

export type Input = Record<string, unknown>;

export const clientError = (message: string): AwsError => new AwsError('ClientException', message);
export const invalidParameter = (message: string): AwsError =>
  new AwsError('InvalidParameterException', message);

function typeError(path: string, expected: string): AwsError {
  return new AwsError(
    'SerializationException',
    `Unexpected value type for member '${path}': expected ${expected}`,
  );
}

export function optString(input: Input, key: string, path = key): string | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw typeError(path, 'a string');
  return v;
}

export function reqString(input: Input, key: string, missing: () => AwsError, path = key): string {
  const v = optString(input, key, path);
  if (v === undefined || v === '') throw missing();
  return v;
}

export function optInt(input: Input, key: string, path = key): number | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw typeError(path, 'an integer');
  return v;
}

export function optBool(input: Input, key: string, path = key): boolean | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw typeError(path, 'a boolean');
  return v;
}

export function optObject(input: Input, key: string, path = key): Input | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw typeError(path, 'a structure');
  return v as Input;
}

export function optList(input: Input, key: string, path = key): unknown[] | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw typeError(path, 'a list');
  return v;
}

export function optStringList(input: Input, key: string, path = key): string[] | undefined {
  const list = optList(input, key, path);
  return list?.map((v, i) => {
    if (typeof v !== 'string') throw typeError(`${path}.${i + 1}.member`, 'a string');
    return v;
  });
}

export function optStructList(input: Input, key: string, path = key): Input[] | undefined {
  const list = optList(input, key, path);
  return list?.map((v, i) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw typeError(`${path}.${i + 1}.member`, 'a structure');
    return v as Input;
  });
}

/** ECS tags: {key, value} lists; at most 50, keys 1-128, values 0-256 characters. */
export function tagList(input: Input, key = 'tags'): Array<{ key: string; value: string }> | undefined {
  const list = optStructList(input, key);
  if (list === undefined) return undefined;
  if (list.length > 50) throw invalidParameter('Invalid tags: a resource can have at most 50 tags.');
  return list.map((t, i) => {
    const k = optString(t, 'key', `${key}.${i + 1}.member.key`);
    const v = optString(t, 'value', `${key}.${i + 1}.member.value`) ?? '';
    if (k === undefined || k.length < 1 || k.length > 128)
      throw invalidParameter('Tag keys must be between 1 and 128 characters in length.');
    if (v.length > 256) throw invalidParameter('Tag values must be between 0 and 256 characters in length.');
    if (k.toLowerCase().startsWith('aws:'))
      throw invalidParameter("Tag keys cannot start with the reserved prefix 'aws:'.");
    return { key: k, value: v };
  });
}

export function mergeTags(
  existing: Array<{ key: string; value: string }>,
  add: Array<{ key: string; value: string }>,
): Array<{ key: string; value: string }> {
  const out = existing.filter((t) => !add.some((a) => a.key === t.key));
  out.push(...add);
  return out;
}
