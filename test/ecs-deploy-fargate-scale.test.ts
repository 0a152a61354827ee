// Ten deploys at once in one account, with local-aws applying AWS's API rate limits (`throttle:
// 'aws'`): another tool has just spent the account's RegisterTaskDefinition bucket (20, refilled
// at 1 a second), so the deploys are throttled as they would be on AWS. Each must wait it out and
// succeed, say nothing of throttling as a failure, stay within its call budget (≤ 18 ECS calls
// for a one-task deploy, issue 16), and its summary must say what it spent: the ten summaries add
// up to exactly what local-aws's op log saw, throttled calls included.
import { ECSClient, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { jest } from '@jest/globals';
import {
  NGINX,
  SECURITY_GROUP,
  SUBNET,
  startEcsWorld,
  taskDefinition,
  type EcsWorld,
} from './helpers/ecs-deploy.js';

jest.setTimeout(180_000);

const CLUSTER = 'train';
const SERVICES = Array.from({ length: 10 }, (_, i) => `svc-${i}`);
/** The one-task deploy's budget: twice the anchor-like deploy's 9 calls. */
const ECS_BUDGET = 18;

let w: EcsWorld;

beforeAll(async () => {
  w = await startEcsWorld(20, {
    throttle: 'aws',
    credentials: [{ accessKeyId: 'test', secretAccessKey: 'test' }, NEIGHBOUR],
  });
  await w.createCluster(CLUSTER);
  // Created by the action itself, all at once: each service starts settled on revision 1.
  const created = await Promise.all(
    SERVICES.map((service) =>
      w.deploy(
        {
          cluster: CLUSTER,
          service,
          'task-definition': w.file(
            `${service}.json`,
            taskDefinition(service, [{ name: 'app', image: `${NGINX}.26` }]),
          ),
          'create-service': 'true',
          subnets: SUBNET,
          'security-groups': SECURITY_GROUP,
          'desired-count': '1',
          'poll-interval': '250ms',
        },
        120_000,
      ),
    ),
  );
  expect(created.map((run) => run.errors)).toEqual(SERVICES.map(() => []));
});
afterAll(async () => {
  await w?.stop();
});

const NEIGHBOUR = { accessKeyId: 'AKIANEIGHBOUR0000001', secretAccessKey: 'neighbour-secret' };

/** The deploys' calls (every call but the neighbour's) since the op log held `from` entries. */
function ours(from: number) {
  return w.aws.opLog
    .entries()
    .slice(from)
    .filter((e) => e.accessKeyId !== NEIGHBOUR.accessKeyId);
}

/**
 * A busy neighbour in the same account (its own key, the account's buckets): it registers task
 * definitions as fast as the bucket lets it until the deploys have asked as many times as there
 * are deploys — most of those asks find the bucket dry.
 */
async function keepRegisterBucketDry(deploys: number, from: number): Promise<number> {
  const ecs = new ECSClient({
    endpoint: w.aws.endpoint,
    region: w.aws.region,
    credentials: NEIGHBOUR,
    maxAttempts: 1,
  });
  const document = JSON.parse(taskDefinition('neighbour', [{ name: 'app', image: NGINX }]));
  const deploysAsked = () => ours(from).filter((e) => e.operation === 'RegisterTaskDefinition').length;
  let registered = 0;
  try {
    for (let i = 0; i < 20_000 && deploysAsked() < deploys; i++) {
      const ok = await ecs.send(new RegisterTaskDefinitionCommand(document)).then(
        () => true,
        () => false,
      );
      if (ok) registered++;
      else await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return registered;
  } finally {
    ecs.destroy();
  }
}

/** `API calls | 15 (ECS 14, STS 1); 2 throttled` from a job summary. */
function callsOf(summary: string): { ecs: number; all: number; throttled: number } {
  const row = /<th>API calls<\/th><td>(\d+) \(([^)]*)\); (none|\d+) throttled/.exec(summary);
  if (!row) throw new Error(`no API calls row in the summary:\n${summary}`);
  const ecs = /\bECS (\d+)/.exec(row[2] ?? '');
  return {
    all: Number(row[1]),
    ecs: Number(ecs?.[1] ?? 0),
    throttled: row[3] === 'none' ? 0 : Number(row[3]),
  };
}

test("ten one-task deploys at once, throttled by the account's limits: all succeed, each within its budget, and the summaries add up to what AWS saw", async () => {
  const from = w.aws.opLog.entries().length;
  const neighbour = keepRegisterBucketDry(SERVICES.length, from);
  const runs = await Promise.all(
    SERVICES.map((service) =>
      w.deploy({ cluster: CLUSTER, service, image: `${NGINX}.27`, 'poll-interval': '250ms' }, 120_000),
    ),
  );
  expect(await neighbour).toBeGreaterThan(0);
  const seen = ours(from);

  for (const [i, run] of runs.entries()) {
    const service = SERVICES[i];
    const warnings = run.stdout.split('\n').filter((line) => line.startsWith('::warning'));
    expect({ service, exitCode: run.exitCode, errors: run.errors, warnings }).toEqual({
      service,
      exitCode: 0,
      errors: [],
      warnings: [],
    });
    expect(run.outputs['rollout-state']).toBe('COMPLETED');
    const calls = callsOf(run.summary);
    // The budget counts the calls AWS answered; a throttled one sent again is on the account's bill.
    expect(calls.ecs - calls.throttled).toBeLessThanOrEqual(ECS_BUDGET);
    expect(run.stdout).toContain(`API calls: ${calls.all} (`);
  }
  // AWS throttled some of them (the neighbour spent the bucket), and every one was waited out.
  const throttled = seen.filter((e) => e.throttled);
  expect(throttled.length).toBeGreaterThan(0);
  expect(new Set(throttled.map((e) => `${e.service}:${e.operation}`))).toContain(
    'ecs:RegisterTaskDefinition',
  );
  // What the summaries say is what local-aws answered: every request, every throttled one.
  const summed = runs
    .map((r) => callsOf(r.summary))
    .reduce((a, b) => ({ ecs: a.ecs + b.ecs, all: a.all + b.all, throttled: a.throttled + b.throttled }), {
      ecs: 0,
      all: 0,
      throttled: 0,
    });
  expect(summed).toEqual({
    ecs: seen.filter((e) => e.service === 'ecs').length,
    all: seen.length,
    throttled: throttled.length,
  });
  // Every service runs its new revision.
  for (const service of SERVICES) {
    const now = await w.service(CLUSTER, service);
    expect(now.deployments).toHaveLength(1);
    expect(now.taskDefinition).toMatch(new RegExp(`:task-definition/${service}:2$`));
  }
});
