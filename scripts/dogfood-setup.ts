// For the dogfood job (.github/workflows/ci.yml): what the suite's actions need before they can
// run against a local-aws started by an earlier step — an OCI image layout built in code (no
// docker), an ECS cluster, and the default network's first subnet — written as step outputs.
//   npx tsx scripts/dogfood-setup.ts <cluster>
// Reads AWS_ENDPOINT_URL, the AWS_* credentials and AWS_REGION like any SDK client.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateClusterCommand, ECSClient } from '@aws-sdk/client-ecs';
import { buildOciLayout, defaultNetwork } from '@aws-containers/local-aws';

const cluster = process.argv[2] ?? 'dogfood';
const layout = await buildOciLayout({
  dir: join(process.env.RUNNER_TEMP ?? '.', 'dogfood-layout'),
  layers: [{ path: 'app/hello.txt', content: 'hello from the dogfood job\n' }],
  labels: { 'org.opencontainers.image.title': 'dogfood' },
});
await new ECSClient({}).send(new CreateClusterCommand({ clusterName: cluster }));
// local-aws gives every account and region the same default network ids (DescribeSubnets lists them).
const subnet = defaultNetwork(undefined, process.env.AWS_REGION)?.subnetIds[0];
if (!subnet) throw new Error('local-aws has no default subnet');
const outputs = `oci-layout=${layout.dir}\ncluster=${cluster}\nsubnet=${subnet}\n`;
if (process.env.GITHUB_OUTPUT) appendFileSync(process.env.GITHUB_OUTPUT, outputs);
process.stdout.write(outputs);
