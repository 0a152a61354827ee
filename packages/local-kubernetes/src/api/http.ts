// The request and response plumbing shared by the API's handlers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { StatusError, badRequest } from '../errors.js';
import type { KubernetesHost, KubernetesUser } from '../host.js';
import type { PodLogs } from '../logs.js';
import type { KObject, ObjectStore } from '../store.js';
import type { ResourceType } from '../resources.js';
import type { ClusterOptions } from '../cluster.js';
import type { FieldOwnership } from './apply.js';
import type { Deleter } from './delete.js';
import type { SchemaView } from './events.js';
import { decodeProtobuf } from './protobuf.js';

/** What every handler of a resource request gets. */
export interface ApiRequest {
  req: IncomingMessage;
  res: ServerResponse;
  user: KubernetesUser;
  method: string;
  query: URLSearchParams;
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
  store: ObjectStore;
  host: KubernetesHost;
  logs: PodLogs;
  options: ClusterOptions;
  ownership: FieldOwnership;
  /** Deletes with propagation (an update removing an object's last finalizer deletes it). */
  deleter?: Deleter;
  /** Set when the resource is another schema's view of a stored one (events.k8s.io Events). */
  view?: SchemaView;
}

const views = new WeakMap<ServerResponse, SchemaView>();

/** Answers on this response show objects through the view (events.ts). */
export function setView(res: ServerResponse, view: SchemaView): void {
  views.set(res, view);
}

/** An answer's objects through the response's view, if any: an object, a list, a watch event's object. */
export function viewed(res: ServerResponse, body: unknown): unknown {
  const view = views.get(res);
  if (!view || !body || typeof body !== 'object') return body;
  const o = body as { kind?: string; metadata?: unknown; items?: KObject[] };
  if (o.kind === 'Status' || o.kind === 'Table') return body;
  if (Array.isArray(o.items))
    return { ...o, kind: view.listKind, apiVersion: view.apiVersion, items: o.items.map((i) => view.out(i)) };
  if (o.metadata && o.kind) return view.out(body as KObject);
  return body;
}

export async function readBody(req: IncomingMessage): Promise<string>;
export async function readBody(req: IncomingMessage, binary: true): Promise<Buffer>;
export async function readBody(req: IncomingMessage, binary?: true): Promise<string | Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const all = Buffer.concat(chunks);
  return binary ? all : all.toString('utf8');
}

/** A JSON body, or a protobuf one of the kinds kubectl's typed clients send (protobuf.ts). */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
  if (contentType === 'application/vnd.kubernetes.protobuf') return decodeProtobuf(await readBody(req, true));
  if (contentType === 'application/yaml') return parseYamlBody(await readBody(req));
  if (contentType && contentType !== 'application/json' && contentType !== '*/*') {
    req.resume();
    throw new StatusError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`,
    );
  }
  const text = await readBody(req);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`json parse error: ${(err as Error).message}`);
  }
}

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(viewed(res, body));
  res.statusCode = code;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

export function sendError(res: ServerResponse, err: StatusError): void {
  sendJson(res, err.code, err.body());
}

export const notFoundPath = () =>
  new StatusError(404, 'NotFound', 'the server could not find the requested resource', {});

export const methodNotAllowed = () =>
  new StatusError(
    405,
    'MethodNotAllowed',
    'the server does not allow this method on the requested resource',
    {},
  );

/** Whether the client asked for server-side printing (`kubectl get`). */
export function wantsTable(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? '';
  return accept.split(',').some((part) => /as=Table/.test(part) && /g=meta\.k8s\.io/.test(part));
}

/** A YAML body (application/yaml, and apply-patch+yaml that is not JSON), as the apiserver reads it. */
export function parseYamlBody(text: string): unknown {
  try {
    return parseYaml(text);
  } catch (err) {
    throw badRequest(`error converting YAML to JSON: ${(err as Error).message.split('\n')[0]}`);
  }
}

export const isDryRun = (query: URLSearchParams) => query.getAll('dryRun').includes('All');
