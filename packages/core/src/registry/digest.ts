// Content digests: computing them, checking their form, and checking a stream against one while it
// flows, so that bad bytes never complete an upload.
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { ActionError } from '../errors.js';

const HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** `algorithm:hex` of the bytes (sha256 unless told). */
export function digestOf(bytes: Buffer | string, algorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** Splits and checks `sha256:<64 hex>`; throws ActionError naming `what` when malformed. */
export function splitDigest(digest: string, what = 'digest'): { algorithm: string; hex: string } {
  const match = /^([a-z0-9]+):([a-f0-9]+)$/.exec(digest);
  const length = match ? HEX_LENGTH[match[1]!] : undefined;
  if (!match || length === undefined || match[2]!.length !== length) {
    throw new ActionError(`${what} ${JSON.stringify(digest)} is not a valid digest`, {
      hint: 'Expected sha256:<64 hex digits> (or sha384/sha512)',
    });
  }
  return { algorithm: match[1]!, hex: match[2]! };
}

/** Thrown when the bytes read for a blob are not the ones its descriptor names. Never retried. */
export class DigestMismatchError extends ActionError {
  constructor(
    readonly source: string,
    readonly expectedDigest: string,
    readonly expectedSize: number,
    readonly actualDigest: string | undefined,
    readonly actualSize: number,
  ) {
    super(
      actualDigest === undefined
        ? `Blob ${expectedDigest} in ${source} has ${actualSize > expectedSize ? `more than ${expectedSize}` : actualSize} ` +
            `bytes, but its descriptor says ${expectedSize}`
        : `Blob ${expectedDigest} in ${source} does not match its digest: its bytes hash to ${actualDigest}`,
      { hint: 'The image is corrupt or was modified after it was written; build or export it again' },
    );
    this.name = 'DigestMismatchError';
  }
}

/**
 * A pass-through that hashes and counts what flows and fails — before passing on the last chunk
 * — when the size or the digest is not the expected one. Because the failing chunk is withheld,
 * a request with a Content-Length never completes with bad content.
 */
export class VerifyingStream extends Transform {
  private readonly hash;
  private readonly algorithm: string;
  private count = 0;

  constructor(
    private readonly expectedDigest: string,
    private readonly expectedSize: number,
    private readonly source: string,
  ) {
    super();
    this.algorithm = splitDigest(expectedDigest).algorithm;
    this.hash = createHash(this.algorithm);
  }

  get bytes(): number {
    return this.count;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.count += chunk.length;
    if (this.count > this.expectedSize) {
      callback(
        new DigestMismatchError(this.source, this.expectedDigest, this.expectedSize, undefined, this.count),
      );
      return;
    }
    this.hash.update(chunk);
    if (this.count === this.expectedSize) {
      const actual = `${this.algorithm}:${this.hash.digest('hex')}`;
      if (actual !== this.expectedDigest) {
        callback(
          new DigestMismatchError(this.source, this.expectedDigest, this.expectedSize, actual, this.count),
        );
        return;
      }
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.count !== this.expectedSize) {
      callback(
        new DigestMismatchError(this.source, this.expectedDigest, this.expectedSize, undefined, this.count),
      );
      return;
    }
    if (this.expectedSize === 0) {
      const actual = `${this.algorithm}:${this.hash.digest('hex')}`;
      if (actual !== this.expectedDigest) {
        callback(new DigestMismatchError(this.source, this.expectedDigest, 0, actual, 0));
        return;
      }
    }
    callback();
  }
}
