// What makes a container exit in local-aws: image labels, and — for one-off tasks only — a command
// that is exactly `sleep N`, `exit N` or `sleep N; exit N` (as its words, or as the script of
// `sh -c`). Real services' commands (a server loop, `cmd || exit 1`, a trap) run until stopped.
// The AWS CLI v2 reads the tasks and services back.
import {
  CreateClusterCommand,
  CreateServiceCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
} from '@aws-sdk/client-ecs';
import { jest } from '@jest/globals';
import { defaultNetwork, startLocalAws, type LocalAws } from '../src/index.js';
import { oneOffCommand } from '../src/ecs/sim.js';
import { awsCli, withCli } from './helpers/ecs-judges.js';

jest.setTimeout(120_000);

/** A subnet of the default network local-aws gives every account and region (zone a). */
const SUBNET = defaultNetwork().subnetIds[0]!;

const S = 1000;
const NET = { awsvpcConfiguration: { subnets: [SUBNET] } };

// [argv, what it scripts: exit code and seconds after RUNNING, or undefined: runs until stopped]
const FORMS: Array<[string[], { exitCode: number; afterS: number } | undefined]> = [
  // The forms the suite's tests use.
  [['sleep', '3600'], { exitCode: 0, afterS: 3600 }],
  [['sh', '-c', 'exit 0'], { exitCode: 0, afterS: 0 }],
  [['sh', '-c', 'sleep 20; exit 0'], { exitCode: 0, afterS: 20 }],
  [['sh', '-c', 'sleep 5; exit 3'], { exitCode: 3, afterS: 5 }],
  [['sh', '-c', 'exit 0', '::error::anything after the script is $0'], { exitCode: 0, afterS: 0 }],
  [['sh', '-c', 'exit 1'], { exitCode: 1, afterS: 0 }],
  [['sh', '-c', 'sleep 2; exit 7'], { exitCode: 7, afterS: 2 }],
  // The rest of the documented form.
  [['/bin/sh', '-c', 'exit 4'], { exitCode: 4, afterS: 0 }],
  [['exit', '5'], { exitCode: 5, afterS: 0 }],
  [['sleep', '1;', 'exit', '6'], { exitCode: 6, afterS: 1 }],
  [['sh', '-c', '  sleep 1.5 ;exit 2  '], { exitCode: 2, afterS: 1.5 }],
  [['sh', '-c', 'sleep 9'], { exitCode: 0, afterS: 9 }],
  // Real commands that only mention sleep or exit: they run until stopped.
  [['sh', '-c', 'while true; do date; sleep 30; done'], undefined],
  [['sh', '-c', 'python3 -m http.server || exit 1'], undefined],
  [['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 1; done'], undefined],
  [['sh', '-c', 'exit 1; echo unreachable'], undefined],
  [['sh', '-c', 'sleep 5 && exit 3'], undefined],
  [['sleep', '30', '&&', 'exit', '1'], undefined],
  [['bash', '-c', 'exit 0'], undefined],
  [['sh', '-c', 'exit 256'], undefined],
  [['sleep 3600'], undefined],
  [['sh', '-c'], undefined],
  [['node', 'server.js'], undefined],
  [[], undefined],
];

describe('the one documented one-off form', () => {
  test.each(FORMS)('%j', (argv, scripted) => {
    expect(oneOffCommand(argv)).toEqual(
      scripted === undefined ? undefined : { exitCode: scripted.exitCode, exitAfterMs: scripted.afterS * S },
    );
  });
});

describe('on a stepped clock, read back with the AWS CLI v2', () => {
  let aws: LocalAws;
  let ecs: ECSClient;
  beforeAll(async () => {
    aws = await startLocalAws({ steppedClock: true });
    ecs = new ECSClient({
      endpoint: aws.endpoint,
      region: 'us-east-1',
      credentials: aws.credentials,
      maxAttempts: 1,
    });
    await ecs.send(new CreateClusterCommand({ clusterName: 'script' }));
  });
  afterAll(async () => {
    ecs?.destroy();
    await aws?.stop();
  });

  const register = async (family: string, extra: Record<string, unknown> = {}) =>
    (
      await ecs.send(
        new RegisterTaskDefinitionCommand({
          family,
          requiresCompatibilities: ['FARGATE'],
          networkMode: 'awsvpc',
          cpu: '256',
          memory: '512',
          containerDefinitions: [
            { name: 'app', image: 'public.ecr.aws/docker/library/busybox:1', essential: true, ...extra },
          ],
        }),
      )
    ).taskDefinition!.taskDefinitionArn!;

  type CliTask = {
    taskArn: string;
    lastStatus: string;
    stopCode?: string;
    containers: Array<{ exitCode?: number }>;
    startedAt?: string;
    executionStoppedAt?: string;
  };

  withCli(
    'RunTask: the documented forms exit as they say, on time; every other command runs until stopped',
    async () => {
      const td = await register('oneoff');
      // The same commands as overrides, and one as the task definition's own command.
      const arns: string[] = [];
      for (const [argv] of FORMS.filter(([argv]) => argv.length > 0)) {
        const run = await ecs.send(
          new RunTaskCommand({
            cluster: 'script',
            taskDefinition: td,
            networkConfiguration: NET,
            overrides: { containerOverrides: [{ name: 'app', command: argv }] },
          }),
        );
        arns.push(run.tasks![0]!.taskArn!);
      }
      const own = await register('oneoff-own', { command: ['sh', '-c', 'sleep 5; exit 3'] });
      const ownArn = (
        await ecs.send(
          new RunTaskCommand({ cluster: 'script', taskDefinition: own, networkConfiguration: NET }),
        )
      ).tasks![0]!.taskArn!;
      // 30 s to RUNNING, at most 9 s of sleep, about 17 s to stop; then an hour with nothing due.
      await aws.clock.advance(2 * 60 * S);
      const describe = async (tasks: string[]) =>
        (await awsCli(aws, ['ecs', 'describe-tasks', '--cluster', 'script', '--tasks', ...tasks])).json
          .tasks as CliTask[];
      const seen = await describe(arns);
      const byArn = new Map(seen.map((t) => [t.taskArn, t]));
      const outcome = FORMS.filter(([argv]) => argv.length > 0).map(([argv], i) => {
        const t = byArn.get(arns[i]!)!;
        return [
          argv,
          t.lastStatus === 'STOPPED'
            ? {
                exitCode: t.containers[0]!.exitCode,
                afterS: (Date.parse(t.executionStoppedAt!) - Date.parse(t.startedAt!)) / S,
              }
            : t.lastStatus,
        ];
      });
      expect(outcome).toEqual(
        FORMS.filter(([argv]) => argv.length > 0).map(([argv, scripted]) => [
          argv,
          // `sleep 3600` is still sleeping after two minutes.
          scripted === undefined || scripted.afterS > 60 ? 'RUNNING' : scripted,
        ]),
      );
      const [ownTask] = await describe([ownArn]);
      expect(ownTask).toMatchObject({ lastStatus: 'STOPPED', stopCode: 'EssentialContainerExited' });
      expect(ownTask!.containers[0]!.exitCode).toBe(3);
    },
  );

  withCli(
    "a service task's command never scripts it: `exit 1` and a server loop run, and complete",
    async () => {
      for (const [name, command] of [
        ['exit1', ['sh', '-c', 'exit 1']],
        ['loop', ['sh', '-c', 'while true; do wget -qO- localhost:8080 || exit 1; sleep 30; done']],
      ] as const) {
        const td = await register(`svc-${name}`, { command: [...command] });
        await ecs.send(
          new CreateServiceCommand({
            cluster: 'script',
            serviceName: name,
            taskDefinition: td,
            desiredCount: 1,
            networkConfiguration: NET,
            deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
          }),
        );
      }
      await aws.clock.advance(10 * 60 * S);
      const out = await awsCli(aws, [
        'ecs',
        'describe-services',
        '--cluster',
        'script',
        '--services',
        'exit1',
        'loop',
      ]);
      expect(out.stderr).toBe('');
      const services = out.json.services as Array<{
        serviceName: string;
        runningCount: number;
        deployments: Array<{ rolloutState: string; failedTasks: number }>;
      }>;
      expect(
        services.map((s) => [
          s.serviceName,
          s.runningCount,
          s.deployments.map((d) => [d.rolloutState, d.failedTasks]),
        ]),
      ).toEqual([
        ['exit1', 1, [['COMPLETED', 0]]],
        ['loop', 1, [['COMPLETED', 0]]],
      ]);
      for (const name of ['exit1', 'loop']) {
        const stopped = await awsCli(aws, [
          'ecs',
          'list-tasks',
          '--cluster',
          'script',
          '--service-name',
          name,
          '--desired-status',
          'STOPPED',
        ]);
        expect([name, stopped.json.taskArns]).toEqual([name, []]);
      }
    },
  );
});
