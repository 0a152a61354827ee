// Request bodies of the AWS APIs, within a size limit. A body over the limit is answered 413 and
// its remaining bytes are read and thrown away, never answered with a reset connection: SDKs
// retry a reset (three times, with back-off) but not a 413. A declared Content-Length over the
// limit is refused before a byte is read, and with `Expect: 100-continue` before the client sends
// any (the server never says 100 Continue to it).
import type { IncomingMessage } from 'node:http';

/** How much of a refused body is read and discarded before the connection is closed anyway. */
const DISCARD_CAP = 256 * 1024 * 1024;

/** The Content-Length the request declares, or undefined (chunked, or none). */
export function declaredLength(req: IncomingMessage): number | undefined {
  const header = req.headers['content-length'];
  if (header === undefined || !/^\d+$/.test(header)) return undefined;
  return Number(header);
}

/** True when the request declares a body larger than `limit`: refuse it without reading. */
export function declaresTooMuch(req: IncomingMessage, limit: number): boolean {
  return (declaredLength(req) ?? 0) > limit;
}

/**
 * The body, or 'too-large' once more than `limit` bytes arrived; the rest is then discarded
 * (see discardBody) so the client can finish sending and read the answer.
 */
export function readBodyWithin(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      req.off('end', onEnd);
      chunks.length = 0;
      discardBody(req, size);
      resolve('too-large');
    };
    const onEnd = () => resolve(Buffer.concat(chunks));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', reject);
  });
}

/**
 * Reads and drops what is left of a body the server will not use, so the client's write completes
 * and it reads the answer instead of a reset; past DISCARD_CAP bytes the connection is closed.
 */
export function discardBody(req: IncomingMessage, alreadyRead = 0): void {
  let size = alreadyRead;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > DISCARD_CAP) req.socket.destroy();
  });
  req.resume();
}
