// `npm run bench -- <name> [...]`: benchmarks, never timed tests. Each reports figures as
// ratios against a peer measured in the same run.
import { coldStart } from './cold-start.js';
import { ecrPush } from './ecr-push.js';

const benches: Record<string, () => Promise<void>> = {
  'cold-start': coldStart,
  'ecr-push': ecrPush,
  'ecs-deploy': async () => (await import('./ecs-deploy.js')).ecsDeploy(),
  anchors: async () => (await import('./anchors.js')).anchors(),
  kubernetes: async () => (await import('./kubernetes.js')).kubernetes(),
  'eks-rollout': async () => (await import('./eks-rollout.js')).eksRollout(),
  preflight: async () => (await import('./preflight.js')).preflight(),
  scale: async () => (await import('./scale.js')).scale(),
};

const requested = process.argv.slice(2);
const names = requested.length > 0 ? requested : Object.keys(benches);
for (const name of names) {
  const bench = benches[name];
  if (!bench) {
    console.error(`bench: unknown benchmark "${name}"; known: ${Object.keys(benches).join(', ')}`);
    process.exit(2);
  }
  console.log(`\n## ${name}`);
  await bench();
}
