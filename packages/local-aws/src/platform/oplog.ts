// Every API operation the server answered: when, which service and operation, the IAM action it
// stands for, who called, and how it ended. Tests read it (and later check IAM policies against it).

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
}

export interface OpLogFilter {
  service?: string;
  operation?: string;
  action?: string;
  errorCode?: string;
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
        (filter.errorCode === undefined || e.errorCode === filter.errorCode),
    );
  }

  /** The distinct IAM actions called, sorted. */
  actions(): string[] {
    return [...new Set(this.log.map((e) => e.action))].sort();
  }

  clear(): void {
    this.log = [];
  }
}
