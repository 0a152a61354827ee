// Kubernetes' Status errors (k8s.io/apimachinery/pkg/api/errors), with the API server's wording:
// kubectl prints `Error from server (<Reason>): <message>`, so the message is part of the contract.
import type { ResourceType } from './resources.js';

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    causes?: StatusCause[];
    retryAfterSeconds?: number;
  };
  code: number;
}

export class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusBody['details'],
  ) {
    super(message);
    this.name = 'StatusError';
  }

  body(): StatusBody {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

/** `deployments.apps` for a grouped resource, `pods` for a core one: how messages name a resource. */
export function qualifiedName(type: Pick<ResourceType, 'plural' | 'group'>): string {
  return type.group ? `${type.plural}.${type.group}` : type.plural;
}

const detailsOf = (type: Pick<ResourceType, 'plural' | 'group'>, name: string) => ({
  name,
  ...(type.group ? { group: type.group } : {}),
  kind: type.plural,
});

export const notFound = (type: Pick<ResourceType, 'plural' | 'group'>, name: string) =>
  new StatusError(404, 'NotFound', `${qualifiedName(type)} "${name}" not found`, detailsOf(type, name));

export const alreadyExists = (type: Pick<ResourceType, 'plural' | 'group'>, name: string) =>
  new StatusError(
    409,
    'AlreadyExists',
    `${qualifiedName(type)} "${name}" already exists`,
    detailsOf(type, name),
  );

export const conflict = (type: Pick<ResourceType, 'plural' | 'group'>, name: string) =>
  new StatusError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedName(type)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    detailsOf(type, name),
  );

/** 422 Invalid: `<Kind>.<group> "<name>" is invalid: <field>: <message>` (one cause per problem). */
export function invalid(
  type: Pick<ResourceType, 'plural' | 'group' | 'kind'>,
  name: string,
  causes: Array<{ field: string; message: string; reason?: string }>,
): StatusError {
  const kind = type.group ? `${type.kind}.${type.group}` : type.kind;
  const text = causes.map((c) => `${c.field}: ${c.message}`).join(', ');
  return new StatusError(
    422,
    'Invalid',
    `${kind} "${name}" is invalid: ${causes.length > 1 ? `[${text}]` : text}`,
    {
      name,
      ...(type.group ? { group: type.group } : {}),
      kind: type.kind,
      causes: causes.map((c) => ({
        reason: c.reason ?? 'FieldValueInvalid',
        message: c.message,
        field: c.field,
      })),
    },
  );
}

/** 410 Gone: a watch or a list continue from a resourceVersion the server no longer has. */
export const gone = (resourceVersion: string) =>
  new StatusError(410, 'Expired', `too old resource version: ${resourceVersion}`);

export const badRequest = (message: string) => new StatusError(400, 'BadRequest', message);

export const unauthorized = () => new StatusError(401, 'Unauthorized', 'Unauthorized');

/** 403: `deployments.apps "web" is forbidden: User "x" cannot patch resource "deployments" in API group "apps" in the namespace "prod"`. */
export function forbidden(
  user: string,
  verb: string,
  type: Pick<ResourceType, 'plural' | 'group'>,
  namespace: string | undefined,
  name?: string,
  subresource?: string,
): StatusError {
  const subject = name ? `${qualifiedName(type)} "${name}"` : qualifiedName(type);
  const resource = subresource ? `${type.plural}/${subresource}` : type.plural;
  const where = namespace ? ` in the namespace "${namespace}"` : ' at the cluster scope';
  return new StatusError(
    403,
    'Forbidden',
    `${subject} is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "${type.group}"${where}`,
    { ...(name ? { name } : {}), ...(type.group ? { group: type.group } : {}), kind: type.plural },
  );
}
