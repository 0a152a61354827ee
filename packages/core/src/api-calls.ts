// What a step's API calls cost: every request sent (retries included) and how many were refused
// as throttled, per API — each AWS service by its SDK id, `registry` for the container registry's
// HTTP API, `Kubernetes` for a cluster's. A step is one process, so there is one tally per process,
// filled by createAwsClient's middleware, the registry client and the Kubernetes client, and read
// by each action's job summary: a release train of fifty deploys in one account can see what each
// one spent.
import { info } from './log.js';

export interface ApiCallCount {
  /** Requests sent, each retry counted. */
  calls: number;
  /** Of those, the ones refused as throttled (AWS's ThrottlingException, a 429). */
  throttled: number;
}

export interface ApiCallTally {
  total: ApiCallCount;
  /** By API: the SDK's service id (`ECS`, `ECR`, `STS`), `registry`, `Kubernetes`. */
  byService: Record<string, ApiCallCount>;
}

let tally: ApiCallTally = { total: { calls: 0, throttled: 0 }, byService: {} };

/** Counts one request, as its answer came back (or failed to). */
export function countApiCall(service: string, throttled: boolean): void {
  const own = (tally.byService[service] ??= { calls: 0, throttled: 0 });
  own.calls++;
  tally.total.calls++;
  if (throttled) {
    own.throttled++;
    tally.total.throttled++;
  }
}

/** A copy of what this process has counted so far. */
export function apiCallTally(): ApiCallTally {
  return structuredClone(tally);
}

/** For tests: start counting from zero. */
export function resetApiCallTally(): void {
  tally = { total: { calls: 0, throttled: 0 }, byService: {} };
}

/** `14 (ECS 13, STS 1); 2 throttled` — for a summary or a log line. */
export function describeApiCalls(counted: ApiCallTally): string {
  const services = Object.entries(counted.byService)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([service, count]) => `${service} ${count.calls}`);
  const calls = `${counted.total.calls}${services.length > 0 ? ` (${services.join(', ')})` : ''}`;
  const throttled = counted.total.throttled;
  return throttled === 0 ? `${calls}; none throttled` : `${calls}; ${throttled} throttled`;
}

/** One log line at the end of a step: `API calls: 17 (ECS 16, STS 1); none throttled`. */
export function logApiCalls(counted: ApiCallTally = apiCallTally()): void {
  if (counted.total.calls > 0) info(`API calls: ${describeApiCalls(counted)}`);
}
