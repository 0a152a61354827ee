// What a step's AWS calls cost: every request the SDK sent (its own retries included) and how many
// AWS refused as throttled, per service. A step is one process, so there is one tally per process,
// filled by the middleware createAwsClient puts on every client and read by each action's job
// summary — a release train of fifty deploys in one account can see what each one spent.

export interface ApiCallCount {
  /** Requests sent, each retry counted. */
  calls: number;
  /** Of those, the ones AWS refused as throttled (each was waited out and sent again). */
  throttled: number;
}

export interface ApiCallTally {
  total: ApiCallCount;
  /** By the SDK's service id: `ECS`, `ECR`, `STS`. */
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

/** `14 (ECS 13, STS 1); 2 throttled by AWS` — for a summary or a log line. */
export function describeApiCalls(counted: ApiCallTally): string {
  const services = Object.entries(counted.byService)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([service, count]) => `${service} ${count.calls}`);
  const calls = `${counted.total.calls}${services.length > 0 ? ` (${services.join(', ')})` : ''}`;
  const throttled = counted.total.throttled;
  return throttled === 0 ? `${calls}; none throttled` : `${calls}; ${throttled} throttled by AWS`;
}
