// The anchor check of issue 10: aws-actions/amazon-ecs-deploy-task-definition, the action users
// of ECS run today, deploys a service behind a load balancer on local-aws. Its action.yml and
// dist/ are exported from the repository's mirror (git archive; nothing of it is copied into this
// repository) and its entry is run as the runner runs it — `node <runs.main>` with INPUT_*
// variables and the runner's command files (test/helpers/action-runner.ts) — against local-aws on
// a scaled clock: a service created behind a target group, then the anchor registers a new
// revision and updates the service with `wait-for-service-stability: true`. Prints whether the
// step succeeded, its outputs, and what local-aws saw: the deployments, the service's events and
// the target group's health. Without the mirror (CI has none) it says so in one line.
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  type Service,
} from '@aws-sdk/client-ecs';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { defaultNetwork, startLocalAws } from '@aws-containers/local-aws';
import { localAwsEnv, runAction } from '../helpers/action-runner.js';

const ANCHOR = 'aws-actions/amazon-ecs-deploy-task-definition';
const MIRROR =
  process.env.ECS_DEPLOY_ANCHOR_MIRROR ?? '/work/.mirror/aws-actions+amazon-ecs-deploy-task-definition/repo';
/** Simulated time runs this many times faster: a rollout of about a simulated minute takes 3 s. */
const TIME_SCALE = 20;
const CLUSTER = 'anchors';
const SERVICE = 'web';
const FAMILY = 'anchor-web';
const CONTAINER_PORT = 8080;

/** Runs a command; resolves with its exit code (stdout piped to `into` when given). */
function run(cmd: string, args: string[], into?: NodeJS.WritableStream): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', into ? 'pipe' : 'ignore', 'inherit'] });
    if (into && child.stdout) child.stdout.pipe(into as NodeJS.WritableStream);
    child.on('error', reject);
    child.on('close', resolve);
  });
}

/** `git archive` of the anchor's action.yml and dist/ at the mirror's HEAD, unpacked in `dir`. */
async function exportAnchor(dir: string): Promise<{ entry: string; using: string; commit: string }> {
  const tar = spawn('tar', ['-x', '-C', dir], { stdio: ['pipe', 'ignore', 'inherit'] });
  const archived = await run(
    'git',
    ['-C', MIRROR, 'archive', '--format=tar', 'HEAD', 'action.yml', 'dist'],
    tar.stdin,
  );
  tar.stdin.end();
  const untarred = await new Promise<number | null>((resolve) => tar.on('close', resolve));
  if (archived !== 0 || untarred !== 0)
    throw new Error(`git archive of ${MIRROR} failed (${archived}, ${untarred})`);
  const action = parse(readFileSync(path.join(dir, 'action.yml'), 'utf8')) as {
    runs: { using: string; main: string };
  };
  const commit = await new Promise<string>((resolve) => {
    const git = spawn('git', ['-C', MIRROR, 'rev-parse', '--short', 'HEAD']);
    let out = '';
    git.stdout.on('data', (d: Buffer) => (out += d.toString()));
    git.on('close', () => resolve(out.trim()));
  });
  return { entry: path.join(dir, action.runs.main), using: action.runs.using, commit };
}

function taskDefinition(image: string) {
  return {
    family: FAMILY,
    requiresCompatibilities: ['FARGATE' as const],
    networkMode: 'awsvpc' as const,
    cpu: '256',
    memory: '512',
    containerDefinitions: [
      { name: 'app', image, essential: true, portMappings: [{ containerPort: CONTAINER_PORT }] },
    ],
  };
}

/** A target group (ip, HTTP, checks every 10 s, 10 s deregistration delay) behind a load balancer's listener. */
async function targetGroup(elb: ElasticLoadBalancingV2Client): Promise<string> {
  const net = defaultNetwork();
  const created = await elb.send(
    new CreateTargetGroupCommand({
      Name: 'anchor-web',
      Protocol: 'HTTP',
      Port: CONTAINER_PORT,
      VpcId: net.vpcId,
      TargetType: 'ip',
      HealthCheckIntervalSeconds: 10,
    }),
  );
  const arn = created.TargetGroups![0]!.TargetGroupArn!;
  await elb.send(
    new ModifyTargetGroupAttributesCommand({
      TargetGroupArn: arn,
      Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '10' }],
    }),
  );
  const lb = await elb.send(
    new CreateLoadBalancerCommand({ Name: 'anchor-web', Subnets: net.subnetIds.slice(0, 2) }),
  );
  await elb.send(
    new CreateListenerCommand({
      LoadBalancerArn: lb.LoadBalancers![0]!.LoadBalancerArn!,
      Protocol: 'HTTP',
      Port: 80,
      DefaultActions: [{ Type: 'forward', TargetGroupArn: arn }],
    }),
  );
  return arn;
}

async function describe(ecs: ECSClient): Promise<Service> {
  return (await ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: [SERVICE] })))
    .services![0]!;
}

/** Polls (wall time) until the service's only deployment is COMPLETED. */
async function settled(ecs: ECSClient): Promise<Service> {
  for (let i = 0; i < 600; i++) {
    const svc = await describe(ecs);
    if (svc.deployments?.length === 1 && svc.deployments[0]!.rolloutState === 'COMPLETED') return svc;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the service did not settle');
}

/** Each target of the group as "ip:port state (task's revision)". */
async function targets(ecs: ECSClient, elb: ElasticLoadBalancingV2Client, arn: string) {
  const health = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
  const taskArns =
    (await ecs.send(new ListTasksCommand({ cluster: CLUSTER, serviceName: SERVICE }))).taskArns ?? [];
  const tasks = taskArns.length
    ? ((await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: taskArns }))).tasks ?? [])
    : [];
  const revisionAt = new Map(
    tasks.map((t) => [
      t.attachments?.[0]?.details?.find((d) => d.name === 'privateIPv4Address')?.value,
      t.taskDefinitionArn?.split('/').pop(),
    ]),
  );
  return (health.TargetHealthDescriptions ?? []).map(
    (d) =>
      `${d.Target?.Id}:${d.Target?.Port} ${d.TargetHealth?.State}${d.TargetHealth?.Reason ? ` (${d.TargetHealth.Reason})` : ''} — task of ${revisionAt.get(d.Target?.Id) ?? 'no running task'}`,
  );
}

export async function anchors(): Promise<void> {
  if (!existsSync(MIRROR)) {
    console.log(`anchors: ${ANCHOR} is not mirrored at ${MIRROR}; nothing to run (CI has no mirror)`);
    return;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'anchor-ecs-deploy-'));
  const aws = await startLocalAws({ timeScale: TIME_SCALE });
  const config = { endpoint: aws.endpoint, region: aws.region, credentials: aws.credentials };
  const ecs = new ECSClient(config);
  const elb = new ElasticLoadBalancingV2Client(config);
  try {
    const anchor = await exportAnchor(dir);
    console.log(
      `${ANCHOR} @ ${anchor.commit}: runs.using ${anchor.using}, node ${path.relative(dir, anchor.entry)}`,
    );

    // The service the anchor deploys to: behind a target group, settled on its first revision.
    await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    const tg = await targetGroup(elb);
    const first = await ecs.send(
      new RegisterTaskDefinitionCommand(taskDefinition('public.ecr.aws/nginx/nginx:1.27')),
    );
    await ecs.send(
      new CreateServiceCommand({
        cluster: CLUSTER,
        serviceName: SERVICE,
        taskDefinition: first.taskDefinition!.taskDefinitionArn!,
        desiredCount: 2,
        launchType: 'FARGATE',
        networkConfiguration: { awsvpcConfiguration: { subnets: defaultNetwork().subnetIds.slice(0, 2) } },
        loadBalancers: [{ targetGroupArn: tg, containerName: 'app', containerPort: CONTAINER_PORT }],
        deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
      }),
    );
    await settled(ecs);
    console.log(`service ${CLUSTER}/${SERVICE} behind ${tg}, settled on ${FAMILY}:1; targets:`);
    for (const line of await targets(ecs, elb, tg)) console.log(`  ${line}`);

    // The anchor's step: a new revision (another image), UpdateService, wait for stability.
    const file = path.join(dir, 'task-definition.json');
    writeFileSync(file, JSON.stringify(taskDefinition('public.ecr.aws/nginx/nginx:1.28'), null, 2));
    const inputs = {
      'task-definition': file,
      cluster: CLUSTER,
      service: SERVICE,
      'wait-for-service-stability': 'true',
      'wait-for-minutes': '5',
      'wait-max-delay-seconds': '15',
    };
    const mark = aws.opLog.entries({ service: 'ecs' }).length;
    const started = performance.now();
    const step = await runAction('amazon-ecs-deploy-task-definition', {
      entry: anchor.entry,
      inputs,
      env: { ...localAwsEnv(aws), GITHUB_WORKSPACE: dir },
      timeoutMs: 6 * 60_000,
    });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);

    console.log(
      `\nstep: ${step.exitCode === 0 ? 'succeeded' : `FAILED (exit code ${step.exitCode})`} in ${seconds} s wall (${TIME_SCALE}× clock)`,
    );
    for (const error of step.errors) console.log(`  ::error:: ${error}`);
    console.log('outputs:');
    for (const [k, v] of Object.entries(step.outputs)) console.log(`  ${k} = ${v}`);
    const calls = aws.opLog
      .entries({ service: 'ecs' })
      .slice(mark)
      .map((e) => e.operation);
    const counts = new Map<string, number>();
    for (const op of calls) counts.set(op, (counts.get(op) ?? 0) + 1);
    console.log(`ECS calls the step made: ${[...counts].map(([op, n]) => `${op} ×${n}`).join(', ')}`);

    console.log('\nwhat local-aws saw:');
    const svc = await describe(ecs);
    console.log(`  service taskDefinition ${svc.taskDefinition?.split('/').pop()}`);
    for (const d of svc.deployments ?? [])
      console.log(
        `  deployment ${d.id} ${d.status} ${d.rolloutState} ${d.taskDefinition?.split('/').pop()} running ${d.runningCount}/${d.desiredCount}`,
      );
    console.log('  target group health:');
    for (const line of await targets(ecs, elb, tg)) console.log(`    ${line}`);
    console.log('  service events, oldest first:');
    for (const e of [...(svc.events ?? [])].reverse()) console.log(`    ${e.message}`);
    if (step.exitCode !== 0) {
      console.log('\nstep output:\n' + step.stdout + step.stderr);
      process.exitCode = 1;
    }
  } finally {
    ecs.destroy();
    elb.destroy();
    await aws.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
