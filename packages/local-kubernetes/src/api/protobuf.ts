// Just enough of Kubernetes' protobuf encoding to read a SelfSubjectAccessReview: kubectl's typed
// clients (auth can-i) send `application/vnd.kubernetes.protobuf` bodies, and kubectl 1.32 does not
// fall back to JSON on 415. The envelope is `k8s\0` + runtime.Unknown{typeMeta, raw}; raw is the
// object's message (field numbers from k8s.io/api/authorization/v1/generated.proto).
import { badRequest } from '../errors.js';

type Fields = Map<number, Array<Buffer | number>>;

function readVarint(buf: Buffer, pos: { at: number }): number {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (pos.at >= buf.length) throw badRequest('protobuf: unexpected end of data');
    const byte = buf[pos.at++]!;
    result += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return result;
    shift += 7;
  }
}

function fields(buf: Buffer): Fields {
  const out: Fields = new Map();
  const pos = { at: 0 };
  while (pos.at < buf.length) {
    const tag = readVarint(buf, pos);
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    let value: Buffer | number;
    if (wire === 0) value = readVarint(buf, pos);
    else if (wire === 2) {
      const length = readVarint(buf, pos);
      value = buf.subarray(pos.at, pos.at + length);
      pos.at += length;
    } else if (wire === 1) {
      value = 0;
      pos.at += 8;
    } else if (wire === 5) {
      value = 0;
      pos.at += 4;
    } else throw badRequest(`protobuf: unsupported wire type ${wire}`);
    out.set(field, [...(out.get(field) ?? []), value]);
  }
  return out;
}

const str = (f: Fields, n: number) => {
  const v = f.get(n)?.[0];
  return Buffer.isBuffer(v) ? v.toString('utf8') : undefined;
};
const sub = (f: Fields, n: number) => {
  const v = f.get(n)?.[0];
  return Buffer.isBuffer(v) ? fields(v) : undefined;
};

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** A protobuf SelfSubjectAccessReview as its JSON form (spec only). */
export function decodeSelfSubjectAccessReview(body: Buffer): unknown {
  if (!body.subarray(0, 4).equals(MAGIC)) throw badRequest('protobuf: missing the k8s envelope');
  const unknown = fields(body.subarray(4));
  const raw = unknown.get(2)?.[0];
  if (!Buffer.isBuffer(raw)) throw badRequest('protobuf: empty object');
  const spec = sub(fields(raw), 2);
  const resource = spec ? sub(spec, 1) : undefined;
  const nonResource = spec ? sub(spec, 2) : undefined;
  const pick = (f: Fields, names: string[]) =>
    Object.fromEntries(
      names.map((name, i) => [name, str(f, i + 1)]).filter(([, v]) => v !== undefined && v !== ''),
    );
  return {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    spec: {
      ...(resource
        ? {
            resourceAttributes: pick(resource, [
              'namespace',
              'verb',
              'group',
              'version',
              'resource',
              'subresource',
              'name',
            ]),
          }
        : {}),
      ...(nonResource ? { nonResourceAttributes: pick(nonResource, ['path', 'verb']) } : {}),
    },
  };
}
