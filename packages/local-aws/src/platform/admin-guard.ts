// Who may use the admin endpoints (/_local-aws/*), which need no signature and can read the state
// (the secret that signs registry tokens included), arm faults and move the clock. The server
// listens on loopback only, but a browser can still reach it: a page on evil.example can make
// cross-site POSTs to 127.0.0.1, and DNS rebinding points evil.example at 127.0.0.1 so that even
// its reads are same-origin. So an admin request must name the server by a loopback name and the
// port it came in on (Host), and carry no Origin but the server's own (a browser always sends
// Origin on a cross-site POST; rebinding gives it away in Host).
import type { IncomingMessage } from 'node:http';

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

/** host:port spellings that name this listener. */
function loopbackHosts(port: number): string[] {
  return LOOPBACK_NAMES.map((name) => `${name}:${port}`);
}

/** Why an admin request is refused, or undefined when it may proceed. */
export function adminRefusal(req: IncomingMessage): string | undefined {
  const port = req.socket.localPort;
  if (port === undefined) return 'the request came in on no known port';
  const hosts = loopbackHosts(port);
  const host = (req.headers.host ?? '').toLowerCase();
  if (!hosts.includes(host)) {
    return `Host ${JSON.stringify(req.headers.host ?? '')} is not this server (${hosts.join(', ')})`;
  }
  const origin = req.headers.origin;
  if (origin !== undefined) {
    const own = hosts.flatMap((h) => [`http://${h}`, `https://${h}`]);
    if (!own.includes(origin.toLowerCase())) return `Origin ${JSON.stringify(origin)} is not this server`;
  }
  // Browsers say where a request comes from even when they send no Origin (a GET from a page).
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return `Sec-Fetch-Site ${site}: the request comes from another site`;
  }
  return undefined;
}
