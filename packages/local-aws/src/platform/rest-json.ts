// AWS REST-JSON (restJson1, EKS): the operation is chosen by the HTTP method and a path template
// (`GET /clusters/{name}`), its input is the path's labels, the query string and the JSON body
// together; answers are `application/json` with `x-amzn-RequestId`, and errors put their code in
// the `x-amzn-ErrorType` header and `{"message": …}` in the body, which is where the SDKs and the
// CLI read them from.
import type { ServerResponse } from 'node:http';
import type { AwsError, RestJsonRoute } from '../service.js';
import { toAwsJson } from './protocols.js';

/** One compiled route: its method, a RegExp of the template and the names of its labels. */
export interface CompiledRoute {
  route: RestJsonRoute;
  pattern: RegExp;
  labels: string[];
}

/** `/clusters/{name}/access-entries/{principalArn}` → a RegExp with one group per label (one segment each). */
export function compileRoute(route: RestJsonRoute): CompiledRoute {
  const labels: string[] = [];
  const source = route.path
    .split('/')
    .map((segment) => {
      const label = /^\{([A-Za-z0-9_]+)\}$/.exec(segment)?.[1];
      if (!label) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      labels.push(label);
      return '([^/]+)';
    })
    .join('/');
  return { route, pattern: new RegExp(`^${source}/?$`), labels };
}

/** The route a method and raw path select, with its labels decoded; undefined when none does. */
export function matchRoute(
  routes: readonly CompiledRoute[],
  method: string,
  rawPath: string,
): { route: RestJsonRoute; labels: Record<string, string> } | undefined {
  for (const compiled of routes) {
    if (compiled.route.method !== method) continue;
    const m = compiled.pattern.exec(rawPath);
    if (!m) continue;
    const labels: Record<string, string> = {};
    try {
      compiled.labels.forEach((name, i) => (labels[name] = decodeURIComponent(m[i + 1]!)));
    } catch {
      continue; // a malformed %-escape matches nothing
    }
    return { route: compiled.route, labels };
  }
  return undefined;
}

/** Whether some route has this path (with another method): 405 rather than 404. */
export function pathKnown(routes: readonly CompiledRoute[], rawPath: string): boolean {
  return routes.some((r) => r.pattern.test(rawPath));
}

export function sendRestJson(res: ServerResponse, status: number, body: unknown, requestId: string): void {
  const payload = toAwsJson(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(payload),
    'x-amzn-RequestId': requestId,
  });
  res.end(payload);
}

export function sendRestJsonError(res: ServerResponse, error: AwsError, requestId: string): void {
  const payload = toAwsJson({ ...error.members, message: error.message });
  res.writeHead(error.statusCode, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(payload),
    'x-amzn-RequestId': requestId,
    'x-amzn-ErrorType': error.code,
  });
  res.end(payload);
}
