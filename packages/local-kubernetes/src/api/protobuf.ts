// Enough of Kubernetes' protobuf encoding to read what kubectl's typed clients send: `kubectl
// create namespace|configmap|secret|serviceaccount|deployment|job|service` and `auth can-i` POST
// `application/vnd.kubernetes.protobuf`, and kubectl 1.32 does not fall back to JSON on 415. The
// envelope is `k8s\0` + runtime.Unknown{typeMeta{apiVersion, kind}, raw}; raw is the object's
// message. Field numbers are those of k8s.io/api's generated.proto for the fields these commands
// set (checked against kubectl's own bytes). gogo-protobuf writes every non-pointer field, so zero
// values (empty strings, 0, false, empty messages) are dropped as Go's JSON omitempty drops them,
// except for pointer fields (`I`), which are written only when set.
import { StatusError, badRequest } from '../errors.js';

type FieldType = 's' | 'b' | 'i' | 'I' | 'B' | 'ms' | 'mb' | 'rs' | 'ios' | 'q' | Schema | ['r', Schema];
interface Schema {
  [field: number]: [string, FieldType];
}

const META: Schema = {
  1: ['name', 's'],
  2: ['generateName', 's'],
  3: ['namespace', 's'],
  11: ['labels', 'ms'],
  12: ['annotations', 'ms'],
  14: ['finalizers', 'rs'],
};
const SELECTOR: Schema = {
  1: ['matchLabels', 'ms'],
  2: ['matchExpressions', ['r', { 1: ['key', 's'], 2: ['operator', 's'], 3: ['values', 'rs'] }]],
};
const CONTAINER: Schema = {
  1: ['name', 's'],
  2: ['image', 's'],
  3: ['command', 'rs'],
  4: ['args', 'rs'],
  5: ['workingDir', 's'],
  6: [
    'ports',
    [
      'r',
      {
        1: ['name', 's'],
        2: ['hostPort', 'i'],
        3: ['containerPort', 'i'],
        4: ['protocol', 's'],
        5: ['hostIP', 's'],
      },
    ],
  ],
  7: ['env', ['r', { 1: ['name', 's'], 2: ['value', 's'] }]],
  8: ['resources', { 1: ['limits', 'q'], 2: ['requests', 'q'] }],
  13: ['terminationMessagePath', 's'],
  14: ['imagePullPolicy', 's'],
  20: ['terminationMessagePolicy', 's'],
};
const TEMPLATE: Schema = {
  1: ['metadata', META],
  2: [
    'spec',
    {
      2: ['containers', ['r', CONTAINER]],
      3: ['restartPolicy', 's'],
      4: ['terminationGracePeriodSeconds', 'I'],
      6: ['dnsPolicy', 's'],
      7: ['nodeSelector', 'ms'],
      8: ['serviceAccountName', 's'],
      10: ['nodeName', 's'],
      19: ['schedulerName', 's'],
      20: ['initContainers', ['r', CONTAINER]],
    },
  ],
};
const INT_OR_STRING = 'ios';

const KINDS: Record<string, Schema> = {
  Namespace: { 1: ['metadata', META] },
  ServiceAccount: { 1: ['metadata', META] },
  ConfigMap: { 1: ['metadata', META], 2: ['data', 'ms'], 3: ['binaryData', 'mb'] },
  Secret: { 1: ['metadata', META], 2: ['data', 'mb'], 3: ['type', 's'], 4: ['stringData', 'ms'] },
  Deployment: {
    1: ['metadata', META],
    2: [
      'spec',
      {
        1: ['replicas', 'I'],
        2: ['selector', SELECTOR],
        3: ['template', TEMPLATE],
        4: [
          'strategy',
          {
            1: ['type', 's'],
            2: ['rollingUpdate', { 1: ['maxUnavailable', INT_OR_STRING], 2: ['maxSurge', INT_OR_STRING] }],
          },
        ],
        5: ['minReadySeconds', 'i'],
        6: ['revisionHistoryLimit', 'I'],
        7: ['paused', 'B'],
        9: ['progressDeadlineSeconds', 'I'],
      },
    ],
  },
  Job: {
    1: ['metadata', META],
    2: [
      'spec',
      {
        1: ['parallelism', 'I'],
        2: ['completions', 'I'],
        3: ['activeDeadlineSeconds', 'I'],
        4: ['selector', SELECTOR],
        6: ['template', TEMPLATE],
        7: ['backoffLimit', 'I'],
        8: ['ttlSecondsAfterFinished', 'I'],
      },
    ],
  },
  Service: {
    1: ['metadata', META],
    2: [
      'spec',
      {
        1: [
          'ports',
          [
            'r',
            {
              1: ['name', 's'],
              2: ['protocol', 's'],
              3: ['port', 'i'],
              4: ['targetPort', INT_OR_STRING],
              5: ['nodePort', 'i'],
            },
          ],
        ],
        2: ['selector', 'ms'],
        3: ['clusterIP', 's'],
        4: ['type', 's'],
        7: ['sessionAffinity', 's'],
      },
    ],
  },
  SelfSubjectRulesReview: { 2: ['spec', { 1: ['namespace', 's'] }] },
  SelfSubjectAccessReview: {
    2: [
      'spec',
      {
        1: [
          'resourceAttributes',
          {
            1: ['namespace', 's'],
            2: ['verb', 's'],
            3: ['group', 's'],
            4: ['version', 's'],
            5: ['resource', 's'],
            6: ['subresource', 's'],
            7: ['name', 's'],
          },
        ],
        2: ['nonResourceAttributes', { 1: ['path', 's'], 2: ['verb', 's'] }],
      },
    ],
  },
};

type Raw = Map<number, Array<Buffer | number>>;

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

function fields(buf: Buffer): Raw {
  const out: Raw = new Map();
  const pos = { at: 0 };
  while (pos.at < buf.length) {
    const tag = readVarint(buf, pos);
    const wire = tag & 7;
    let value: Buffer | number;
    if (wire === 0) value = readVarint(buf, pos);
    else if (wire === 2) {
      const length = readVarint(buf, pos);
      value = buf.subarray(pos.at, pos.at + length);
      pos.at += length;
    } else if (wire === 1 || wire === 5) {
      value = 0;
      pos.at += wire === 1 ? 8 : 4;
    } else throw badRequest(`protobuf: unsupported wire type ${wire}`);
    const field = Math.floor(tag / 8);
    out.set(field, [...(out.get(field) ?? []), value]);
  }
  return out;
}

const asBuffer = (v: Buffer | number | undefined) => (Buffer.isBuffer(v) ? v : Buffer.alloc(0));
const asNumber = (v: Buffer | number | undefined) => (typeof v === 'number' ? v : 0);

function mapOf(values: Array<Buffer | number>, bytes: boolean, quantity = false): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of values) {
    const f = fields(asBuffer(entry));
    const key = asBuffer(f.get(1)?.[0]).toString('utf8');
    const raw = asBuffer(f.get(2)?.[0]);
    out[key] = quantity
      ? asBuffer(fields(raw).get(1)?.[0]).toString('utf8')
      : bytes
        ? raw.toString('base64')
        : raw.toString('utf8');
  }
  return out;
}

function decode(buf: Buffer, schema: Schema): Record<string, unknown> {
  const raw = fields(buf);
  const out: Record<string, unknown> = {};
  for (const [number, values] of raw) {
    const spec = schema[number];
    if (!spec) continue;
    const [name, type] = spec;
    const last = values[values.length - 1];
    let value: unknown;
    if (type === 's') value = asBuffer(last).toString('utf8') || undefined;
    else if (type === 'b') value = asBuffer(last).length ? asBuffer(last).toString('base64') : undefined;
    else if (type === 'i') value = asNumber(last) || undefined;
    else if (type === 'I') value = asNumber(last) >= 2 ** 31 ? asNumber(last) - 2 ** 64 : asNumber(last);
    else if (type === 'B') value = asNumber(last) ? true : undefined;
    else if (type === 'ms' || type === 'mb' || type === 'q') {
      const map = mapOf(values, type === 'mb', type === 'q');
      value = Object.keys(map).length ? map : undefined;
    } else if (type === 'rs') {
      const list = values.map((v) => asBuffer(v).toString('utf8'));
      value = list.length ? list : undefined;
    } else if (type === 'ios') {
      const f = fields(asBuffer(last));
      value =
        asNumber(f.get(1)?.[0]) === 1 ? asBuffer(f.get(3)?.[0]).toString('utf8') : asNumber(f.get(2)?.[0]);
    } else if (Array.isArray(type)) {
      const list = values.map((v) => decode(asBuffer(v), type[1]));
      value = list.length ? list : undefined;
    } else {
      const nested = decode(asBuffer(last), type);
      value = Object.keys(nested).length ? nested : undefined;
    }
    if (value !== undefined) out[name] = value;
  }
  return out;
}

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** A protobuf request body as its JSON form; 415 for a kind this server cannot read in protobuf. */
export function decodeProtobuf(body: Buffer): Record<string, unknown> {
  if (!body.subarray(0, 4).equals(MAGIC)) throw badRequest('protobuf: missing the k8s envelope');
  const unknown = fields(body.subarray(4));
  const typeMeta = fields(asBuffer(unknown.get(1)?.[0]));
  const apiVersion = asBuffer(typeMeta.get(1)?.[0]).toString('utf8');
  const kind = asBuffer(typeMeta.get(2)?.[0]).toString('utf8');
  const schema = KINDS[kind];
  if (!schema)
    throw new StatusError(
      415,
      'UnsupportedMediaType',
      'the body of the request was in an unknown format - accepted media types include: application/json',
    );
  return { apiVersion, kind, metadata: {}, ...decode(asBuffer(unknown.get(2)?.[0]), schema) };
}
