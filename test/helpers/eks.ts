// EKS on local-aws for tests and benchmarks, one way: an ACTIVE cluster (the SDK's CreateCluster on
// the default network, activation shortened to a simulated second), access for a principal (an
// access entry and one access policy, cluster-wide or on namespaces), and kubectl against the
// cluster with a token made as `aws eks get-token` makes it.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import {
  AssociateAccessPolicyCommand,
  CreateAccessEntryCommand,
  CreateClusterCommand,
  DescribeClusterCommand,
  EKSClient,
} from '@aws-sdk/client-eks';
import { eksToken } from '@aws-containers/core';
import { defaultNetwork, type LocalAws } from '@aws-containers/local-aws';

export const KUBECTL = '/usr/bin/kubectl';

function eksClient(aws: LocalAws): EKSClient {
  return new EKSClient({
    endpoint: aws.endpoint,
    region: aws.region,
    credentials: aws.credentials,
    maxAttempts: 3,
  });
}

/** Creates the cluster with local-aws's own key and waits (real time) until it is ACTIVE. */
export async function createActiveCluster(aws: LocalAws, name: string): Promise<void> {
  aws.admin.eks.setTimings({ activationMs: 1000 });
  const eks = eksClient(aws);
  try {
    await eks.send(
      new CreateClusterCommand({
        name,
        roleArn: `arn:aws:iam::${aws.accountId}:role/eks`,
        resourcesVpcConfig: { subnetIds: defaultNetwork(aws.accountId, aws.region).subnetIds.slice(0, 2) },
      }),
    );
    const deadline = Date.now() + 30_000;
    while ((await eks.send(new DescribeClusterCommand({ name }))).cluster?.status !== 'ACTIVE') {
      if (Date.now() > deadline) throw new Error(`EKS cluster ${name} did not become ACTIVE`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    eks.destroy();
  }
}

/** An access entry for the principal with one access policy (default: cluster admin, cluster-wide). */
export async function grantClusterAccess(
  aws: LocalAws,
  cluster: string,
  principalArn: string,
  options: { policy?: string; namespaces?: string[] } = {},
): Promise<void> {
  const eks = eksClient(aws);
  try {
    await eks.send(new CreateAccessEntryCommand({ clusterName: cluster, principalArn }));
    await eks.send(
      new AssociateAccessPolicyCommand({
        clusterName: cluster,
        principalArn,
        policyArn: `arn:aws:eks::aws:cluster-access-policy/${options.policy ?? 'AmazonEKSClusterAdminPolicy'}`,
        accessScope: options.namespaces
          ? { type: 'namespace', namespaces: options.namespaces }
          : { type: 'cluster' },
      }),
    );
  } finally {
    eks.destroy();
  }
}

export interface KubectlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** kubectl against the cluster as local-aws's own key (its creator, a cluster admin); `home` is its HOME. */
export function kubectlOnEks(
  aws: LocalAws,
  cluster: string,
  home: string,
): (...args: string[]) => Promise<KubectlResult> {
  return async (...args) => {
    const { token } = await eksToken({
      cluster,
      region: aws.region,
      credentials: aws.credentials,
      env: { AWS_ENDPOINT_URL: aws.endpoint },
    });
    mkdirSync(home, { recursive: true });
    const child = spawn(
      KUBECTL,
      [
        '--server',
        aws.admin.eks.endpoint(cluster),
        '--certificate-authority',
        aws.caCertPath,
        '--token',
        token,
        ...args,
      ],
      {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, KUBECONFIG: path.join(home, 'none') },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    return { code, stdout, stderr };
  };
}

/**
 * A Deployment of 2 replicas in `default` whose container `app` runs `image`; `extra` is YAML
 * appended after that container (more containers, or pod spec fields at its indentation).
 */
export function deploymentManifest(name: string, image: string, extra = ''): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: default
spec:
  replicas: 2
  selector:
    matchLabels: { app: ${name} }
  template:
    metadata:
      labels: { app: ${name} }
    spec:
      containers:
        - name: app
          image: ${image}
${extra}`;
}
