// Every API operation the server answered: when, which service and operation, the IAM action it
// stands for, who called, how it ended, and the IAM questions asked for it (each action and
// resource, and whether it was allowed). Tests read it, and check IAM policies against it: the
// actions a caller was allowed are what its least-privilege policy must name.
import type { IamCheck } from './access.js';

export interface OpLogEntry {
  /** Simulated time, ISO 8601. */
  time: string;
  timeMs: number;
  requestId: string;
  /** SigV4 signing name ("ecr", "sts"). */
  service: string;
  operation: string;
  /** "ecr:CreateRepository". */
  action: string;
  identityArn?: string;
  accessKeyId?: string;
  region: string;
  status: number;
  errorCode?: string;
  /** Refused by AWS's rate limits (`throttle: 'aws'`, platform/throttle.ts); the operation did not run. */
  throttled?: true;
  /**
   * The IAM actions evaluated for the call, in order, with the resource each was evaluated on and
   * the answer (a call stops at the first denied one). Absent when the call failed before IAM was
   * asked (a bad signature, an unknown operation, an injected fault).
   */
  iam?: IamCheck[];
}

export interface OpLogFilter {
  service?: string;
  operation?: string;
  action?: string;
  errorCode?: string;
  accessKeyId?: string;
  identityArn?: string;
  /** true: only throttled calls; false: only calls that were not. */
  throttled?: boolean;
}

export class OpLog {
  private log: OpLogEntry[] = [];

  constructor(private readonly limit = 100_000) {}

  record(entry: OpLogEntry): void {
    this.log.push(entry);
    if (this.log.length > this.limit) this.log.splice(0, this.log.length - this.limit);
  }

  /** Entries in the order they were recorded, optionally filtered. */
  entries(filter: OpLogFilter = {}): OpLogEntry[] {
    return this.log.filter(
      (e) =>
        (filter.service === undefined || e.service === filter.service) &&
        (filter.operation === undefined || e.operation === filter.operation) &&
        (filter.action === undefined || e.action === filter.action) &&
        (filter.errorCode === undefined || e.errorCode === filter.errorCode) &&
        (filter.accessKeyId === undefined || e.accessKeyId === filter.accessKeyId) &&
        (filter.identityArn === undefined || e.identityArn === filter.identityArn) &&
        (filter.throttled === undefined || (e.throttled === true) === filter.throttled),
    );
  }

  /** Every IAM question asked for the matching calls, in order, with the call it belongs to. */
  iamChecks(filter: OpLogFilter = {}): Array<IamCheck & { operation: string; requestId: string }> {
    return this.entries(filter).flatMap((e) =>
      (e.iam ?? []).map((c) => ({ ...c, operation: e.action, requestId: e.requestId })),
    );
  }

  /**
   * The distinct IAM actions evaluated for the matching calls, sorted: with `allowed`, only those
   * allowed (what a least-privilege policy must name), or only those denied.
   */
  iamActions(filter: OpLogFilter & { allowed?: boolean } = {}): string[] {
    const { allowed, ...rest } = filter;
    return [
      ...new Set(
        this.iamChecks(rest)
          .filter((c) => allowed === undefined || c.allowed === allowed)
          .map((c) => c.action),
      ),
    ].sort();
  }

  /** The distinct IAM actions called, sorted. */
  actions(): string[] {
    return [...new Set(this.log.map((e) => e.action))].sort();
  }

  clear(): void {
    this.log = [];
  }
}
