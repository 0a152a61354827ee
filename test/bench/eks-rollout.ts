// eks-rollout against `kubectl rollout status` (issue 13), in the same run, on the same simulation:
// local-aws's EKS with a cluster whose Kubernetes API is local-kubernetes, on a clock SCALE times
// faster than real time. Each round rolls one Deployment of 4 replicas:
// 1. verdict lag on a good rollout: from the moment the rollout is done by kubectl's own rule (an
//    observer reads the cluster's store every OBSERVE_MS and applies core's deploymentRolloutStatus,
//    which is kubectl's rule sentence for sentence) to each side's verdict: the line that says
//    "successfully rolled out" (ours prints kubectl's sentence as it becomes true), and each side's
//    exit (ours writes its outputs and job summary first). kubectl is started the moment ours prints
//    that it follows the rollout. The goal, ours ≤ kubectl's, is read per round as ours − kubectl,
//    which does not depend on how finely the observer sees the moment of "done".
// 2. time to fail on an unpullable image, from the moment it is decidable (the observer sees a new
//    pod's container waiting with ErrImagePull) to ours' ::error:: line, and to kubectl's exit (it
//    waits for the progress deadline, 600 simulated s).
// 3. Kubernetes API requests per rollout: each side signs with its own key (an access entry each),
//    counted in local-aws's op log.
// Times are given in simulated seconds (wall × SCALE): as they would read against a real cluster.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { CreateRepositoryCommand, ECRClient } from '@aws-sdk/client-ecr';
import { deploymentRolloutStatus, eksToken, inputsEnv, type KubeObject } from '@aws-containers/core';
import { buildImage, startLocalAws } from '@aws-containers/local-aws';
import { findByPath } from '@aws-containers/local-kubernetes';
import { pushToMain, repoRoot } from '../helpers/action-runner.js';
import { median } from './stats.js';
import { createActiveCluster, grantClusterAccess } from '../helpers/eks.js';
import { loggedInRegistry } from '../helpers/registry.js';

const SCALE = 20;
const ROUNDS = 5;
const OBSERVE_MS = 20;
const CLUSTER = 'bench';
const KUBECTL = '/usr/bin/kubectl';

interface Side {
  accessKeyId: string;
  secretAccessKey: string;
}

export async function eksRollout(): Promise<void> {
  const ours: Side = { accessKeyId: 'AKIABENCHOURS', secretAccessKey: 'ours-secret' };
  const theirs: Side = { accessKeyId: 'AKIABENCHKUBECTL', secretAccessKey: 'kubectl-secret' };
  const admin = { accessKeyId: 'test', secretAccessKey: 'test' };
  const aws = await startLocalAws({ timeScale: SCALE, credentials: [admin, ours, theirs] });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-eks-rollout-'));
  try {
    await createActiveCluster(aws, CLUSTER);
    for (const side of [ours, theirs]) {
      const principalArn = `arn:aws:iam::${aws.accountId}:user/${side.accessKeyId}`;
      aws.identities.add({ ...side, arn: principalArn });
      await grantClusterAccess(aws, CLUSTER, principalArn);
    }
    const config = { endpoint: aws.endpoint, region: aws.region, credentials: admin, maxAttempts: 3 };

    const ecr = new ECRClient(config);
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'bench/web' }));
    ecr.destroy();
    const { registry, host } = await loggedInRegistry(aws, admin);
    const tags: string[] = [];
    for (let i = 0; i <= ROUNDS; i++) {
      const pushed = await registry.pushImage(
        'bench/web',
        buildImage([{ size: 64 }], { labels: {} }),
        `v${i}`,
      );
      if (pushed.status !== 201) throw new Error(`push failed: ${pushed.status}`);
      tags.push(`${host}/bench/web:v${i}`);
    }
    const missing = `${host}/bench/web:missing`;
    const cluster = aws.admin.eks.kubernetes(CLUSTER)!;
    const deployments = findByPath('apps', 'v1', 'deployments')!;
    const pods = findByPath('', 'v1', 'pods')!;

    const kubectlArgs = async (side: Side) => {
      const { token: t } = await eksToken({
        cluster: CLUSTER,
        region: aws.region,
        credentials: side,
        env: { AWS_ENDPOINT_URL: aws.endpoint },
      });
      return [
        '--server',
        aws.admin.eks.endpoint(CLUSTER),
        '--certificate-authority',
        aws.caCertPath,
        '--token',
        t,
      ];
    };
    const kubectlEnv = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      KUBECACHEDIR: path.join(dir, 'cache'),
      KUBECONFIG: path.join(dir, 'none'),
    };
    const run = (args: string[], stdin = '', onLine?: (line: string) => void) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(KUBECTL, args, { env: kubectlEnv });
        let stderr = '';
        if (onLine) createInterface({ input: child.stdout }).on('line', onLine);
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (code) => resolve({ code, stderr }));
        child.stdin.end(stdin);
      });
    const manifest = `apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: default }
spec:
  replicas: 4
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers: [{ name: app, image: ${tags[0]} }]
`;
    const made = await run([...(await kubectlArgs(theirs)), 'apply', '-f', '-'], manifest);
    if (made.code !== 0) throw new Error(`kubectl apply: ${made.stderr}`);
    while (
      !deploymentRolloutStatus(cluster.store.get(deployments, 'default', 'web') as unknown as KubeObject).done
    ) {
      await new Promise((r) => setTimeout(r, 50));
    }

    /** One round: ours sets the image; kubectl rollout status starts as ours begins to follow. */
    const round = async (image: string, rollbackOnFailure = true) => {
      const opFrom = aws.opLog.entries().length;
      const started = performance.now();
      const times: {
        done?: number;
        decidable?: number;
        oursSaid?: number;
        oursDone?: number;
        oursExit?: number;
        kubectlDone?: number;
        kubectlExit?: number;
      } = {};
      const observer = setInterval(() => {
        const now = performance.now();
        const d = cluster.store.get(deployments, 'default', 'web') as unknown as KubeObject | undefined;
        if (
          d &&
          times.done === undefined &&
          times.oursSaid === undefined &&
          deploymentRolloutStatus(d).done &&
          now - started > 50
        ) {
          const image0 = (d.spec as { template: { spec: { containers: Array<{ image: string }> } } }).template
            .spec.containers[0]!.image;
          if (image0 === image) times.done = now;
        }
        if (times.decidable === undefined) {
          const waiting = cluster.store.list(pods, 'default').some((p) =>
            (
              (
                p.status as {
                  containerStatuses?: Array<{ image?: string; state?: { waiting?: { reason?: string } } }>;
                }
              )?.containerStatuses ?? []
            ).some(
              (c) =>
                c.image === image && /ErrImagePull|ImagePullBackOff/.test(c.state?.waiting?.reason ?? ''),
            ),
          );
          if (waiting) times.decidable = now;
        }
      }, OBSERVE_MS);
      const child = spawn(process.execPath, [path.join(repoRoot, 'dist', 'eks-rollout', 'index.js')], {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: dir,
          RUNNER_TEMP: dir,
          GITHUB_ACTIONS: 'true',
          ...pushToMain.env,
          ...inputsEnv({
            cluster: CLUSTER,
            workloads: 'deployment/web',
            images: `app=${image}`,
            timeout: '15m',
            'rollback-on-failure': String(rollbackOnFailure),
          }),
          AWS_ENDPOINT_URL: aws.endpoint,
          AWS_REGION: aws.region,
          AWS_ACCESS_KEY_ID: ours.accessKeyId,
          AWS_SECRET_ACCESS_KEY: ours.secretAccessKey,
          NODE_EXTRA_CA_CERTS: aws.caCertPath,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let kubectl: Promise<void> | undefined;
      const lines = createInterface({ input: child.stdout });
      lines.on('line', (line) => {
        if (!kubectl && line.startsWith('::group::Follow ')) {
          kubectl = kubectlArgs(theirs).then((args) =>
            run(
              [...args, 'rollout', 'status', 'deployment/web', '-n', 'default', '--timeout=0'],
              '',
              (said) => {
                if (times.kubectlDone === undefined && said.includes('successfully rolled out'))
                  times.kubectlDone = performance.now();
              },
            ).then(() => {
              times.kubectlExit = performance.now();
            }),
          );
        }
        if (times.oursSaid === undefined && line.startsWith('::error')) times.oursSaid = performance.now();
        if (times.oursDone === undefined && line.includes('successfully rolled out'))
          times.oursDone = performance.now();
      });
      await new Promise<void>((resolve) => child.on('close', () => resolve()));
      times.oursExit = performance.now();
      await kubectl;
      clearInterval(observer);
      const calls = aws.opLog
        .entries()
        .slice(opFrom)
        .filter((e) => e.service === 'eks' && e.operation.startsWith('k8s:'));
      const count = (side: Side) => calls.filter((e) => e.accessKeyId === side.accessKeyId).length;
      return { times, requests: { ours: count(ours), kubectl: count(theirs) } };
    };

    const sim = (wallMs: number) => (wallMs * SCALE) / 1000;
    const good: Array<{
      oursSaid: number;
      kubectlSaid: number;
      oursExit: number;
      kubectlExit: number;
      reqOurs: number;
      reqKubectl: number;
    }> = [];
    for (let i = 1; i <= ROUNDS; i++) {
      const r = await round(tags[i]!);
      const { done, oursDone, kubectlDone, oursExit, kubectlExit } = r.times;
      if (
        done === undefined ||
        oursDone === undefined ||
        kubectlDone === undefined ||
        kubectlExit === undefined
      )
        throw new Error(`round ${i}: no verdict observed`);
      good.push({
        oursSaid: sim(oursDone - done),
        kubectlSaid: sim(kubectlDone - done),
        oursExit: sim(oursExit! - done),
        kubectlExit: sim(kubectlExit - done),
        reqOurs: r.requests.ours,
        reqKubectl: r.requests.kubectl,
      });
    }
    // No undo here: kubectl would then see the undo's rollout succeed instead of its deadline.
    const bad = await round(missing, false);
    console.log(
      `verdict lag on a good rollout (simulated s after kubectl's own rule says done, observed every ${(OBSERVE_MS * SCALE) / 1000} simulated s; median of ${ROUNDS}):`,
    );
    const med = (pick: (g: (typeof good)[number]) => number) => median(good.map(pick)).toFixed(2);
    console.log(
      `  the verdict line ("successfully rolled out"): ours ${med((g) => g.oursSaid)} s vs kubectl rollout status ${med((g) => g.kubectlSaid)} s; ours − kubectl per round: ${good.map((g) => (g.oursSaid - g.kubectlSaid).toFixed(2)).join(', ')} s (median ${med((g) => g.oursSaid - g.kubectlSaid)})`,
    );
    console.log(
      `  the exit: ours ${med((g) => g.oursExit)} s (after its outputs and job summary) vs kubectl ${med((g) => g.kubectlExit)} s; ours − kubectl median ${med((g) => g.oursExit - g.kubectlExit)} s`,
    );
    console.log(
      `  Kubernetes API requests per rollout (median): ours ${median(good.map((g) => g.reqOurs))} (set image, watches, undo checks, diagnosis reads) vs kubectl's ${median(good.map((g) => g.reqKubectl))} (rollout status alone)`,
    );
    if (bad.times.decidable === undefined)
      throw new Error('the unpullable image was never seen failing to pull');
    console.log('time to fail on an unpullable image (simulated s after a new pod is seen in ErrImagePull):');
    console.log(
      `  ours ${bad.times.oursSaid ? sim(bad.times.oursSaid - bad.times.decidable).toFixed(1) : 'never'} s (its ::error::; exit at ${sim(bad.times.oursExit! - bad.times.decidable).toFixed(1)} s, rollback-on-failure off) vs kubectl rollout status ${bad.times.kubectlExit ? sim(bad.times.kubectlExit - bad.times.decidable).toFixed(1) : 'never'} s (the progress deadline)`,
    );
  } finally {
    await aws.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
