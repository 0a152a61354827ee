// ECS fidelity, judged by clients no one here wrote: the AWS SDK v3 waiters, the AWS CLI v2's
// `aws ecs wait services-stable`, and moto_server answering the same call sequence.
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  UpdateServiceCommand,
  waitUntilServicesStable,
  waitUntilTasksStopped,
} from '@aws-sdk/client-ecs';
import { jest } from '@jest/globals';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { defaultNetwork, startLocalAws, type LocalAws } from '../src/index.js';
import { requireTool } from '../../../test/helpers/tools.js';

jest.setTimeout(120_000);

/** A subnet of the default network local-aws gives every account and region (zone a). */
const SUBNET = defaultNetwork().subnetIds[0]!;

const NET = {
  awsvpcConfiguration: { subnets: [SUBNET], assignPublicIp: 'DISABLED' as const },
};
const TD = {
  family: 'fid',
  requiresCompatibilities: ['FARGATE' as const],
  networkMode: 'awsvpc' as const,
  cpu: '256',
  memory: '512',
  containerDefinitions: [{ name: 'app', image: 'public.ecr.aws/nginx/nginx:1.27', essential: true }],
};

function client(endpoint: string, credentials = { accessKeyId: 'test', secretAccessKey: 'test' }): ECSClient {
  return new ECSClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
}

function run(
  cmd: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}

describe('SDK v3 waiters on a scaled clock (60×)', () => {
  let aws: LocalAws;
  let ecs: ECSClient;
  beforeAll(async () => {
    aws = await startLocalAws({ timeScale: 60 });
    ecs = client(aws.endpoint, aws.credentials);
    await ecs.send(new CreateClusterCommand({ clusterName: 'w' }));
    await ecs.send(new RegisterTaskDefinitionCommand(TD));
  });
  afterAll(async () => {
    ecs?.destroy();
    await aws?.stop();
  });

  test('waitUntilServicesStable succeeds when the rollout settles, not before', async () => {
    const t0 = aws.clock.now();
    await ecs.send(
      new CreateServiceCommand({
        cluster: 'w',
        serviceName: 'web',
        taskDefinition: 'fid',
        desiredCount: 2,
        networkConfiguration: NET,
      }),
    );
    const result = await waitUntilServicesStable(
      { client: ecs, minDelay: 1, maxDelay: 1, maxWaitTime: 60 },
      { cluster: 'w', services: ['web'] },
    );
    expect(result.state).toBe('SUCCESS');
    const svc = (await ecs.send(new DescribeServicesCommand({ cluster: 'w', services: ['web'] })))
      .services![0]!;
    expect(svc.runningCount).toBe(2);
    // Tasks need 30 simulated seconds to reach RUNNING: the waiter cannot have been satisfied sooner.
    expect(aws.clock.now() - t0).toBeGreaterThanOrEqual(30_000);
    expect(aws.opLog.entries({ service: 'ecs', operation: 'DescribeServices' }).length).toBeGreaterThan(1);
  });

  test('waitUntilServicesStable fails on a deleted (DRAINING/INACTIVE) service, as ECS reports it', async () => {
    await ecs.send(
      new CreateServiceCommand({
        cluster: 'w',
        serviceName: 'gone',
        taskDefinition: 'fid',
        desiredCount: 0,
        networkConfiguration: NET,
      }),
    );
    await ecs.send(new DeleteServiceCommand({ cluster: 'w', service: 'gone' }));
    await expect(
      waitUntilServicesStable(
        { client: ecs, minDelay: 1, maxDelay: 1, maxWaitTime: 10 },
        { cluster: 'w', services: ['gone'] },
      ),
    ).rejects.toThrow(/FAILURE/);
  });

  test('waitUntilServicesStable times out while a breaker-less pull-failure loop keeps two deployments', async () => {
    // A service task's command never scripts it: an image that cannot be pulled fails its tasks.
    aws.admin.ecs.setUnpullable('public.ecr.aws/x/y:');
    const crash = await ecs.send(
      new RegisterTaskDefinitionCommand({
        ...TD,
        family: 'crashy',
        containerDefinitions: [{ name: 'app', image: 'public.ecr.aws/x/y:1', essential: true }],
      }),
    );
    await ecs.send(
      new UpdateServiceCommand({
        cluster: 'w',
        service: 'web',
        taskDefinition: crash.taskDefinition!.taskDefinitionArn!,
      }),
    );
    await expect(
      waitUntilServicesStable(
        { client: ecs, minDelay: 1, maxDelay: 1, maxWaitTime: 4 },
        { cluster: 'w', services: ['web'] },
      ),
    ).rejects.toThrow(/TIMEOUT/);
    const svc = (await ecs.send(new DescribeServicesCommand({ cluster: 'w', services: ['web'] })))
      .services![0]!;
    expect(svc.deployments!.length).toBe(2);
    expect(svc.deployments![0]!.failedTasks).toBeGreaterThan(0);
  });

  test('waitUntilTasksStopped returns once the one-off task stopped, with its exit code', async () => {
    const td = await ecs.send(
      new RegisterTaskDefinitionCommand({
        ...TD,
        family: 'job',
        containerDefinitions: [
          {
            name: 'app',
            image: 'public.ecr.aws/x/job:1',
            essential: true,
            command: ['sh', '-c', 'sleep 20; exit 3'],
          },
        ],
      }),
    );
    const t = (
      await ecs.send(
        new RunTaskCommand({
          cluster: 'w',
          taskDefinition: td.taskDefinition!.taskDefinitionArn!,
          networkConfiguration: NET,
        }),
      )
    ).tasks![0]!;
    const t0 = aws.clock.now();
    const result = await waitUntilTasksStopped(
      { client: ecs, minDelay: 1, maxDelay: 1, maxWaitTime: 60 },
      { cluster: 'w', tasks: [t.taskArn!] },
    );
    expect(result.state).toBe('SUCCESS');
    const stopped = (
      result.reason as { tasks: Array<{ lastStatus: string; containers: Array<{ exitCode: number }> }> }
    ).tasks[0]!;
    expect(stopped.lastStatus).toBe('STOPPED');
    expect(stopped.containers[0]!.exitCode).toBe(3);
    // 30 s to start, 20 s running, ~17 s to stop: the waiter saw it no earlier than that.
    expect(aws.clock.now() - t0).toBeGreaterThanOrEqual(60_000);
  });
});

const withCli = requireTool('AWS CLI v2', '/usr/bin/aws');
const CLI_ENV = {
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_REGION: 'us-east-1',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_PAGER: '',
};

describe('AWS CLI v2', () => {
  let aws: LocalAws;
  let ecs: ECSClient;
  beforeAll(async () => {
    // 10×: a deployment (about 60 simulated s) takes about 6 s, within the CLI's first 15 s poll.
    aws = await startLocalAws({ timeScale: 10 });
    ecs = client(aws.endpoint, aws.credentials);
    await ecs.send(new CreateClusterCommand({ clusterName: 'cli' }));
    await ecs.send(new RegisterTaskDefinitionCommand(TD));
  });
  afterAll(async () => {
    ecs?.destroy();
    await aws?.stop();
  });

  withCli('aws ecs wait services-stable: not stable at the first poll, stable at the second', async () => {
    await ecs.send(
      new CreateServiceCommand({
        cluster: 'cli',
        serviceName: 'web',
        taskDefinition: 'fid',
        desiredCount: 1,
        networkConfiguration: NET,
      }),
    );
    const r = await run(
      '/usr/bin/aws',
      [
        '--endpoint-url',
        aws.endpoint,
        'ecs',
        'wait',
        'services-stable',
        '--cluster',
        'cli',
        '--services',
        'web',
      ],
      CLI_ENV,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const polls = aws.opLog.entries({ service: 'ecs', operation: 'DescribeServices' });
    expect(polls).toHaveLength(2);
    expect(r.ms).toBeGreaterThanOrEqual(14_000);
    const svc = (await ecs.send(new DescribeServicesCommand({ cluster: 'cli', services: ['web'] })))
      .services![0]!;
    expect(svc.deployments![0]!.rolloutState).toBe('COMPLETED');
  });

  withCli(
    'aws ecs wait services-stable fails at once for a deleted service; describe-task-definition reads ours',
    async () => {
      await ecs.send(
        new CreateServiceCommand({
          cluster: 'cli',
          serviceName: 'gone',
          taskDefinition: 'fid',
          desiredCount: 0,
          networkConfiguration: NET,
        }),
      );
      await ecs.send(new DeleteServiceCommand({ cluster: 'cli', service: 'gone' }));
      const r = await run(
        '/usr/bin/aws',
        [
          '--endpoint-url',
          aws.endpoint,
          'ecs',
          'wait',
          'services-stable',
          '--cluster',
          'cli',
          '--services',
          'gone',
        ],
        CLI_ENV,
      );
      expect(r.code).toBe(255);
      expect(r.stderr).toMatch(/Waiter ServicesStable failed: Waiter encountered a terminal failure state/);
      const d = await run(
        '/usr/bin/aws',
        [
          '--endpoint-url',
          aws.endpoint,
          'ecs',
          'describe-task-definition',
          '--task-definition',
          'fid',
          '--include',
          'TAGS',
        ],
        CLI_ENV,
      );
      expect(d.code).toBe(0);
      const parsed = JSON.parse(d.stdout) as {
        taskDefinition: { family: string; revision: number };
        tags: unknown[];
      };
      expect(parsed.taskDefinition).toMatchObject({ family: 'fid', revision: 1 });
      expect(parsed.tags).toEqual([]);
    },
  );
});

// ---------------------------------------------------------------------------------------------
// moto

const withMoto = requireTool('moto_server', 'moto_server');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** Every member path with its JSON type: "service.deployments[].runningCount: number". */
function shape(value: unknown, path = '', out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const v of value) shape(v, `${path}[]`, out);
    if (value.length === 0) out.add(`${path}: array`);
  } else if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    for (const [k, v] of Object.entries(value))
      if (k !== '$metadata') shape(v, path ? `${path}.${k}` : k, out);
  } else {
    out.add(`${path}: ${value instanceof Date ? 'timestamp' : value === null ? 'null' : typeof value}`);
  }
  return out;
}

/** moto checks subnets against its EC2: make one there with the EC2 Query API (unsigned is fine for moto). */
async function motoNetwork(motoUrl: string): Promise<{ subnet: string; sg: string }> {
  const ec2 = async (params: Record<string, string>) => {
    const r = await fetch(motoUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization:
          'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: new URLSearchParams({ Version: '2016-11-15', ...params }).toString(),
    });
    return r.text();
  };
  const vpc = /<vpcId>([^<]+)<\/vpcId>/.exec(
    await ec2({ Action: 'CreateVpc', CidrBlock: '10.0.0.0/16' }),
  )![1]!;
  const xml = await ec2({ Action: 'CreateSubnet', VpcId: vpc, CidrBlock: '10.0.1.0/24' });
  const sgXml = await ec2({
    Action: 'CreateSecurityGroup',
    GroupName: 'web',
    GroupDescription: 'web',
    VpcId: vpc,
  });
  return {
    subnet: /<subnetId>([^<]+)<\/subnetId>/.exec(xml)![1]!,
    sg: /<groupId>([^<]+)<\/groupId>/.exec(sgXml)![1]!,
  };
}

async function sequence(
  ecs: ECSClient,
  net: { subnet: string; sg: string },
): Promise<Record<string, unknown>> {
  const NET = {
    awsvpcConfiguration: {
      subnets: [net.subnet],
      securityGroups: [net.sg],
      assignPublicIp: 'DISABLED' as const,
    },
  };
  const cluster = await ecs.send(new CreateClusterCommand({ clusterName: 'm' }));
  const td = await ecs.send(new RegisterTaskDefinitionCommand(TD));
  const described = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'fid' }));
  const svc = await ecs.send(
    new CreateServiceCommand({
      cluster: 'm',
      serviceName: 'web',
      taskDefinition: 'fid',
      desiredCount: 1,
      networkConfiguration: NET,
      launchType: 'FARGATE',
    }),
  );
  const services = await ecs.send(new DescribeServicesCommand({ cluster: 'm', services: ['web'] }));
  return { cluster, td, described, svc, services };
}

/** Members local-aws returns that moto does not: deliberately richer, as ECS answers (README). */
const SERVICE_RICHER = [
  'availabilityZoneRebalancing: string',
  'createdAt: timestamp',
  'createdBy: string',
  'deploymentConfiguration.deploymentCircuitBreaker.enable: boolean',
  'deploymentConfiguration.deploymentCircuitBreaker.rollback: boolean',
  'deploymentConfiguration.maximumPercent: number',
  'deploymentConfiguration.minimumHealthyPercent: number',
  'deployments[].platformVersion: string',
  'enableECSManagedTags: boolean',
  'enableExecuteCommand: boolean',
  'placementConstraints: array',
  'placementStrategy: array',
  'platformFamily: string',
  'platformVersion: string',
];
const RICHER_THAN_MOTO = [
  ...[
    'cluster.cluster.capacityProviders: array',
    'cluster.cluster.defaultCapacityProviderStrategy: array',
    'cluster.cluster.statistics: array',
    'cluster.cluster.tags: array',
  ],
  ...[
    'described.taskDefinition.registeredAt: timestamp',
    'described.taskDefinition.registeredBy: string',
    'described.taskDefinition.requiresAttributes[].name: string',
  ],
  ...SERVICE_RICHER.map((m) => `services.services[].${m}`),
  ...SERVICE_RICHER.map((m) => `svc.service.${m}`),
  ...[
    'td.taskDefinition.registeredAt: timestamp',
    'td.taskDefinition.registeredBy: string',
    'td.taskDefinition.requiresAttributes[].name: string',
  ],
].sort();
/** Members moto returns that local-aws does not: `taskSets` (only services with an EXTERNAL or CODE_DEPLOY controller have task sets). */
const MOTO_ONLY = ['services.services[].taskSets: array', 'svc.service.taskSets: array'];

withMoto('the same calls against moto_server and local-aws return the same members and types', async () => {
  const port = await freePort();
  const moto = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: 'ignore',
    detached: true, // the pyenv shim starts python as a child: stop the whole group we started
  });
  try {
    const motoUrl = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      try {
        await fetch(motoUrl);
        break;
      } catch (e) {
        if (i > 100) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const aws = await startLocalAws({ steppedClock: true });
    const a = client(motoUrl);
    const b = client(aws.endpoint, aws.credentials);
    try {
      const net = await motoNetwork(motoUrl);
      const fromMoto = await sequence(a, net);
      // Each answers on its own network: moto's VPC made above, local-aws's default one.
      const fromLocal = await sequence(b, { subnet: SUBNET, sg: defaultNetwork().securityGroupId });
      const m = shape(fromMoto);
      const l = shape(fromLocal);
      const missing = [...m].filter((p) => !l.has(p)).sort();
      const richer = [...l].filter((p) => !m.has(p)).sort();
      expect(missing).toEqual(MOTO_ONLY);
      expect(richer).toEqual(RICHER_THAN_MOTO);
    } finally {
      a.destroy();
      b.destroy();
      await aws.stop();
    }
  } finally {
    if (moto.pid !== undefined) process.kill(-moto.pid, 'SIGTERM');
  }
});
