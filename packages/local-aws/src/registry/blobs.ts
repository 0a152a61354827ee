// Content-addressed blob storage shared by every repository of the registry.
// Blobs are sha256-addressed and verified on write; bodies are streamed chunk by chunk and never
// concatenated, so a 1 GiB layer never sits in one Buffer. In memory by default; with a data
// directory they live at <dataDir>/blobs/sha256/<hex> and survive a restart.
// Which repository may see which blob is the ECR state's business (RepositoryState.blobs).
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createReadStream, mkdirSync, existsSync, rmSync, renameSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { StateStore } from '../service.js';

export const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

interface BlobIndex {
  /** digest → size in bytes, for every stored blob. */
  blobs: Record<string, { size: number }>;
}

interface Upload {
  id: string;
  size: number;
  hash: Hash;
  /** In memory: the chunks as they arrived. On disk: the open temp file. */
  chunks?: Buffer[];
  file?: FileHandle;
  path?: string;
  startedAt: number;
  /** Sizes of the chunks written by each PATCH (for ECR's minimum part size). */
  parts: number[];
  /** Serialises appends to one upload. */
  busy: Promise<unknown>;
}

export class BlobStore {
  private readonly index: BlobIndex;
  private readonly memory = new Map<string, Buffer[]>();
  private readonly uploads = new Map<string, Upload>();
  private readonly dir: string | undefined;

  constructor(private readonly state: StateStore) {
    this.index = state.namespace<BlobIndex>('ecr-blobs', () => ({ blobs: {} }));
    this.dir = state.dataDir;
    if (this.dir) {
      mkdirSync(join(this.dir, 'blobs', 'sha256'), { recursive: true });
      rmSync(join(this.dir, 'uploads'), { recursive: true, force: true });
      mkdirSync(join(this.dir, 'uploads'), { recursive: true });
    } else {
      // A fresh in-memory store has no bytes, whatever the namespace says.
      this.index.blobs = {};
    }
  }

  private blobPath(digest: string): string {
    return join(this.dir!, 'blobs', 'sha256', digest.slice('sha256:'.length));
  }

  has(digest: string): boolean {
    if (!(digest in this.index.blobs)) return false;
    if (this.dir) return existsSync(this.blobPath(digest));
    return this.memory.has(digest);
  }

  size(digest: string): number | undefined {
    return this.has(digest) ? this.index.blobs[digest]!.size : undefined;
  }

  /** Streams bytes [start, end] (inclusive) of a stored blob. */
  read(digest: string, start = 0, end?: number): Readable {
    const size = this.size(digest);
    if (size === undefined) throw new Error(`blob ${digest} is not stored`);
    const last = Math.min(end ?? size - 1, size - 1);
    if (this.dir) {
      if (size === 0 || last < start) return Readable.from([]);
      return createReadStream(this.blobPath(digest), { start, end: last });
    }
    const chunks = this.memory.get(digest)!;
    return Readable.from(sliceChunks(chunks, start, last));
  }

  /** Reads a small blob (a config or a manifest) whole. */
  async readAll(digest: string, limit = 4 * 1024 * 1024): Promise<Buffer | undefined> {
    const size = this.size(digest);
    if (size === undefined || size > limit) return undefined;
    const parts: Buffer[] = [];
    for await (const c of this.read(digest)) parts.push(c as Buffer);
    return Buffer.concat(parts);
  }

  // ---- uploads ----

  async startUpload(now: number): Promise<string> {
    const id = randomUUID();
    const upload: Upload = {
      id,
      size: 0,
      hash: createHash('sha256'),
      startedAt: now,
      parts: [],
      busy: Promise.resolve(),
    };
    if (this.dir) {
      upload.path = join(this.dir, 'uploads', id);
      upload.file = await open(upload.path, 'w');
    } else {
      upload.chunks = [];
    }
    this.uploads.set(id, upload);
    return id;
  }

  uploadSize(id: string): number | undefined {
    return this.uploads.get(id)?.size;
  }

  uploadParts(id: string): number[] {
    return this.uploads.get(id)?.parts ?? [];
  }

  hasUpload(id: string): boolean {
    return this.uploads.has(id);
  }

  /** Appends a request body to an upload; returns the bytes appended. */
  async append(id: string, body: AsyncIterable<Buffer | string> | Iterable<Buffer>): Promise<number> {
    const upload = this.uploads.get(id);
    if (!upload) throw new Error(`upload ${id} is unknown`);
    const run = async (): Promise<number> => {
      let n = 0;
      for await (const raw of body) {
        const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
        if (chunk.length === 0) continue;
        upload.hash.update(chunk);
        if (upload.file) {
          let off = 0;
          while (off < chunk.length) {
            const { bytesWritten } = await upload.file.write(
              chunk,
              off,
              chunk.length - off,
              upload.size + off,
            );
            off += bytesWritten;
          }
        } else {
          upload.chunks!.push(chunk);
        }
        upload.size += chunk.length;
        n += chunk.length;
      }
      return n;
    };
    const p = upload.busy.then(run, run);
    upload.busy = p.catch(() => undefined);
    const n = await p;
    return n;
  }

  recordPart(id: string, bytes: number): void {
    this.uploads.get(id)?.parts.push(bytes);
  }

  /**
   * Completes an upload: the sha256 of everything received must equal `digest`.
   * On a mismatch the upload is discarded (as distribution does) and nothing is stored.
   */
  async finishUpload(
    id: string,
    digest: string,
  ): Promise<{ ok: true; size: number } | { ok: false; actual: string }> {
    const upload = this.uploads.get(id);
    if (!upload) throw new Error(`upload ${id} is unknown`);
    await upload.busy;
    this.uploads.delete(id);
    const actual = 'sha256:' + upload.hash.digest('hex');
    if (actual !== digest) {
      await this.discard(upload);
      return { ok: false, actual };
    }
    if (upload.file) {
      await upload.file.close();
      if (this.has(digest)) rmSync(upload.path!, { force: true });
      else renameSync(upload.path!, this.blobPath(digest));
    } else if (!this.memory.has(digest)) {
      this.memory.set(digest, upload.chunks!);
    }
    this.index.blobs[digest] = { size: upload.size };
    this.state.save();
    return { ok: true, size: upload.size };
  }

  async cancelUpload(id: string): Promise<boolean> {
    const upload = this.uploads.get(id);
    if (!upload) return false;
    this.uploads.delete(id);
    await upload.busy;
    await this.discard(upload);
    return true;
  }

  private async discard(upload: Upload): Promise<void> {
    if (upload.file) {
      await upload.file.close().catch(() => undefined);
      rmSync(upload.path!, { force: true });
    }
  }

  /** Stores small bytes directly (used by tests and by PutImage-free helpers). */
  async putBytes(bytes: Buffer, now = 0): Promise<string> {
    const digest = 'sha256:' + createHash('sha256').update(bytes).digest('hex');
    if (this.has(digest)) return digest;
    const id = await this.startUpload(now);
    await this.append(id, [bytes]);
    await this.finishUpload(id, digest);
    return digest;
  }
}

function* sliceChunks(chunks: Buffer[], start: number, last: number): Generator<Buffer> {
  let pos = 0;
  for (const c of chunks) {
    const cStart = pos;
    const cEnd = pos + c.length - 1;
    pos += c.length;
    if (cEnd < start) continue;
    if (cStart > last) break;
    const from = Math.max(start, cStart) - cStart;
    const to = Math.min(last, cEnd) - cStart + 1;
    yield from === 0 && to === c.length ? c : c.subarray(from, to);
  }
}
