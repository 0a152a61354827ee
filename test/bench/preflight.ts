// Preflight against finding out from ECS (issue 15), in the same run on the same local-aws at
// real-time task timings (timeScale 1): time to a verdict on a task definition whose image tag was
// never pushed — from the step's start to its first ::error:: line — with `preflight: on` (it reads
// ECR before anything changes) and with `preflight: off` (the deploy registers, updates the service,
// and ECS stops the task after PROVISIONING and PENDING with CannotPullContainerError;
// max-failed-tasks 1, so the step says so at the first stopped task). Rounds alternate.
import { CreateClusterCommand, ECSClient } from '@aws-sdk/client-ecs';
import { startLocalAws } from '@aws-containers/local-aws';
import { localAwsEnv, runAction } from '../helpers/action-runner.js';
import { SUBNET, taskDefinition } from '../helpers/ecs-deploy.js';
import { median } from './stats.js';

const ROUNDS = 3;

export async function preflight(): Promise<void> {
  const aws = await startLocalAws({ timeScale: 1 });
  const ecs = new ECSClient({ endpoint: aws.endpoint, region: aws.region, credentials: aws.credentials });
  try {
    await ecs.send(new CreateClusterCommand({ clusterName: 'bench' }));
    const ecr = `${aws.accountId}.dkr.ecr.${aws.region}.amazonaws.com`;
    const env = localAwsEnv(aws);
    const made = await runAction('ecs-deploy-fargate', {
      inputs: {
        cluster: 'bench',
        service: 'web',
        'task-definition': taskDefinition('bench-web', [
          { name: 'app', image: 'public.ecr.aws/nginx/nginx:1' },
        ]),
        'create-service': 'true',
        subnets: SUBNET,
        'poll-interval': '1s',
      },
      env,
      timeoutMs: 600_000,
    });
    if (made.exitCode !== 0) throw new Error(`the service: ${made.errors.join('\n')}`);
    const verdict = async (mode: 'on' | 'off', round: number): Promise<number> => {
      let said: number | undefined;
      const started = performance.now();
      const run = await runAction('ecs-deploy-fargate', {
        inputs: {
          cluster: 'bench',
          service: 'web',
          image: `${ecr}/bench/web:never-pushed-${mode}-${round}`,
          preflight: mode,
          'max-failed-tasks': '1',
          'poll-interval': '1s',
          'rollback-on-failure': 'false',
        },
        env,
        timeoutMs: 600_000,
        onLine: (line) => {
          if (said === undefined && line.startsWith('::error')) said = performance.now();
        },
      });
      if (run.exitCode !== 1 || said === undefined) {
        throw new Error(
          `round ${round} (${mode}): no verdict (exit ${run.exitCode}): ${run.stdout.slice(-2000)}`,
        );
      }
      return (said - started) / 1000;
    };
    const on: number[] = [];
    const off: number[] = [];
    for (let i = 1; i <= ROUNDS; i++) {
      on.push(await verdict('on', i));
      off.push(await verdict('off', i));
    }
    console.log(
      `time to a verdict on a never-pushed image tag (s from the step's start to its ::error::; ${ROUNDS} rounds, alternated):`,
    );
    console.log(
      `  preflight on: ${on.map((s) => s.toFixed(2)).join(', ')} (median ${median(on).toFixed(2)})`,
    );
    console.log(
      `  preflight off (ECS finds out): ${off.map((s) => s.toFixed(1)).join(', ')} (median ${median(off).toFixed(1)})`,
    );
    console.log(`  ratio off/on: ${(median(off) / median(on)).toFixed(0)}×`);
  } finally {
    ecs.destroy();
    await aws.stop();
  }
}
