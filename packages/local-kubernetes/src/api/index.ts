// The Kubernetes API server of a simulated cluster: routes a request the host has authenticated
// (its path below the cluster's root) to discovery, /version, /openapi/v3, the health checks, or a
// resource verb; asks the host whether the user may (403 in the apiserver's words otherwise); logs
// every answered call; and answers every failure as a Status.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StatusError, forbidden } from '../errors.js';
import type { KubernetesHandler, KubernetesHost, KubernetesUser } from '../host.js';
import type { PodLogs } from '../logs.js';
import { RESOURCE_TYPES, findByPath, storeKeyOf, type ResourceType } from '../resources.js';
import { timestamp, type ObjectStore } from '../store.js';
import type { ClusterOptions } from '../cluster.js';
import { FieldOwnership } from './apply.js';
import { deleteCollection, deleteObject, onDependentDeleted, type Deleter } from './delete.js';
import {
  AGGREGATED_DISCOVERY,
  aggregatedDiscovery,
  wantsAggregated,
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  openApiDocument,
  openApiIndex,
  versionInfo,
} from './discovery.js';
import {
  methodNotAllowed,
  notFoundPath,
  readJson,
  sendError,
  sendJson,
  setView,
  type ApiRequest,
} from './http.js';
import { createObject, getObject, listObjects, patchObject, scale, updateObject } from './objects.js';
import { podLog } from './podlogs.js';
import { EVENTS_V1_VIEW } from './events.js';
import { watch } from './watch.js';

export interface ApiServerOptions {
  store: ObjectStore;
  host: KubernetesHost;
  logs: PodLogs;
  options: ClusterOptions;
}

const CORE_EVENTS = findByPath('', 'v1', 'events')!;

interface ResourcePath {
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
  watchPrefix: boolean;
}

/** `/api/v1/namespaces/prod/pods/web/log` → pods, prod, web, log; undefined when nothing is there. */
function parseResourcePath(group: string, version: string, rest: string[]): ResourcePath | undefined {
  let watchPrefix = false;
  if (rest[0] === 'watch') {
    watchPrefix = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const inner = findByPath(group, version, rest[2]!);
    if (inner?.namespaced) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
  }
  const [plural, name, subresource, ...extra] = rest;
  if (!plural || extra.length > 0) return undefined;
  const type = findByPath(group, version, plural);
  if (!type) return undefined;
  if (subresource !== undefined && !type.subresources.includes(subresource)) return undefined;
  if (name !== undefined && type.namespaced && namespace === undefined) return undefined;
  return {
    type,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(subresource !== undefined ? { subresource } : {}),
    watchPrefix,
  };
}

/** The verb kubectl and RBAC see for a request. */
function verbOf(method: string, path: ResourcePath, query: URLSearchParams): string | undefined {
  const watching = path.watchPrefix || query.get('watch') === 'true' || query.get('watch') === '1';
  switch (method) {
    case 'GET':
      if (watching) return 'watch';
      return path.name !== undefined ? 'get' : 'list';
    case 'POST':
      return path.name === undefined ? 'create' : undefined;
    case 'PUT':
      return path.name !== undefined ? 'update' : undefined;
    case 'PATCH':
      return path.name !== undefined ? 'patch' : undefined;
    case 'DELETE':
      return path.name !== undefined ? 'delete' : 'deletecollection';
    default:
      return undefined;
  }
}

export function createApiServer({ store, host, logs, options }: ApiServerOptions): KubernetesHandler {
  const ownership = new FieldOwnership();
  const deleter: Deleter = {
    store,
    clock: host.clock,
    forget: (type, object) => {
      ownership.forget(object.metadata.uid);
      if (type.kind === 'Pod') logs.forget(object.metadata.namespace!, object.metadata.name);
    },
  };

  // Whoever deleted it (the API, the kubelet, the garbage collector): its field owners go, and an
  // owner waiting in a foreground deletion may complete (the garbage collector's part).
  store.subscribe((change) => {
    if (change.type !== 'DELETED') return;
    ownership.forget(change.object.metadata.uid);
    if (change.object.metadata.ownerReferences?.length) onDependentDeleted(deleter, change.object);
  });

  return async (req, res, user, path) => {
    const url = new URL(path, 'http://cluster.local');
    const segments = url.pathname
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent);
    const query = url.searchParams;
    const method = (req.method ?? 'GET').toUpperCase();
    const call = {
      user: user.username,
      verb: method.toLowerCase(),
      resource: url.pathname,
      namespace: undefined as string | undefined,
      name: undefined as string | undefined,
    };
    let logged = false;
    const log = () => {
      if (logged) return;
      logged = true;
      host.log?.({
        user: call.user,
        verb: call.verb,
        resource: call.resource,
        ...(call.namespace !== undefined ? { namespace: call.namespace } : {}),
        ...(call.name !== undefined ? { name: call.name } : {}),
        status: res.statusCode,
      });
    };
    res.once('finish', log);
    res.once('close', log);
    try {
      const group = segments[0] === 'api' ? '' : segments[0] === 'apis' ? segments[1] : undefined;
      const version = segments[0] === 'api' ? segments[1] : segments[2];
      const rest = segments.slice(segments[0] === 'api' ? 2 : 3);
      if (
        group === 'apiextensions.k8s.io' &&
        version === 'v1' &&
        rest.join('/') === 'customresourcedefinitions' &&
        method === 'GET'
      ) {
        // No custom resources here; kubectl's validation of an unknown kind looks for its CRD.
        sendJson(res, 200, {
          kind: 'CustomResourceDefinitionList',
          apiVersion: 'apiextensions.k8s.io/v1',
          metadata: { resourceVersion: store.resourceVersion() },
          items: [],
        });
        return;
      }
      if (group !== undefined && version !== undefined && rest.length > 0) {
        const parsed = parseResourcePath(group, version, rest);
        if (!parsed) throw notFoundPath();
        const verb = verbOf(method, parsed, query);
        if (!verb) throw methodNotAllowed();
        call.verb = verb;
        call.resource = storeKeyOf(parsed.type) + (parsed.subresource ? `/${parsed.subresource}` : '');
        call.namespace = parsed.namespace;
        call.name = parsed.name;
        if (!parsed.type.verbs.includes(verb) && !parsed.subresource) throw methodNotAllowed();
        if (parsed.type.kind === 'SelfSubjectAccessReview') {
          await selfSubjectAccessReview(req, res, user, host);
          return;
        }
        if (parsed.type.kind === 'SelfSubjectRulesReview') {
          await selfSubjectRulesReview(req, res, user, host);
          return;
        }
        const allowed =
          host.authorize?.({
            user,
            verb,
            group: parsed.type.group,
            resource: parsed.type.plural,
            ...(parsed.subresource ? { subresource: parsed.subresource } : {}),
            ...(parsed.namespace !== undefined ? { namespace: parsed.namespace } : {}),
            ...(parsed.name !== undefined ? { name: parsed.name } : {}),
          }) ?? true;
        if (!allowed)
          throw forbidden(
            user.username,
            verb,
            parsed.type,
            parsed.namespace,
            parsed.name,
            parsed.subresource,
          );
        // events.k8s.io Events are core Events through another schema (events.ts).
        const eventsV1 = parsed.type.group === 'events.k8s.io';
        if (eventsV1) setView(res, EVENTS_V1_VIEW);
        const r: ApiRequest = {
          req,
          res,
          user,
          method,
          query,
          type: eventsV1 ? CORE_EVENTS : parsed.type,
          ...(eventsV1 ? { view: EVENTS_V1_VIEW } : {}),
          ...(parsed.namespace !== undefined ? { namespace: parsed.namespace } : {}),
          ...(parsed.name !== undefined ? { name: parsed.name } : {}),
          ...(parsed.subresource !== undefined ? { subresource: parsed.subresource } : {}),
          store,
          host,
          logs,
          options,
          ownership,
          deleter,
        };
        try {
          await resourceVerb(r, verb, deleter);
        } catch (err) {
          // Errors name the resource as asked: events.events.k8s.io, not the stored core events.
          if (eventsV1 && err instanceof StatusError && err.message.startsWith('events "'))
            throw new StatusError(
              err.code,
              err.reason,
              `events.events.k8s.io${err.message.slice('events'.length)}`,
              {
                ...err.details,
                group: 'events.k8s.io',
              },
            );
          throw err;
        }
        return;
      }
      if (method !== 'GET') throw methodNotAllowed();
      nonResource(res, segments, options, req.headers.accept);
    } catch (err) {
      if (res.headersSent) {
        res.end();
        return;
      }
      sendError(res, err instanceof StatusError ? err : internalError(err));
    }
  };
}

function internalError(err: unknown): StatusError {
  return new StatusError(
    500,
    'InternalError',
    `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`,
  );
}

async function resourceVerb(r: ApiRequest, verb: string, deleter: Deleter): Promise<void> {
  const now = timestamp(r.host.clock.now());
  if (r.subresource === 'log') {
    if (verb !== 'get') throw methodNotAllowed();
    return podLog(r, () => {});
  }
  if (r.subresource === 'scale') {
    if (!['get', 'update', 'patch'].includes(verb)) throw methodNotAllowed();
    return scale(r);
  }
  if (r.subresource === 'status' && !['get', 'update', 'patch'].includes(verb)) throw methodNotAllowed();
  switch (verb) {
    case 'get':
      return getObject(r);
    case 'list':
      return listObjects(r);
    case 'watch':
      return watch(r, () => {});
    case 'create':
      return createObject(r);
    case 'update':
      return updateObject(r);
    case 'patch':
      return patchObject(r);
    case 'delete':
      return deleteObject(r, deleter, now);
    case 'deletecollection':
      return deleteCollection(r, deleter, now);
  }
}

function nonResource(
  res: ServerResponse,
  segments: string[],
  options: ClusterOptions,
  accept: string | undefined,
): void {
  const [first, second, ...rest] = segments;
  const send = (body: unknown) => {
    if (body === undefined) throw notFoundPath();
    sendJson(res, 200, body);
  };
  if (first === undefined)
    return send({
      paths: ['/api', '/api/v1', '/apis', '/healthz', '/livez', '/openapi/v3', '/readyz', '/version'],
    });
  if ((first === 'api' || first === 'apis') && second === undefined && wantsAggregated(accept)) {
    const text = JSON.stringify(aggregatedDiscovery(first === 'api'));
    res.statusCode = 200;
    res.setHeader('Content-Type', AGGREGATED_DISCOVERY);
    res.setHeader('Content-Length', Buffer.byteLength(text));
    res.end(text);
    return;
  }
  if (first === 'api' && second === undefined) return send(apiVersions());
  if (first === 'api' && rest.length === 0) return send(apiResourceList('', second!));
  if (first === 'apis' && second === undefined) return send(apiGroupList());
  if (first === 'apis' && rest.length === 0) return send(apiGroup(second!));
  if (first === 'apis' && rest.length === 1) return send(apiResourceList(second!, rest[0]!));
  if (first === 'version' && second === undefined) return send(versionInfo(options.version));
  if (first === 'healthz' || first === 'livez' || first === 'readyz') {
    res.statusCode = 200;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end('ok');
    return;
  }
  if (first === 'openapi' && second === 'v2' && rest.length === 0) {
    // kubectl reads /openapi/v2 only as protobuf, to validate kinds /openapi/v3 does not describe
    // (an unknown kind): an empty document, in which it finds no schema and leaves the kind to the
    // API ("no matches for kind"). Every served kind is described in /openapi/v3.
    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Content-Length', 0);
    res.end();
    return;
  }
  if (first === 'openapi' && second === 'v3') {
    if (rest.length === 0) return send(openApiIndex());
    if (rest[0] === 'api' && rest.length === 2) return send(openApiDocument('', rest[1]!));
    if (rest[0] === 'apis' && rest.length === 3) return send(openApiDocument(rest[1]!, rest[2]!));
  }
  throw notFoundPath();
}

/** `kubectl auth can-i`: the host's authorization, asked for the caller. */
async function selfSubjectAccessReview(
  req: IncomingMessage,
  res: ServerResponse,
  user: KubernetesUser,
  host: KubernetesHost,
): Promise<void> {
  const body = ((await readJson(req)) ?? {}) as {
    spec?: { resourceAttributes?: Record<string, string>; nonResourceAttributes?: object };
  };
  const attributes = body.spec?.resourceAttributes;
  let allowed = true;
  if (attributes) {
    allowed =
      host.authorize?.({
        user,
        verb: attributes.verb ?? '',
        group: attributes.group ?? '',
        resource: attributes.resource ?? '',
        ...(attributes.subresource ? { subresource: attributes.subresource } : {}),
        ...(attributes.namespace ? { namespace: attributes.namespace } : {}),
        ...(attributes.name ? { name: attributes.name } : {}),
      }) ?? true;
  }
  sendJson(res, 201, {
    kind: 'SelfSubjectAccessReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: { creationTimestamp: null },
    spec: body.spec ?? {},
    status: { allowed, ...(allowed ? {} : { reason: '' }) },
  });
}

/**
 * `kubectl auth can-i --list`: the host's authorization is a predicate, so the rules are found by
 * asking it every verb of every served resource in the namespace; discovery and the reviews
 * themselves are everyone's (system:basic-user, system:discovery).
 */
async function selfSubjectRulesReview(
  req: IncomingMessage,
  res: ServerResponse,
  user: KubernetesUser,
  host: KubernetesHost,
): Promise<void> {
  const body = ((await readJson(req)) ?? {}) as { spec?: { namespace?: string } };
  const namespace = body.spec?.namespace;
  const resourceRules: Array<{ verbs: string[]; apiGroups: string[]; resources: string[] }> = [
    {
      verbs: ['create'],
      apiGroups: ['authorization.k8s.io'],
      resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'],
    },
  ];
  for (const t of RESOURCE_TYPES) {
    if (t.group === 'authorization.k8s.io') continue;
    const ask = (verb: string, subresource?: string) =>
      host.authorize?.({
        user,
        verb,
        group: t.group,
        resource: t.plural,
        ...(subresource ? { subresource } : {}),
        ...(t.namespaced && namespace ? { namespace } : {}),
      }) ?? true;
    const verbs = t.verbs.filter((v) => ask(v));
    if (verbs.length) resourceRules.push({ verbs, apiGroups: [t.group], resources: [t.plural] });
    for (const sub of t.subresources) {
      const subVerbs = (sub === 'log' ? ['get'] : ['get', 'patch', 'update']).filter((v) => ask(v, sub));
      if (subVerbs.length)
        resourceRules.push({ verbs: subVerbs, apiGroups: [t.group], resources: [`${t.plural}/${sub}`] });
    }
  }
  sendJson(res, 201, {
    kind: 'SelfSubjectRulesReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: { creationTimestamp: null },
    spec: body.spec ?? {},
    status: {
      resourceRules,
      nonResourceRules: [
        {
          verbs: ['get'],
          nonResourceURLs: [
            '/api',
            '/api/*',
            '/apis',
            '/apis/*',
            '/healthz',
            '/livez',
            '/openapi',
            '/openapi/*',
            '/readyz',
            '/version',
            '/version/',
          ],
        },
      ],
      incomplete: false,
    },
  });
}
