// GitHub's published OpenAPI description (@octokit/openapi, api.github.com) as a judge: the schema
// it gives for an operation's answer at a status, compiled by ajv (OpenAPI 3.0 `nullable` included).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

interface Response {
  $ref?: string;
  content?: Record<string, { schema?: Schema }>;
  headers?: Record<string, unknown>;
}
interface Schema {
  $ref?: string;
  oneOf?: Schema[];
  discriminator?: { propertyName: string; mapping?: Record<string, string> };
}
interface Spec {
  paths: Record<string, Record<string, { operationId: string; responses: Record<string, Response> }>>;
  components: { responses: Record<string, Response> };
}

const file = createRequire(import.meta.url).resolve('@octokit/openapi/generated/api.github.com.json');
export const spec = JSON.parse(readFileSync(file, 'utf8')) as Spec;

const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
// ajv-formats is CommonJS: under NodeNext its default import is module.exports, the plugin is .default.
const addFormats = addFormatsModule.default;
addFormats(ajv);
ajv.addSchema(spec as object, 'openapi');

const pointer = (...parts: string[]) =>
  parts.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');
const compiled = new Map<string, ValidateFunction>();

export interface Judgement {
  operationId: string;
  // false: the description lists no answer for this status, so GitHub's basic-error is the judge.
  documented: boolean;
  headers: string[];
  errors: string[];
}

export function judge(method: string, path: string, status: number, body: unknown): Judgement {
  const operation = spec.paths[path]?.[method.toLowerCase()];
  if (!operation) throw new Error(`no operation ${method} ${path} in the description`);
  let response = operation.responses[String(status)];
  let ref = `openapi#/${pointer('paths', path, method.toLowerCase(), 'responses', String(status))}`;
  if (response?.$ref) {
    ref = `openapi${response.$ref}`;
    response = spec.components.responses[response.$ref.split('/').at(-1) ?? ''];
  }
  const documented = response !== undefined;
  let schemaRef = `${ref}/content/application~1json/schema`;
  const schema = response?.content?.['application/json']?.schema;
  if (!documented) schemaRef = 'openapi#/components/schemas/basic-error';
  else if (!schema) throw new Error(`${operation.operationId} ${status} has no JSON schema`);
  // A discriminated oneOf (GET /user: private-user | public-user) is judged by the branch it names.
  const mapping = schema?.discriminator?.mapping;
  const chosen = mapping && (body as Record<string, string>)[schema.discriminator?.propertyName ?? ''];
  if (mapping && chosen && mapping[chosen]) schemaRef = `openapi${mapping[chosen]}`;
  let validate = compiled.get(schemaRef);
  if (!validate) {
    validate = ajv.compile({ $ref: schemaRef });
    compiled.set(schemaRef, validate);
  }
  const errors = validate(body)
    ? []
    : (validate.errors ?? []).map(
        (e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`,
      );
  return {
    operationId: operation.operationId,
    documented,
    headers: Object.keys(response?.headers ?? {}),
    errors,
  };
}
