// What each container of each pod has written, as the kubelet keeps it: the current instance's
// lines and the previous (terminated) instance's, so `kubectl logs` and `kubectl logs --previous`
// both work. Controllers write, the API's pods/log reads.

export interface LogLine {
  /** Simulated ms since the epoch. */
  time: number;
  text: string;
}

interface ContainerLogs {
  current: LogLine[];
  previous: LogLine[] | undefined;
}

const MAX_LINES = 10_000;

export class PodLogs {
  private readonly logs = new Map<string, ContainerLogs>();

  private key(namespace: string, pod: string, container: string): string {
    return `${namespace}/${pod}/${container}`;
  }

  append(namespace: string, pod: string, container: string, line: LogLine): void {
    const key = this.key(namespace, pod, container);
    const logs = this.logs.get(key) ?? { current: [], previous: undefined };
    logs.current.push(line);
    if (logs.current.length > MAX_LINES) logs.current.splice(0, logs.current.length - MAX_LINES);
    this.logs.set(key, logs);
  }

  /** A container restarts: what it wrote becomes `--previous`, the new instance starts empty. */
  restarted(namespace: string, pod: string, container: string): void {
    const key = this.key(namespace, pod, container);
    const logs = this.logs.get(key);
    this.logs.set(key, { current: [], previous: logs?.current ?? [] });
  }

  /** The lines, or undefined when that instance never ran (no previous instance). */
  read(
    namespace: string,
    pod: string,
    container: string,
    options: { previous?: boolean; tailLines?: number; sinceTime?: number } = {},
  ): LogLine[] | undefined {
    const logs = this.logs.get(this.key(namespace, pod, container));
    let lines = options.previous ? logs?.previous : logs?.current;
    if (!lines) return options.previous ? undefined : [];
    if (options.sinceTime !== undefined) lines = lines.filter((l) => l.time >= options.sinceTime!);
    if (options.tailLines !== undefined && options.tailLines >= 0)
      lines = lines.slice(Math.max(0, lines.length - options.tailLines));
    return [...lines];
  }

  /** A deleted pod's logs go with it. */
  forget(namespace: string, pod: string): void {
    for (const key of [...this.logs.keys()])
      if (key.startsWith(`${namespace}/${pod}/`)) this.logs.delete(key);
  }
}
