// WATCH: a chunked stream of newline-delimited JSON events {"type","object"}. From a
// resourceVersion: the stored changes after it (410 Gone as an ERROR event when they are no longer
// kept), then live ones. Without one (or "0"): ADDED for every current object first, as the
// apiserver does. Selectors filter; an object that stops or starts matching a label selector is
// DELETED or ADDED for this watch. timeoutSeconds is the client's wall time, not the cluster clock.
import { StatusError, gone } from '../errors.js';
import { groupVersionOf, storeKeyOf } from '../resources.js';
import type { Change, KObject } from '../store.js';
import { viewed, wantsTable, type ApiRequest } from './http.js';
import { selection } from './objects.js';
import { toTable } from './tables.js';

/** How often a watch that allows them gets a BOOKMARK (real ms); the apiserver's is about a minute. */
const BOOKMARK_INTERVAL_MS = 10_000;
/** A watch without timeoutSeconds ends after this long, as the apiserver's min-request-timeout. */
const DEFAULT_TIMEOUT_S = 1800;

export function watch(r: ApiRequest, onEnd: (status: number) => void): void {
  const matches = selection(r);
  const resource = storeKeyOf(r.type);
  const name = r.name;
  const table = wantsTable(r.req);
  // sendInitialEvents (client-go's watch-list): the current objects first, whatever the version.
  const initialEvents = r.query.get('sendInitialEvents') === 'true';
  const rv = initialEvents ? undefined : (r.query.get('resourceVersion') ?? undefined);
  const selected = (o: KObject) => matches(o) && (name === undefined || o.metadata.name === name);
  const key = (o: KObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

  let replay: Change[] = [];
  let error: StatusError | undefined;
  try {
    replay = r.store.changesSince(rv);
  } catch (err) {
    if (err instanceof StatusError) error = err;
    else throw err;
  }

  const res = r.res;
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Transfer-Encoding', 'chunked');
  res.flushHeaders();

  const write = (type: string, object: unknown) => {
    if (!res.writableEnded) res.write(JSON.stringify({ type, object: viewed(res, object) }) + '\n');
  };
  const send = (type: string, object: KObject) =>
    write(
      type,
      table
        ? toTable(
            r.type.kind,
            [object],
            r.host.clock.now(),
            { resourceVersion: object.metadata.resourceVersion },
            'Metadata',
          )
        : object,
    );

  if (error) {
    write('ERROR', gone(rv ?? '').body());
    res.end();
    onEnd(200);
    return;
  }

  // Which objects this watch has shown as present (for label-selector entry and exit).
  const present = new Set<string>();
  let last = rv && rv !== '0' ? Number(rv) : 0;
  const current = r.store.list(r.type, r.namespace);
  if (!rv || rv === '0') {
    for (const o of current)
      if (selected(o)) {
        present.add(key(o));
        send('ADDED', o);
      }
    last = Number(r.store.resourceVersion());
  } else {
    // What matched at the start: the objects that exist and match and are not re-added by the replay.
    const replayed = new Set(replay.map((c) => key(c.object)));
    for (const o of current) if (selected(o) && !replayed.has(key(o))) present.add(key(o));
  }

  const deliver = (change: Change) => {
    if (change.resource !== resource || change.resourceVersion <= last) return;
    last = change.resourceVersion;
    const o = change.object;
    if (r.type.namespaced && r.namespace !== undefined && o.metadata.namespace !== r.namespace) return;
    if (name !== undefined && o.metadata.name !== name) return;
    const now = selected(o);
    const was = present.has(key(o));
    if (change.type === 'DELETED') {
      present.delete(key(o));
      if (now || was) send('DELETED', o);
    } else if (now) {
      present.add(key(o));
      send(change.type === 'ADDED' || !was ? 'ADDED' : 'MODIFIED', o);
    } else if (was) {
      present.delete(key(o));
      send('DELETED', o);
    }
  };
  const unsubscribe = r.store.subscribe(deliver);
  for (const change of replay) deliver(change);

  if (initialEvents && r.query.get('allowWatchBookmarks') === 'true')
    write('BOOKMARK', bookmark(r, { 'k8s.io/initial-events-end': 'true' }));

  const bookmarks =
    r.query.get('allowWatchBookmarks') === 'true'
      ? setInterval(() => write('BOOKMARK', bookmark(r)), BOOKMARK_INTERVAL_MS)
      : undefined;
  const timeoutSeconds = Number(r.query.get('timeoutSeconds') ?? DEFAULT_TIMEOUT_S);
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    unsubscribe();
    clearTimeout(timer);
    if (bookmarks) clearInterval(bookmarks);
    if (!res.writableEnded) res.end();
    onEnd(200);
  };
  // The connection keeps the process alive while it is open; these timers must not on their own.
  const timer = setTimeout(end, Math.max(0, timeoutSeconds) * 1000);
  timer.unref();
  bookmarks?.unref();
  r.req.on('close', end);
  res.on('close', end);
}

function bookmark(r: ApiRequest, annotations?: Record<string, string>): unknown {
  return {
    kind: r.type.kind,
    apiVersion: groupVersionOf(r.type),
    metadata: { resourceVersion: r.store.resourceVersion(), ...(annotations ? { annotations } : {}) },
  };
}
