// Faults tests arm per service/operation ('*' matches any): throttling, 5xx, added latency,
// dropped connections; for the next N matching calls (count) and/or with a probability.
// The server consults take() after authentication, before the operation runs.

export type FaultKind = 'throttling' | 'internal-error' | 'unavailable' | 'latency' | 'drop';

export interface FaultSpec {
  kind: FaultKind;
  /** Signing name ("ecr", "sts") or "*" (default). */
  service?: string;
  /** Operation name ("CreateRepository") or "*" (default). */
  operation?: string;
  /** How many matching calls it affects (default: all until cleared). */
  count?: number;
  /** Chance, 0..1, that a matching call is affected (default 1). */
  probability?: number;
  /** For latency: wall-clock ms added before the operation runs (default 1000). */
  latencyMs?: number;
  /** Override the error code / message / status of throttling and 5xx faults. */
  code?: string;
  message?: string;
  status?: number;
}

export interface ArmedFault extends Required<Pick<FaultSpec, 'kind' | 'service' | 'operation'>> {
  id: string;
  /** Calls still to affect (Infinity: until cleared). */
  remaining: number;
  probability: number;
  latencyMs?: number;
  code?: string;
  message?: string;
  status?: number;
  /** How many calls it has affected. */
  hits: number;
}

/** What to do to one call: wait latencyMs, then (maybe) fail it with `fault`. */
export interface FaultDecision {
  latencyMs: number;
  fault?: ArmedFault;
}

const KINDS: FaultKind[] = ['throttling', 'internal-error', 'unavailable', 'latency', 'drop'];

export class FaultInjector {
  private faults: ArmedFault[] = [];
  private nextId = 1;

  constructor(private readonly random: () => number = Math.random) {}

  arm(spec: FaultSpec): ArmedFault {
    if (!KINDS.includes(spec.kind)) {
      throw new Error(`unknown fault kind ${JSON.stringify(spec.kind)}; one of ${KINDS.join(', ')}`);
    }
    if (spec.probability !== undefined && !(spec.probability >= 0 && spec.probability <= 1)) {
      throw new Error(`probability must be between 0 and 1, got ${spec.probability}`);
    }
    if (spec.count !== undefined && !(Number.isInteger(spec.count) && spec.count > 0)) {
      throw new Error(`count must be a positive integer, got ${spec.count}`);
    }
    const fault: ArmedFault = {
      id: `fault-${this.nextId++}`,
      kind: spec.kind,
      service: spec.service ?? '*',
      operation: spec.operation ?? '*',
      remaining: spec.count ?? Infinity,
      probability: spec.probability ?? 1,
      hits: 0,
      ...(spec.kind === 'latency' ? { latencyMs: spec.latencyMs ?? 1000 } : {}),
      ...(spec.code !== undefined ? { code: spec.code } : {}),
      ...(spec.message !== undefined ? { message: spec.message } : {}),
      ...(spec.status !== undefined ? { status: spec.status } : {}),
    };
    this.faults.push(fault);
    return fault;
  }

  list(): ArmedFault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  disarm(id: string): boolean {
    const before = this.faults.length;
    this.faults = this.faults.filter((f) => f.id !== id);
    return this.faults.length !== before;
  }

  clear(): void {
    this.faults = [];
  }

  /**
   * Decides the fate of one call. Latency faults add up; the first matching error/drop fault (in
   * arming order) fails the call. Each affected fault's count goes down by one.
   */
  take(service: string, operation: string): FaultDecision {
    const decision: FaultDecision = { latencyMs: 0 };
    for (const fault of this.faults) {
      if (fault.remaining <= 0) continue;
      if (fault.service !== '*' && fault.service !== service) continue;
      if (fault.operation !== '*' && fault.operation !== operation) continue;
      if (fault.kind !== 'latency' && decision.fault) continue;
      if (fault.probability < 1 && this.random() >= fault.probability) continue;
      fault.remaining--;
      fault.hits++;
      if (fault.kind === 'latency') decision.latencyMs += fault.latencyMs ?? 0;
      else decision.fault = fault;
    }
    this.faults = this.faults.filter((f) => f.remaining > 0);
    return decision;
  }
}
