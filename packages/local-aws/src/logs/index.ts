// CloudWatch Logs: the JSON 1.1 API (`Logs_20140328`, signing name `logs`) for log groups, log
// streams and their events — what ECS's awslogs driver writes and `aws logs get-log-events` /
// `filter-log-events` read. Filter patterns are plain terms (see the README). IAM: the Service
// Authorization Reference's log-group and log-stream ARNs, in the form CloudWatch Logs evaluates
// (and its AccessDenied messages name): a group action on `…:log-group:<name>:log-stream:` (so a
// policy's `log-group:<name>:*` covers it, as the CloudWatch Logs docs advise), a stream action on
// `…:log-group:<name>:log-stream:<stream>`, DescribeLogGroups on `…:log-group::log-stream:`.
import {
  AwsError,
  type Authorization,
  type JsonOperation,
  type JsonService,
  type ServiceFactory,
} from '../service.js';

export const LOGS_TARGET_PREFIX = 'Logs_20140328';

export interface LogEvent {
  timestamp: number;
  message: string;
  ingestionTime: number;
}

interface LogStream {
  name: string;
  createdAt: number;
  events: LogEvent[];
  storedBytes: number;
}

interface LogGroup {
  name: string;
  createdAt: number;
  retentionInDays?: number;
  kmsKeyId?: string;
  tags: Record<string, string>;
  streams: Record<string, LogStream>;
}

/** Logs' state: log groups by `<account>/<region>`, then by name. */
export interface LogsState {
  regions: Record<string, Record<string, LogGroup>>;
}

/** Where a log group lives. */
export interface LogGroupRef {
  accountId: string;
  region: string;
  group: string;
}

/** Test hooks for CloudWatch Logs (admin.logs), and what ECS's awslogs driver uses. */
export interface LogsAdmin {
  /** Whether the log group exists. */
  hasGroup(where: LogGroupRef): boolean;
  /** Creates the log group when it does not exist. */
  createGroup(where: LogGroupRef): void;
  /** Creates the stream (and nothing else) when its group exists; false when the group does not. */
  createStream(where: LogGroupRef & { stream: string }): boolean;
  /** Appends events to a stream, creating the group and stream when needed. */
  append(
    where: LogGroupRef & { stream: string },
    events: Array<{ timestamp: number; message: string }>,
  ): void;
  /** A stream's events (empty when it does not exist). */
  events(where: LogGroupRef & { stream: string }): LogEvent[];
  /** A deep copy of the whole state. */
  snapshot(): LogsState;
}

const GROUP_NAME = /^[.\-_/#A-Za-z0-9]{1,512}$/;
const STREAM_NAME = /^[^:*]{1,512}$/;
const MAX_GET_EVENTS = 10_000;
const DAY_MS = 24 * 60 * 60 * 1000;
const RETENTION_DAYS = new Set([
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
]);

const invalid = (message: string) => new AwsError('InvalidParameterException', message);
const groupNotFound = () =>
  new AwsError('ResourceNotFoundException', 'The specified log group does not exist.');
const streamNotFound = () =>
  new AwsError('ResourceNotFoundException', 'The specified log stream does not exist.');

/** `arn:aws:logs:<region>:<account>:log-group:<name>` (with `:*` as DescribeLogGroups' `arn`). */
export function logGroupArn(region: string, accountId: string, group: string): string {
  return `arn:aws:logs:${region}:${accountId}:log-group:${group}`;
}

export function logStreamArn(region: string, accountId: string, group: string, stream: string): string {
  return `${logGroupArn(region, accountId, group)}:log-stream:${stream}`;
}

function str(input: Record<string, unknown>, key: string): string | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new AwsError('SerializationException', `Unexpected value for ${key}`);
  return v;
}

function num(input: Record<string, unknown>, key: string): number | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw new AwsError('SerializationException', `Unexpected value for ${key}`);
  return v;
}

function requiredGroupName(input: Record<string, unknown>, key = 'logGroupName'): string {
  const name = str(input, key);
  if (name === undefined)
    throw invalid(
      `1 validation error detected: Value null at '${key}' failed to satisfy constraint: Member must not be null`,
    );
  if (!GROUP_NAME.test(name))
    throw invalid(
      `1 validation error detected: Value '${name}' at '${key}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+`,
    );
  return name;
}

function requiredStreamName(input: Record<string, unknown>): string {
  const name = str(input, 'logStreamName');
  if (name === undefined)
    throw invalid(
      "1 validation error detected: Value null at 'logStreamName' failed to satisfy constraint: Member must not be null",
    );
  if (!STREAM_NAME.test(name))
    throw invalid(
      `1 validation error detected: Value '${name}' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*`,
    );
  return name;
}

function limitOf(input: Record<string, unknown>, max: number): number {
  const limit = num(input, 'limit');
  if (limit === undefined) return max;
  if (limit < 1 || limit > max)
    throw invalid(
      `1 validation error detected: Value '${limit}' at 'limit' failed to satisfy constraint: Member must have value ${limit < 1 ? 'greater than or equal to 1' : `less than or equal to ${max}`}`,
    );
  return limit;
}

/** A log group named by `logGroupName` or `logGroupIdentifier` (a name or an ARN). */
function groupNameOf(input: Record<string, unknown>): string {
  const identifier = str(input, 'logGroupIdentifier');
  if (identifier !== undefined && input.logGroupName !== undefined)
    throw invalid('LogGroup name and LogGroup ARN are mutually exclusive parameters.');
  if (identifier !== undefined) {
    const m = /^arn:aws[a-z-]*:logs:[a-z0-9-]+:\d{12}:log-group:([^:]+)(?::\*)?$/.exec(identifier);
    return m ? m[1]! : requiredGroupName(input, 'logGroupIdentifier');
  }
  return requiredGroupName(input);
}

/** Opaque pagination tokens over a sorted list: the offset, base64. */
const offsetToken = (offset: number) => Buffer.from(`o:${offset}`).toString('base64');
function offsetOf(token: string | undefined): number {
  if (token === undefined) return 0;
  const m = /^o:(\d+)$/.exec(Buffer.from(token, 'base64').toString());
  if (!m) throw invalid('The specified nextToken is invalid.');
  return Number(m[1]);
}

/** GetLogEvents' tokens: `f/<position>` and `b/<position>`, 56 digits as CloudWatch Logs shows them. */
const eventToken = (direction: 'f' | 'b', position: number) =>
  `${direction}/${String(position).padStart(56, '0')}`;

/**
 * The plain filter pattern local-aws understands: empty matches every event; a quoted term
 * ("…") matches events containing it; otherwise every space-separated term must appear.
 */
export function matchesFilter(pattern: string | undefined, message: string): boolean {
  const p = (pattern ?? '').trim();
  if (p === '') return true;
  const quoted = /^"(.*)"$/.exec(p);
  if (quoted) return message.includes(quoted[1]!);
  return p.split(/\s+/).every((term) => message.includes(term.replace(/^"(.*)"$/, '$1')));
}

const logsAuthorization: Authorization<Record<string, unknown>> = (operation, input, ctx) => {
  const region = ctx.region;
  const account = ctx.identity.accountId;
  const action = `logs:${operation}`;
  const name = (): string => {
    try {
      return groupNameOf(input);
    } catch {
      return typeof input.logGroupName === 'string' ? input.logGroupName : '*';
    }
  };
  switch (operation) {
    case 'DescribeLogGroups':
      return [{ action, resource: `arn:aws:logs:${region}:${account}:log-group::log-stream:` }];
    case 'CreateLogGroup':
    case 'DeleteLogGroup':
    case 'PutRetentionPolicy':
    case 'DescribeLogStreams':
    case 'FilterLogEvents':
      return [{ action, resource: logStreamArn(region, account, name(), '') }];
    case 'CreateLogStream':
    case 'PutLogEvents':
    case 'GetLogEvents':
      return [
        {
          action,
          resource: logStreamArn(
            region,
            account,
            name(),
            typeof input.logStreamName === 'string' ? input.logStreamName : '*',
          ),
        },
      ];
    default:
      return undefined;
  }
};

export const createLogs: ServiceFactory<LogsAdmin> = ({ clock, state }) => {
  const s = state.namespace<LogsState>('logs', () => ({ regions: {} }));
  const save = () => state.save();
  const groupsOf = (accountId: string, region: string) => (s.regions[`${accountId}/${region}`] ??= {});
  const newGroup = (name: string, now: number): LogGroup => ({ name, createdAt: now, tags: {}, streams: {} });
  const newStream = (name: string, now: number): LogStream => ({
    name,
    createdAt: now,
    events: [],
    storedBytes: 0,
  });

  const ingest = (stream: LogStream, events: Array<{ timestamp: number; message: string }>, now: number) => {
    for (const e of events) {
      stream.events.push({ timestamp: e.timestamp, message: e.message, ingestionTime: now });
      stream.storedBytes += Buffer.byteLength(e.message) + 26;
    }
    // Events are kept in timestamp order (stable for equal timestamps).
    stream.events.sort((a, b) => a.timestamp - b.timestamp);
  };

  const streamSummary = (group: LogGroup, st: LogStream, region: string, accountId: string) => {
    const first = st.events[0];
    const last = st.events[st.events.length - 1];
    const lastIngestion = st.events.reduce((m, e) => Math.max(m, e.ingestionTime), 0);
    return {
      logStreamName: st.name,
      creationTime: st.createdAt,
      ...(first ? { firstEventTimestamp: first.timestamp } : {}),
      ...(last ? { lastEventTimestamp: last.timestamp, lastIngestionTime: lastIngestion } : {}),
      uploadSequenceToken: String(st.events.length + 1).padStart(56, '0'),
      arn: logStreamArn(region, accountId, group.name, st.name),
      storedBytes: 0,
    };
  };

  const operations: Record<string, JsonOperation> = {
    CreateLogGroup(input, ctx) {
      const name = requiredGroupName(input);
      const groups = groupsOf(ctx.identity.accountId, ctx.region);
      if (groups[name])
        throw new AwsError('ResourceAlreadyExistsException', 'The specified log group already exists');
      const group = newGroup(name, clock.now());
      const kmsKeyId = str(input, 'kmsKeyId');
      if (kmsKeyId) group.kmsKeyId = kmsKeyId;
      const tags = input.tags;
      if (tags && typeof tags === 'object')
        for (const [k, v] of Object.entries(tags as Record<string, unknown>)) group.tags[k] = String(v);
      groups[name] = group;
      save();
      return {};
    },
    DeleteLogGroup(input, ctx) {
      const name = requiredGroupName(input);
      const groups = groupsOf(ctx.identity.accountId, ctx.region);
      if (!groups[name]) throw groupNotFound();
      delete groups[name];
      save();
      return {};
    },
    PutRetentionPolicy(input, ctx) {
      const name = requiredGroupName(input);
      const days = num(input, 'retentionInDays');
      if (days === undefined || !RETENTION_DAYS.has(days))
        throw invalid(
          `1 validation error detected: Value '${String(days)}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [${[...RETENTION_DAYS].join(', ')}]`,
        );
      const group = groupsOf(ctx.identity.accountId, ctx.region)[name];
      if (!group) throw groupNotFound();
      group.retentionInDays = days;
      save();
      return {};
    },
    DescribeLogGroups(input, ctx) {
      const prefix = str(input, 'logGroupNamePrefix');
      const pattern = str(input, 'logGroupNamePattern');
      if (prefix !== undefined && pattern !== undefined)
        throw invalid('LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.');
      const limit = limitOf(input, 50);
      const offset = offsetOf(str(input, 'nextToken'));
      const { accountId } = ctx.identity;
      const all = Object.values(groupsOf(accountId, ctx.region))
        .filter(
          (g) =>
            (prefix === undefined || g.name.startsWith(prefix)) &&
            (pattern === undefined || g.name.includes(pattern)),
        )
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const page = all.slice(offset, offset + limit);
      return {
        logGroups: page.map((g) => ({
          logGroupName: g.name,
          creationTime: g.createdAt,
          ...(g.retentionInDays !== undefined ? { retentionInDays: g.retentionInDays } : {}),
          metricFilterCount: 0,
          arn: `${logGroupArn(ctx.region, accountId, g.name)}:*`,
          storedBytes: Object.values(g.streams).reduce((n, st) => n + st.storedBytes, 0),
          ...(g.kmsKeyId ? { kmsKeyId: g.kmsKeyId } : {}),
          logGroupClass: 'STANDARD',
          logGroupArn: logGroupArn(ctx.region, accountId, g.name),
        })),
        ...(offset + limit < all.length ? { nextToken: offsetToken(offset + limit) } : {}),
      };
    },
    CreateLogStream(input, ctx) {
      const groupName = requiredGroupName(input);
      const name = requiredStreamName(input);
      const group = groupsOf(ctx.identity.accountId, ctx.region)[groupName];
      if (!group) throw groupNotFound();
      if (group.streams[name])
        throw new AwsError('ResourceAlreadyExistsException', 'The specified log stream already exists');
      group.streams[name] = newStream(name, clock.now());
      save();
      return {};
    },
    DescribeLogStreams(input, ctx) {
      const groupName = groupNameOf(input);
      const prefix = str(input, 'logStreamNamePrefix');
      const orderBy = str(input, 'orderBy') ?? 'LogStreamName';
      if (orderBy !== 'LogStreamName' && orderBy !== 'LastEventTime')
        throw invalid(
          `1 validation error detected: Value '${orderBy}' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value set: [LogStreamName, LastEventTime]`,
        );
      if (prefix !== undefined && orderBy === 'LastEventTime')
        throw invalid('Cannot order by LastEventTime with a logStreamNamePrefix.');
      const descending = input.descending === true;
      const limit = limitOf(input, 50);
      const offset = offsetOf(str(input, 'nextToken'));
      const { accountId } = ctx.identity;
      const group = groupsOf(accountId, ctx.region)[groupName];
      if (!group) throw groupNotFound();
      const key = (st: LogStream) =>
        orderBy === 'LastEventTime' ? (st.events[st.events.length - 1]?.timestamp ?? 0) : 0;
      const all = Object.values(group.streams)
        .filter((st) => prefix === undefined || st.name.startsWith(prefix))
        .sort((a, b) => key(a) - key(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      if (descending) all.reverse();
      const page = all.slice(offset, offset + limit);
      return {
        logStreams: page.map((st) => streamSummary(group, st, ctx.region, accountId)),
        ...(offset + limit < all.length ? { nextToken: offsetToken(offset + limit) } : {}),
      };
    },
    PutLogEvents(input, ctx) {
      const groupName = requiredGroupName(input);
      const name = requiredStreamName(input);
      const raw = input.logEvents;
      if (!Array.isArray(raw) || raw.length === 0)
        throw invalid(
          "1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1",
        );
      if (raw.length > 10_000)
        throw invalid(
          `1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to 10000`,
        );
      const events = raw.map((e: unknown) => {
        const ev = (e ?? {}) as Record<string, unknown>;
        if (typeof ev.timestamp !== 'number' || typeof ev.message !== 'string' || ev.message.length === 0)
          throw invalid('Each log event needs a timestamp and a message of at least 1 character.');
        return { timestamp: ev.timestamp, message: ev.message };
      });
      for (let i = 1; i < events.length; i++)
        if (events[i]!.timestamp < events[i - 1]!.timestamp)
          throw invalid('Log events in a single PutLogEvents request must be in chronological order.');
      const group = groupsOf(ctx.identity.accountId, ctx.region)[groupName];
      if (!group) throw groupNotFound();
      const stream = group.streams[name];
      if (!stream) throw streamNotFound();
      const now = clock.now();
      // Events older than 14 days (or than the retention) or more than 2 hours ahead are rejected.
      const oldest = now - Math.min(14, group.retentionInDays ?? 14) * DAY_MS;
      const newest = now + 2 * 60 * 60 * 1000;
      let tooOldEndIndex: number | undefined;
      let tooNewStartIndex: number | undefined;
      const accepted = events.filter((e, i) => {
        if (e.timestamp < oldest) {
          tooOldEndIndex = i + 1;
          return false;
        }
        if (e.timestamp > newest) {
          tooNewStartIndex ??= i;
          return false;
        }
        return true;
      });
      ingest(stream, accepted, now);
      save();
      return {
        nextSequenceToken: String(stream.events.length + 1).padStart(56, '0'),
        ...(tooOldEndIndex !== undefined || tooNewStartIndex !== undefined
          ? {
              rejectedLogEventsInfo: {
                ...(tooNewStartIndex !== undefined ? { tooNewLogEventStartIndex: tooNewStartIndex } : {}),
                ...(tooOldEndIndex !== undefined ? { tooOldLogEventEndIndex: tooOldEndIndex } : {}),
              },
            }
          : {}),
      };
    },
    GetLogEvents(input, ctx) {
      const groupName = groupNameOf(input);
      const name = requiredStreamName(input);
      const startTime = num(input, 'startTime');
      const endTime = num(input, 'endTime');
      const limit = limitOf(input, MAX_GET_EVENTS);
      const token = str(input, 'nextToken');
      const group = groupsOf(ctx.identity.accountId, ctx.region)[groupName];
      if (!group) throw groupNotFound();
      const stream = group.streams[name];
      if (!stream) throw streamNotFound();
      const events = stream.events.filter(
        (e) =>
          (startTime === undefined || e.timestamp >= startTime) &&
          (endTime === undefined || e.timestamp < endTime),
      );
      const n = events.length;
      // [from, to): the window returned. A forward token reads on from its position, a backward
      // token reads back from it; without one, startFromHead picks the first or the last events.
      let from: number;
      let to: number;
      if (token !== undefined) {
        const m = /^([fb])\/(\d{1,56})$/.exec(token);
        if (!m) throw invalid('The specified nextToken is invalid.');
        const position = Math.min(Number(m[2]), n);
        if (m[1] === 'f') {
          from = position;
          to = Math.min(n, position + limit);
        } else {
          to = position;
          from = Math.max(0, position - limit);
        }
      } else if (input.startFromHead === true) {
        from = 0;
        to = Math.min(n, limit);
      } else {
        to = n;
        from = Math.max(0, n - limit);
      }
      return {
        events: events.slice(from, to).map((e) => ({ ...e })),
        nextForwardToken: eventToken('f', to),
        nextBackwardToken: eventToken('b', from),
      };
    },
    FilterLogEvents(input, ctx) {
      const groupName = groupNameOf(input);
      const names = input.logStreamNames;
      const prefix = str(input, 'logStreamNamePrefix');
      if (names !== undefined && prefix !== undefined)
        throw invalid('logStreamNames and logStreamNamePrefix are mutually exclusive parameters.');
      if (names !== undefined && (!Array.isArray(names) || names.some((x) => typeof x !== 'string')))
        throw new AwsError('SerializationException', 'Unexpected value for logStreamNames');
      const startTime = num(input, 'startTime');
      const endTime = num(input, 'endTime');
      const pattern = str(input, 'filterPattern');
      const limit = limitOf(input, MAX_GET_EVENTS);
      const offset = offsetOf(str(input, 'nextToken'));
      const group = groupsOf(ctx.identity.accountId, ctx.region)[groupName];
      if (!group) throw groupNotFound();
      const streams = Object.values(group.streams).filter(
        (st) =>
          (names === undefined || (names as string[]).includes(st.name)) &&
          (prefix === undefined || st.name.startsWith(prefix)),
      );
      const matched = streams
        .flatMap((st) => st.events.map((e, i) => ({ stream: st.name, index: i, event: e })))
        .filter(
          ({ event: e }) =>
            (startTime === undefined || e.timestamp >= startTime) &&
            (endTime === undefined || e.timestamp <= endTime) &&
            matchesFilter(pattern, e.message),
        )
        .sort(
          (a, b) =>
            a.event.timestamp - b.event.timestamp ||
            (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : a.index - b.index),
        );
      const page = matched.slice(offset, offset + limit);
      return {
        events: page.map(({ stream, index, event }) => ({
          logStreamName: stream,
          timestamp: event.timestamp,
          message: event.message,
          ingestionTime: event.ingestionTime,
          eventId: `${String(event.timestamp).padStart(20, '0')}${String(Math.abs(hash(stream)) % 1e9).padStart(9, '0')}${String(index).padStart(27, '0')}`,
        })),
        searchedLogStreams: streams.map((st) => ({ logStreamName: st.name, searchedCompletely: true })),
        ...(offset + limit < matched.length ? { nextToken: offsetToken(offset + limit) } : {}),
      };
    },
  };

  const service: JsonService = {
    protocol: 'json1.1',
    signingName: 'logs',
    targetPrefix: LOGS_TARGET_PREFIX,
    operations,
    authorization: logsAuthorization,
  };

  const admin: LogsAdmin = {
    hasGroup: ({ accountId, region, group }) => groupsOf(accountId, region)[group] !== undefined,
    createGroup({ accountId, region, group }) {
      const groups = groupsOf(accountId, region);
      groups[group] ??= newGroup(group, clock.now());
      save();
    },
    createStream({ accountId, region, group, stream }) {
      const g = groupsOf(accountId, region)[group];
      if (!g) return false;
      g.streams[stream] ??= newStream(stream, clock.now());
      save();
      return true;
    },
    append({ accountId, region, group, stream }, events) {
      const groups = groupsOf(accountId, region);
      const g = (groups[group] ??= newGroup(group, clock.now()));
      const st = (g.streams[stream] ??= newStream(stream, clock.now()));
      ingest(st, events, clock.now());
      save();
    },
    events: ({ accountId, region, group, stream }) =>
      structuredClone(groupsOf(accountId, region)[group]?.streams[stream]?.events ?? []),
    snapshot: () => structuredClone(s),
  };

  return { services: [service], routes: [], admin };
};

function hash(s: string): number {
  let h = 0;
  for (const ch of s) h = (h * 31 + ch.charCodeAt(0)) | 0;
  return h;
}
