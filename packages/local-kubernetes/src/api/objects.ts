// The read verbs (get, list) and the write verbs (create, update, patch) on a resource and its
// status and scale subresources, with the apiserver's checks in its order: body against URL,
// namespace exists, name valid, defaults, validation, then the store (409 on a stale write).
import { randomUUID } from 'node:crypto';
import { StatusError, badRequest, notFound } from '../errors.js';
import { findByKind, findByPath, groupVersionOf, type ResourceType } from '../resources.js';
import { nameSuffix, timestamp, type KObject } from '../store.js';
import { applyDefaults } from './defaults.js';
import { checkUnknownFields } from './fields.js';
import { deleteWithPropagation } from './delete.js';
import {
  isDryRun,
  parseYamlBody,
  readBody,
  readJson,
  sendJson,
  wantsTable,
  type ApiRequest,
} from './http.js';
import { PatchError, jsonPatch, mergePatch, type Json } from './patch/json.js';
import { strategicMergePatch } from './patch/strategic.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { toTable, type IncludeObject } from './tables.js';
import { validateName, validateObject } from './validation.js';

const namespacesType = findByPath('', 'v1', 'namespaces')!;

/** The manager a write is recorded under: ?fieldManager, else the user agent's program name. */
export function managerOf(r: ApiRequest): string {
  const asked = r.query.get('fieldManager');
  if (asked) return asked;
  const agent = r.req.headers['user-agent'] ?? 'unknown';
  return agent.split('/')[0] || 'unknown';
}

// ---- reads ---------------------------------------------------------------------------------------

export function getObject(r: ApiRequest): void {
  const object = r.store.require(r.type, r.namespace, r.name!);
  if (wantsTable(r.req)) {
    sendJson(
      r.res,
      200,
      toTable(
        r.type.kind,
        [object],
        r.host.clock.now(),
        { resourceVersion: object.metadata.resourceVersion },
        includeOf(r),
      ),
    );
    return;
  }
  sendJson(r.res, 200, object);
}

const includeOf = (r: ApiRequest): IncludeObject => {
  const v = r.query.get('includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
};

/** The objects a list or watch selects: namespace, label selector, field selector. */
export function selection(r: ApiRequest): (o: KObject) => boolean {
  const labels = parseLabelSelector(r.query.get('labelSelector'));
  const fields = parseFieldSelector(r.query.get('fieldSelector'), r.type);
  return (o) =>
    (!r.type.namespaced || r.namespace === undefined || o.metadata.namespace === r.namespace) &&
    labels(o.metadata.labels) &&
    fields(o);
}

interface ContinueToken {
  rv: string;
  start: string;
}

export function listObjects(r: ApiRequest): void {
  const matches = selection(r);
  let items = r.store.list(r.type, r.namespace).filter(matches);
  let resourceVersion = r.store.resourceVersion();
  const token = r.query.get('continue');
  if (token) {
    let parsed: ContinueToken;
    try {
      parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as ContinueToken;
    } catch {
      throw badRequest('continue key is not valid: illegal base64 data at input byte 0');
    }
    resourceVersion = parsed.rv;
    items = items.filter((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}` > parsed.start);
  }
  const limit = Number(r.query.get('limit') ?? 0);
  const meta: Record<string, unknown> = { resourceVersion };
  if (limit > 0 && items.length > limit) {
    const last = items[limit - 1]!;
    meta.continue = Buffer.from(
      JSON.stringify({
        rv: resourceVersion,
        start: `${last.metadata.namespace ?? ''}/${last.metadata.name}`,
      }),
    ).toString('base64url');
    meta.remainingItemCount = items.length - limit;
    items = items.slice(0, limit);
  }
  if (wantsTable(r.req)) {
    sendJson(r.res, 200, toTable(r.type.kind, items, r.host.clock.now(), meta, includeOf(r)));
    return;
  }
  sendJson(r.res, 200, {
    kind: `${r.type.kind}List`,
    apiVersion: groupVersionOf(r.type),
    metadata: meta,
    // Typed lists carry their items without apiVersion and kind, as the apiserver encodes them.
    items: items.map(({ apiVersion: _a, kind: _k, ...rest }) => rest),
  });
}

/** fieldValidation on the object to store: 400 when Strict, else unknown fields dropped (warned). */
function fieldValidation(r: ApiRequest, object: KObject): void {
  const warnings = checkUnknownFields(r.type, object, r.query.get('fieldValidation'));
  if (warnings.length)
    r.res.setHeader(
      'Warning',
      warnings.map((w) => `299 - ${JSON.stringify(w)}`),
    );
}

// ---- writes --------------------------------------------------------------------------------------

/** The body's apiVersion, kind and namespace against the URL's (400 as the apiserver words it). */
export function checkBody(r: ApiRequest, body: unknown, type: ResourceType = r.type): KObject {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw badRequest("Object 'Kind' is missing in 'null'");
  let object = body as KObject;
  if (r.view) {
    const asked = object.apiVersion;
    if (asked !== undefined && asked !== r.view.apiVersion)
      throw badRequest(
        `the API version in the data (${asked}) does not match the expected API version (${r.view.apiVersion})`,
      );
    object = r.view.in({ ...object, metadata: object.metadata ?? {} } as KObject);
  }
  const gv = groupVersionOf(type);
  // The decoder first looks the body's own apiVersion/kind up in the scheme.
  if (
    object.apiVersion !== undefined &&
    object.kind !== undefined &&
    !findByKind(object.apiVersion, object.kind)
  )
    throw badRequest(
      `no kind "${object.kind}" is registered for version "${object.apiVersion}" in scheme "k8s.io/kubernetes/pkg/api/legacyscheme/scheme.go:30"`,
    );
  if (object.apiVersion !== undefined && object.apiVersion !== gv)
    throw badRequest(
      `the API version in the data (${object.apiVersion}) does not match the expected API version (${gv})`,
    );
  if (object.kind !== undefined && object.kind !== type.kind)
    throw badRequest(`the kind in the data (${object.kind}) does not match the expected kind (${type.kind})`);
  object.apiVersion = gv;
  object.kind = type.kind;
  object.metadata = (object.metadata ?? {}) as KObject['metadata'];
  if (type.namespaced) {
    if (object.metadata.namespace && r.namespace && object.metadata.namespace !== r.namespace)
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    if (r.namespace) object.metadata.namespace = r.namespace;
  } else delete object.metadata.namespace;
  return object;
}

function requireNamespace(r: ApiRequest): void {
  if (!r.type.namespaced) return;
  if (!r.namespace)
    throw new StatusError(404, 'NotFound', 'the server could not find the requested resource', {});
  if (!r.store.get(namespacesType, undefined, r.namespace)) throw notFound(namespacesType, r.namespace);
  const ns = r.store.get(namespacesType, undefined, r.namespace)!;
  if (ns.metadata.deletionTimestamp)
    throw new StatusError(
      403,
      'Forbidden',
      `${r.type.plural}${r.type.group ? `.${r.type.group}` : ''} "${r.name ?? ''}" is forbidden: unable to create new content in namespace ${r.namespace} because it is being terminated`,
    );
}

/** What the apiserver resets on create: server-owned metadata, and the status of most kinds. */
function prepareForCreate(object: KObject): void {
  const meta = object.metadata as unknown as Record<string, unknown>;
  for (const key of [
    'uid',
    'resourceVersion',
    'creationTimestamp',
    'deletionTimestamp',
    'generation',
    'managedFields',
    'selfLink',
  ])
    delete meta[key];
  if (object.kind === 'Pod') object.status = { phase: 'Pending', qosClass: qosClass(object) };
  else if (
    [
      'Deployment',
      'ReplicaSet',
      'StatefulSet',
      'DaemonSet',
      'Job',
      'HorizontalPodAutoscaler',
      'Ingress',
    ].includes(object.kind)
  )
    object.status = {};
}

function qosClass(pod: KObject): string {
  const containers =
    (pod.spec as { containers?: Array<{ resources?: { limits?: object; requests?: object } }> })
      ?.containers ?? [];
  const any = containers.some(
    (c) => Object.keys(c.resources?.limits ?? {}).length || Object.keys(c.resources?.requests ?? {}).length,
  );
  return any ? 'Burstable' : 'BestEffort';
}

export async function createObject(r: ApiRequest): Promise<void> {
  const object = checkBody(r, await readJson(r.req));
  fieldValidation(r, object);
  requireNamespace(r);
  validateName(r.type, object);
  prepareForCreate(object);
  const uid = randomUUID();
  object.metadata.uid = uid; // read by the defaults (a Job's selector); the store keeps it
  if (!object.metadata.name && object.metadata.generateName)
    object.metadata.name = `${object.metadata.generateName}${nameSuffix()}`;
  applyDefaults(object);
  validateObject(r.type, object);
  if (isDryRun(r.query)) {
    if (r.store.get(r.type, r.namespace, object.metadata.name)) r.store.create(r.type, object, { uid }); // throws AlreadyExists
    object.metadata.creationTimestamp = timestamp(r.host.clock.now());
    if (r.type.hasGeneration) object.metadata.generation = 1;
    sendJson(r.res, 201, object);
    return;
  }
  const created = r.store.create(r.type, object, { uid });
  r.ownership.recordUpdate(managerOf(r), undefined, created);
  sendJson(r.res, 201, created);
}

/** Stores a replacement of `existing` (PUT, or a patch's result), with defaults and validation. */
function store(r: ApiRequest, existing: KObject, next: KObject, subresource?: 'status'): KObject {
  next.metadata.name = existing.metadata.name;
  if (r.type.namespaced) next.metadata.namespace = existing.metadata.namespace;
  if (!subresource) {
    applyDefaults(next, existing);
    validateObject(r.type, next, existing);
  }
  if (isDryRun(r.query)) {
    if (next.metadata.resourceVersion && next.metadata.resourceVersion !== existing.metadata.resourceVersion)
      r.store.update(r.type, next); // throws the Conflict
    return {
      ...next,
      metadata: {
        ...next.metadata,
        uid: existing.metadata.uid,
        creationTimestamp: existing.metadata.creationTimestamp,
      },
    };
  }
  const stored = r.store.update(r.type, next, subresource ? { subresource } : {});
  r.ownership.recordUpdate(managerOf(r), existing, stored);
  if (
    stored.metadata.deletionTimestamp &&
    !stored.metadata.finalizers?.length &&
    r.type.kind !== 'Pod' &&
    r.deleter
  )
    deleteWithPropagation(r.deleter, r.type, stored, 'Background');
  return stored;
}

export async function updateObject(r: ApiRequest): Promise<void> {
  const object = checkBody(r, await readJson(r.req));
  if (object.metadata.name !== r.name)
    throw badRequest(
      `the name of the object (${object.metadata.name ?? ''}) does not match the name on the URL (${r.name})`,
    );
  const existing = r.store.require(r.type, r.namespace, r.name!);
  if (r.subresource !== 'status') fieldValidation(r, object);
  sendJson(r.res, 200, store(r, existing, object, r.subresource === 'status' ? 'status' : undefined));
}

const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
];

function parsePatch(text: string, contentType: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (err) {
    // kubectl sends JSON for every patch type; other clients apply YAML.
    if (contentType === 'application/apply-patch+yaml') return parseYamlBody(text) as Json;
    throw badRequest(`error decoding patch: ${(err as Error).message}`);
  }
}

/** Applies a patch document of one of the four types to an object. */
export function patchDocument(contentType: string, original: KObject, patch: Json): KObject {
  try {
    switch (contentType) {
      case 'application/json-patch+json':
        return jsonPatch(original as unknown as Json, patch) as unknown as KObject;
      case 'application/merge-patch+json':
        return mergePatch(original as unknown as Json, patch) as unknown as KObject;
      default:
        return strategicMergePatch(original as unknown as Json, patch) as unknown as KObject;
    }
  } catch (err) {
    if (err instanceof PatchError)
      throw contentType === 'application/json-patch+json'
        ? new StatusError(422, 'Invalid', err.message)
        : badRequest(err.message);
    throw err;
  }
}

const contentTypeOf = (r: ApiRequest) => (r.req.headers['content-type'] ?? '').split(';')[0]!.trim();

export async function patchObject(r: ApiRequest): Promise<void> {
  const contentType = contentTypeOf(r);
  if (!PATCH_TYPES.includes(contentType))
    throw new StatusError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(', ')}`,
    );
  const patch = parsePatch(await readBody(r.req), contentType);
  if (contentType === 'application/apply-patch+yaml') return applyObject(r, patch);
  const existing = r.store.require(r.type, r.namespace, r.name!);
  const base = r.view ? r.view.out(existing) : existing;
  const patched0 = patchDocument(contentType, base, patch);
  const patched = r.view && patched0 && typeof patched0 === 'object' ? r.view.in(patched0) : patched0;
  if (r.subresource !== 'status' && patched && typeof patched === 'object') fieldValidation(r, patched);
  if (!patched || typeof patched !== 'object' || !patched.metadata)
    throw badRequest("the patch removed the object's metadata");
  if (patched.metadata.name !== existing.metadata.name)
    throw badRequest(
      `the name of the object (${patched.metadata.name}) does not match the name on the URL (${r.name})`,
    );
  sendJson(r.res, 200, store(r, existing, patched, r.subresource === 'status' ? 'status' : undefined));
}

/** Server-side apply: ?fieldManager required; creates when absent (201); conflicts unless force. */
async function applyObject(r: ApiRequest, patch: Json): Promise<void> {
  const manager = r.query.get('fieldManager');
  if (!manager)
    throw badRequest(
      'PATCH, application/apply-patch+yaml requests must have the fieldManager query parameter set',
    );
  const config = checkBody(r, patch);
  if (r.subresource !== 'status') fieldValidation(r, config);
  if (config.metadata.name && config.metadata.name !== r.name)
    throw badRequest(
      `the name of the object (${config.metadata.name}) does not match the name on the URL (${r.name})`,
    );
  config.metadata.name = r.name!;
  const force = r.query.get('force') === 'true';
  const existing = r.store.get(r.type, r.namespace, r.name!);
  const gv = groupVersionOf(r.type);
  if (!existing) {
    requireNamespace(r);
    validateName(r.type, config);
    const { object, commit } = r.ownership.apply(undefined, config, manager, force, gv);
    prepareForCreate(object);
    const uid = randomUUID();
    object.metadata.uid = uid;
    applyDefaults(object);
    validateObject(r.type, object);
    if (isDryRun(r.query)) {
      sendJson(r.res, 201, {
        ...object,
        metadata: { ...object.metadata, creationTimestamp: timestamp(r.host.clock.now()) },
      });
      return;
    }
    const created = r.store.create(r.type, object, { uid });
    commit(created.metadata.uid);
    sendJson(r.res, 201, created);
    return;
  }
  const { object, commit } = r.ownership.apply(existing, config, manager, force, gv);
  // An apply without a resourceVersion applies to whatever is stored.
  object.metadata.resourceVersion = config.metadata.resourceVersion ?? existing.metadata.resourceVersion;
  const stored = store(r, existing, object, r.subresource === 'status' ? 'status' : undefined);
  if (!isDryRun(r.query)) commit(stored.metadata.uid);
  sendJson(r.res, 200, stored);
}

// ---- scale ---------------------------------------------------------------------------------------

function scaleOf(object: KObject): KObject {
  const spec = (object.spec ?? {}) as {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> };
  };
  const status = (object.status ?? {}) as { replicas?: number };
  const selector = Object.entries(spec.selector?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: object.metadata.name,
      namespace: object.metadata.namespace,
      uid: object.metadata.uid,
      resourceVersion: object.metadata.resourceVersion,
      creationTimestamp: object.metadata.creationTimestamp,
    },
    spec: { replicas: spec.replicas ?? 0 },
    status: { replicas: status.replicas ?? 0, ...(selector ? { selector } : {}) },
  };
}

const scaleType = { group: 'autoscaling', version: 'v1', kind: 'Scale' };

export async function scale(r: ApiRequest): Promise<void> {
  const existing = r.store.require(r.type, r.namespace, r.name!);
  if (r.method === 'GET') return sendJson(r.res, 200, scaleOf(existing));
  let next: KObject;
  if (r.method === 'PUT') {
    next = (await readJson(r.req)) as KObject;
    if (next?.apiVersion && next.apiVersion !== 'autoscaling/v1')
      throw badRequest(
        `the API version in the data (${next.apiVersion}) does not match the expected API version (autoscaling/v1)`,
      );
  } else {
    const contentType = contentTypeOf(r);
    const patch = parsePatch(await readBody(r.req), contentType);
    next = patchDocument(
      contentType === 'application/apply-patch+yaml' ? 'application/merge-patch+json' : contentType,
      scaleOf(existing),
      patch,
    );
  }
  const replicas = (next.spec as { replicas?: unknown } | undefined)?.replicas;
  if (typeof replicas !== 'number' || replicas < 0 || !Number.isInteger(replicas))
    throw new StatusError(
      422,
      'Invalid',
      `Scale.autoscaling "${r.name}" is invalid: spec.replicas: Invalid value: ${String(replicas)}: must be greater than or equal to 0`,
      {
        name: r.name!,
        group: scaleType.group,
        kind: 'Scale',
        causes: [
          {
            reason: 'FieldValueInvalid',
            message: `Invalid value: ${String(replicas)}: must be greater than or equal to 0`,
            field: 'spec.replicas',
          },
        ],
      },
    );
  const updated: KObject = {
    ...existing,
    spec: { ...(existing.spec as object), replicas },
    metadata: {
      ...existing.metadata,
      resourceVersion: next.metadata?.resourceVersion || existing.metadata.resourceVersion,
    },
  };
  const stored = store(r, existing, updated);
  sendJson(r.res, 200, scaleOf(stored));
}
