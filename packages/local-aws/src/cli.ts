// npx local-aws --port 4566 (bin/local-aws.mjs), npm run local-aws -- --port 4566
// Starts local-aws, prints one line when ready (the endpoint, the HTTPS URL, the registry host and
// the CA file), and shuts down cleanly (exit 0) on SIGINT or SIGTERM, or when the npm that
// started it is stopped (platform/npm-lifeline.ts).
import { parseArgs } from 'node:util';
import {
  DEFAULT_ACCOUNT_ID,
  DEFAULT_CREDENTIALS,
  DEFAULT_REGION,
  startLocalAws,
  THROTTLE_MODES,
  type ThrottleMode,
} from './index.js';
import { stopWhenNpmStops } from './platform/npm-lifeline.js';

const USAGE = `usage: local-aws [options]
  --port N            HTTP port on 127.0.0.1 (default 4566; 0 = ephemeral)
  --https-port N      HTTPS port on 127.0.0.1 (default: --port + 1, or ephemeral with --port 0)
  --account-id ID     account id (default ${DEFAULT_ACCOUNT_ID})
  --region R          default region (default ${DEFAULT_REGION})
  --access-key K      accepted access key id (default ${DEFAULT_CREDENTIALS.accessKeyId})
  --secret-key S      its secret (default ${DEFAULT_CREDENTIALS.secretAccessKey})
  --session-token T   require this session token with that key
  --data-dir DIR      persist state and blobs in DIR (default: memory only)
  --ca-dir DIR        keep/reuse the CA certificate in DIR, its key in DIR-private
                      (default: DIR/ca with --data-dir, else a temp dir)
  --time-scale X      simulated time runs X times faster (default 1)
  --stepped-clock     simulated time stands still until POST /_local-aws/clock/advance
  --throttle MODE     off (default) or aws: AWS's per-account, per-region API rate limits
                      (token buckets on the simulated clock); a call over them is refused
  -h, --help`;

function fail(message: string): never {
  console.error(`local-aws: ${message}\n${USAGE}`);
  process.exit(2);
}

function int(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) fail(`--${name} must be a port number, got ${value}`);
  return n;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string' },
        'https-port': { type: 'string' },
        'account-id': { type: 'string' },
        region: { type: 'string' },
        'access-key': { type: 'string' },
        'secret-key': { type: 'string' },
        'session-token': { type: 'string' },
        'data-dir': { type: 'string' },
        'ca-dir': { type: 'string' },
        'time-scale': { type: 'string' },
        'stepped-clock': { type: 'boolean' },
        throttle: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    fail((error as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const timeScale = values['time-scale'] === undefined ? undefined : Number(values['time-scale']);
  if (timeScale !== undefined && !(timeScale > 0 && Number.isFinite(timeScale))) {
    fail(`--time-scale must be a positive number, got ${values['time-scale']}`);
  }
  const throttle = values.throttle;
  if (throttle !== undefined && !THROTTLE_MODES.includes(throttle as ThrottleMode)) {
    fail(`--throttle must be one of ${THROTTLE_MODES.join(', ')}, got ${throttle}`);
  }
  const port = int('port', values.port, 4566);
  const local = await startLocalAws({
    port,
    // A stable HTTPS port by default, so a trusted /etc/containers/certs.d/<host:port> stays valid.
    httpsPort: int('https-port', values['https-port'], port === 0 || port === 65535 ? 0 : port + 1),
    ...(values['account-id'] ? { accountId: values['account-id'] } : {}),
    ...(values.region ? { region: values.region } : {}),
    credentials: {
      accessKeyId: values['access-key'] ?? DEFAULT_CREDENTIALS.accessKeyId,
      secretAccessKey: values['secret-key'] ?? DEFAULT_CREDENTIALS.secretAccessKey,
      ...(values['session-token'] ? { sessionToken: values['session-token'] } : {}),
    },
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
    ...(values['ca-dir'] ? { caDir: values['ca-dir'] } : {}),
    ...(timeScale !== undefined ? { timeScale } : {}),
    ...(values['stepped-clock'] ? { steppedClock: true } : {}),
    ...(throttle !== undefined ? { throttle: throttle as ThrottleMode } : {}),
  });

  let stopping = false;
  const shutdown = (why: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`local-aws: ${why}, shutting down`);
    local.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`local-aws: shutdown failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  stopWhenNpmStops(shutdown);

  console.log(
    `local-aws ready: endpoint ${local.endpoint} https ${local.httpsUrl} ca ${local.caCertPath} ` +
      `account ${local.accountId} region ${local.region} registry ${local.registryHost} ` +
      `access-key ${local.credentials.accessKeyId}` +
      (local.state.dataDir ? ` data-dir ${local.state.dataDir}` : ''),
  );
}

main().catch((error: unknown) => {
  console.error(`local-aws: ${(error as Error)?.message ?? String(error)}`);
  process.exit(1);
});
