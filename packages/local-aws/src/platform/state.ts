// The one state store. Each service keeps a JSON-serialisable namespace (a live object it mutates
// and then save()s). Without a data dir everything is in memory; with one, the namespaces are
// written to <dataDir>/state.json atomically (temp file + rename) on every save() and loaded back
// at start. Blobs do not go in here: services keep files under `dataDir` themselves. state.json is
// written mode 0600: it holds the secret that signs registry tokens.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StateStore } from '../service.js';

const FILE = 'state.json';
const FORMAT = 1;

interface Persisted {
  format: number;
  namespaces: Record<string, unknown>;
}

export class LocalStateStore implements StateStore {
  readonly dataDir: string | undefined;
  private readonly namespaces = new Map<string, object>();
  private readonly loaded: Record<string, unknown>;
  private writes = 0;

  constructor(dataDir?: string) {
    this.dataDir = dataDir;
    this.loaded = {};
    if (!dataDir) return;
    mkdirSync(dataDir, { recursive: true });
    const file = join(dataDir, FILE);
    if (!existsSync(file)) return;
    let parsed: Persisted;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8')) as Persisted;
    } catch (error) {
      throw new Error(`local-aws: cannot read ${file}: ${(error as Error).message}`, { cause: error });
    }
    if (parsed?.format !== FORMAT || typeof parsed.namespaces !== 'object' || parsed.namespaces === null) {
      throw new Error(`local-aws: ${file} is not a local-aws state file (format ${FORMAT})`);
    }
    this.loaded = parsed.namespaces;
  }

  namespace<T extends object>(name: string, init: () => T): T {
    let value = this.namespaces.get(name);
    if (!value) {
      value = (this.loaded[name] as T | undefined) ?? init();
      this.namespaces.set(name, value);
    }
    return value as T;
  }

  /** Names of the namespaces in use (and those loaded from disk but not yet asked for). */
  names(): string[] {
    return [...new Set([...Object.keys(this.loaded), ...this.namespaces.keys()])].sort();
  }

  /** A JSON copy of everything (what save() writes). */
  snapshot(): Record<string, unknown> {
    const out: Record<string, unknown> = { ...this.loaded };
    for (const [name, value] of this.namespaces) out[name] = value;
    return JSON.parse(JSON.stringify(out)) as Record<string, unknown>;
  }

  save(): void {
    if (!this.dataDir) return;
    const file = join(this.dataDir, FILE);
    const temp = `${file}.${process.pid}.${++this.writes}.tmp`;
    const body: Persisted = { format: FORMAT, namespaces: this.snapshot() };
    writeFileSync(temp, JSON.stringify(body), { mode: 0o600 });
    renameSync(temp, file);
  }
}
