// A minimal tar reader for `docker save` archives: it indexes the entries (ustar, pax extended
// headers, GNU long names, links) and streams any entry's bytes straight from the file, so an
// archive of any size is read with flat memory and nothing is extracted.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { ActionError } from '../errors.js';

export interface TarEntry {
  /** The path in the archive, without a leading "./" or a trailing "/". */
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';
  size: number;
  /** Byte offset of the entry's data in the archive file. */
  offset: number;
  linkName?: string;
}

const BLOCK = 512;

function normalizeName(name: string): string {
  let n = name.replace(/\/+$/, '');
  while (n.startsWith('./')) n = n.slice(2);
  return posix.normalize(n || '.');
}

function text(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? field.length : end).toString('utf8');
}

function octal(block: Buffer, start: number, length: number): number {
  const field = block.subarray(start, start + length);
  if (field[0]! & 0x80) {
    // GNU base-256 for sizes of 8 GiB and more.
    let value = 0;
    for (let i = 0; i < field.length; i++) value = value * 256 + (i === 0 ? field[i]! & 0x7f : field[i]!);
    return value;
  }
  const digits = text(block, start, length).trim();
  return digits === '' ? 0 : parseInt(digits, 8);
}

function checksumOk(block: Buffer): boolean {
  const stored = octal(block, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum === stored;
}

function parsePax(data: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0) break;
    const length = parseInt(data.subarray(pos, space).toString('ascii'), 10);
    if (!Number.isFinite(length) || length <= 0) break;
    const record = data.subarray(space + 1, pos + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) records[record.slice(0, eq)] = record.slice(eq + 1);
    pos += length;
  }
  return records;
}

export class TarArchive {
  private constructor(
    readonly path: string,
    readonly entries: ReadonlyMap<string, TarEntry>,
  ) {}

  /** Reads every header of the tar file at `path`. Throws ActionError when it is not a tar. */
  static async open(path: string): Promise<TarArchive> {
    const notTar = (why: string): ActionError =>
      new ActionError(`${path} is not a tar archive: ${why}`, {
        hint: 'Pass the file written by `docker save -o <file> <image>` (not compressed)',
      });
    const entries = new Map<string, TarEntry>();
    const handle = await open(path, 'r');
    try {
      const { size: fileSize } = await handle.stat();
      const block = Buffer.alloc(BLOCK);
      let pos = 0;
      let pax: Record<string, string> = {};
      let globalPax: Record<string, string> = {};
      let longName: string | undefined;
      let longLink: string | undefined;
      for (;;) {
        if (pos + BLOCK > fileSize) {
          if (pos === fileSize && entries.size > 0) break; // no end-of-archive blocks; tolerate
          throw notTar(entries.size === 0 ? 'it is too short' : `it is truncated at byte ${pos}`);
        }
        await handle.read(block, 0, BLOCK, pos);
        if (block.every((b) => b === 0)) break; // end of archive
        if (!checksumOk(block)) throw notTar(`bad header checksum at byte ${pos}`);
        const typeflag = String.fromCharCode(block[156]!);
        let size = octal(block, 124, 12);
        const dataOffset = pos + BLOCK;
        const next = dataOffset + Math.ceil(size / BLOCK) * BLOCK;
        if (next > fileSize) throw notTar(`an entry at byte ${pos} runs past the end of the file`);
        const readData = async (): Promise<Buffer> => {
          const data = Buffer.alloc(size);
          await handle.read(data, 0, size, dataOffset);
          return data;
        };
        if (typeflag === 'x' || typeflag === 'g') {
          const records = parsePax(await readData());
          if (typeflag === 'x') pax = { ...pax, ...records };
          else globalPax = { ...globalPax, ...records };
          pos = next;
          continue;
        }
        if (typeflag === 'L' || typeflag === 'K') {
          const value = text(await readData(), 0, size);
          if (typeflag === 'L') longName = value;
          else longLink = value;
          pos = next;
          continue;
        }
        const attrs = { ...globalPax, ...pax };
        const magic = text(block, 257, 6);
        const prefix = magic.startsWith('ustar') ? text(block, 345, 155) : '';
        const rawName =
          attrs.path ?? longName ?? (prefix ? `${prefix}/${text(block, 0, 100)}` : text(block, 0, 100));
        if (attrs.size !== undefined) size = Number(attrs.size);
        const linkName = attrs.linkpath ?? longLink ?? text(block, 157, 100);
        const type: TarEntry['type'] =
          typeflag === '0' || typeflag === '\0' || typeflag === '7'
            ? 'file'
            : typeflag === '5'
              ? 'directory'
              : typeflag === '2'
                ? 'symlink'
                : typeflag === '1'
                  ? 'hardlink'
                  : 'other';
        const entry: TarEntry = { name: normalizeName(rawName), type, size, offset: dataOffset };
        if (type === 'symlink' || type === 'hardlink') entry.linkName = linkName;
        entries.set(entry.name, entry);
        pax = {};
        longName = undefined;
        longLink = undefined;
        pos = dataOffset + Math.ceil(size / BLOCK) * BLOCK;
      }
    } finally {
      await handle.close();
    }
    return new TarArchive(path, entries);
  }

  /** The regular file at `name`, following symlinks and hard links; undefined when absent. */
  find(name: string): TarEntry | undefined {
    let current = normalizeName(name);
    for (let hops = 0; hops < 32; hops++) {
      const entry = this.entries.get(current);
      if (!entry) return undefined;
      if (entry.type === 'file') return entry;
      if (entry.type === 'hardlink') current = normalizeName(entry.linkName ?? '');
      else if (entry.type === 'symlink') {
        const link = entry.linkName ?? '';
        current = normalizeName(
          link.startsWith('/') ? link.slice(1) : posix.join(posix.dirname(current), link),
        );
      } else return undefined;
    }
    return undefined;
  }

  /** The bytes of a (small) file entry. */
  async readFile(name: string): Promise<Buffer> {
    const entry = this.find(name);
    if (!entry) throw new ActionError(`${this.path} has no file ${name}`);
    const handle = await open(this.path, 'r');
    try {
      const data = Buffer.alloc(entry.size);
      await handle.read(data, 0, entry.size, entry.offset);
      return data;
    } finally {
      await handle.close();
    }
  }

  /** A stream of a file entry's bytes, read from the archive on demand. */
  createReadStream(entry: TarEntry): Readable {
    if (entry.size === 0) return Readable.from([]);
    return createReadStream(this.path, { start: entry.offset, end: entry.offset + entry.size - 1 });
  }
}
