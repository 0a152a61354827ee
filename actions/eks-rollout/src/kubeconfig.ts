// write-kubeconfig: a kubeconfig for later steps of the job, whose user runs this action's own
// bundle as its exec credential plugin (`node …/index.js token --cluster … --region …`), so kubectl
// and helm work with no aws CLI: the token is made in process from the step's AWS credentials.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EKSClient } from '@aws-sdk/client-eks';
import { createAwsClient, eksToken, type EksCluster } from '@aws-containers/core';
import { stringify } from 'yaml';
import { ACTION } from './version.js';

export const EXEC_API_VERSION = 'client.authentication.k8s.io/v1beta1';

/** The kubeconfig document (pure). */
export function kubeconfigFor(
  cluster: EksCluster,
  options: { region: string; namespace: string | undefined; node: string; entry: string },
): string {
  const name = cluster.arn || cluster.name;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name,
        cluster: {
          server: cluster.endpoint,
          'certificate-authority-data': Buffer.from(cluster.caPem, 'utf8').toString('base64'),
        },
      },
    ],
    users: [
      {
        name,
        user: {
          exec: {
            apiVersion: EXEC_API_VERSION,
            command: options.node,
            args: [options.entry, 'token', '--cluster', cluster.name, '--region', options.region],
            interactiveMode: 'Never',
            provideClusterInfo: false,
          },
        },
      },
    ],
    contexts: [
      {
        name,
        context: { cluster: name, user: name, ...(options.namespace && { namespace: options.namespace }) },
      },
    ],
    'current-context': name,
  });
}

/** Writes the kubeconfig (mode 0600: it names the cluster and how to reach it); returns its absolute path. */
export function writeKubeconfig(file: string, text: string): string {
  const full = path.resolve(file);
  mkdirSync(path.dirname(full), { recursive: true });
  writeFileSync(full, text, { mode: 0o600 });
  chmodSync(full, 0o600);
  return full;
}

/** `index.js token --cluster <name> --region <region>`: prints an ExecCredential for kubectl. */
export async function printExecCredential(args: readonly string[]): Promise<void> {
  const value = (flag: string) => {
    const at = args.indexOf(flag);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const cluster = value('--cluster');
  const region = value('--region');
  if (!cluster || !region) {
    process.stderr.write('usage: index.js token --cluster <name> --region <region>\n');
    process.exitCode = 1;
    return;
  }
  try {
    const eks = createAwsClient(EKSClient, { region, action: ACTION });
    const made = await eksToken({ cluster, region, credentials: eks.config.credentials });
    process.stdout.write(
      `${JSON.stringify({
        apiVersion: EXEC_API_VERSION,
        kind: 'ExecCredential',
        status: { token: made.token, expirationTimestamp: made.expiresAt.toISOString() },
      })}\n`,
    );
  } catch (error) {
    process.stderr.write(`eks-rollout token: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
