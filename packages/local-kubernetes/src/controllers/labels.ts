// Label selectors (matchLabels and matchExpressions), as controllers select their pods.
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

export function matches(
  selector: LabelSelector | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  if (!selector) return false;
  const have = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (have[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const value = have[e.key];
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (value === undefined || !values.includes(value)) return false;
        break;
      case 'NotIn':
        if (value !== undefined && values.includes(value)) return false;
        break;
      case 'Exists':
        if (value === undefined) return false;
        break;
      case 'DoesNotExist':
        if (value !== undefined) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** An int-or-percent (maxSurge, maxUnavailable) scaled against a total: GetScaledValueFromIntOrPercent. */
export function scaledValue(
  value: unknown,
  total: number,
  roundUp: boolean,
  fallback: string | number,
): number {
  const v = value === undefined || value === null ? fallback : value;
  if (typeof v === 'number') return v;
  const match = /^(\d+)%$/.exec(String(v));
  if (!match) return Number.isFinite(Number(v)) ? Number(v) : 0;
  const exact = (Number(match[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/** Durations in image labels, as local-aws reads them: 500ms, 30s, 2m, 1h; a bare number is seconds. */
export function parseDurationMs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!match) return undefined;
  const n = Number(match[1]);
  const unit = match[2] ?? 's';
  return Math.round(n * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000));
}
