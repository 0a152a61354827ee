// The root action's inputs are ecr-push's and the deploy target's own (ecs-deploy's, or
// eks-rollout's with `eks-cluster`), under the same names, meanings and defaults: each part's
// typed Inputs come from that action's getInputs(), reading through an InputReader that sees only
// the names the root action hands that part. Every problem of both parts, and of the push plan
// (tags, the files a source names), is reported in one error before any AWS call.
import {
  ActionError,
  InputError,
  InputErrors,
  InputReader,
  inputEnvName,
  normalizeImageReference,
  parseImageReference,
  type Env,
  type GitHubContext,
} from '@aws-containers/core';
import { classifyImages, type ImageChange } from '../../eks-rollout/src/images.js';
import { getInputs as getEksInputs, type Inputs as EksInputs } from '../../eks-rollout/src/inputs.js';
import { containersOf, podSpecOf, type Manifest } from '../../eks-rollout/src/manifests.js';
import { getInputs as getPushInputs, type Inputs as PushInputs } from '../../ecr-push/src/inputs.js';
import { planPush, type PushPlan } from '../../ecr-push/src/plan.js';
import {
  getInputs as getDeployInputs,
  type Inputs as DeployInputs,
} from '../../ecs-deploy-fargate/src/inputs.js';

/** The root action's inputs that ecr-push reads (its image sources, tags and repository). */
export const PUSH_INPUTS = [
  'repository',
  'region',
  'create-repository',
  'tags',
  'context',
  'dockerfile',
  'build-args',
  'target',
  'platforms',
  'image',
  'oci-layout',
  'docker-archive',
  'promote-from',
  'docker-login',
  'fail-on-severity',
  'max-attempts',
] as const;

/**
 * The root action's inputs that ecs-deploy reads. Not `image`: the deploy's image is the pushed
 * digest, and the root action's `image` is a source to push. Not `tags` either: the root action's
 * `tags` are the image's.
 */
export const DEPLOY_INPUTS = [
  'cluster',
  'service',
  'services',
  'region',
  'task-definition',
  'task-definition-family',
  'container-name',
  'create-service',
  'subnets',
  'security-groups',
  'assign-public-ip',
  'timeout',
  'poll-interval',
  'rollback-on-failure',
  'wait-for-rollback',
  'preflight',
  'max-attempts',
] as const;

/** The deploy inputs only the ECS target reads. */
export const ECS_ONLY_INPUTS = DEPLOY_INPUTS.filter(
  (name) =>
    ![
      'cluster',
      'region',
      'timeout',
      'rollback-on-failure',
      'max-attempts',
      'container-name',
      'preflight',
    ].includes(name),
);

/**
 * The root action's inputs that eks-rollout reads, under its own names but `cluster`, which is
 * read from `eks-cluster`. Not `images`: the image is the pushed digest (see eksImages).
 */
export const EKS_INPUTS = [
  'eks-cluster',
  'region',
  'namespace',
  'workloads',
  'manifests',
  'timeout',
  'rollback-on-failure',
  'preflight',
] as const;

/** The inputs only the EKS target reads. */
export const EKS_ONLY_INPUTS = ['namespace', 'workloads', 'manifests'] as const;

/** What the pushed image stands for in the EKS target; the reference is known after the push. */
export interface EksImageTarget {
  /** A container name (`kubectl set image`), else the repository substituted in the manifests. */
  container: string | undefined;
}

export type Inputs = {
  push: PushInputs;
  /** The tags and the source with its paths resolved, as ecr-push plans them. */
  plan: PushPlan;
} & (
  | {
      target: 'ecs';
      /** `image` is unset: the deploy gets the pushed image by digest. */
      deploy: DeployInputs;
    }
  | {
      target: 'eks';
      /** `images` is empty until the push: eksImages gives it the pushed image by digest. */
      eks: EksInputs;
      image: EksImageTarget;
    }
);

/** action.yml's defaults of the inputs one target only reads: the runner sets them always. */
export const DEFAULTS: Record<string, string> = {
  'create-service': 'false',
  'assign-public-ip': 'false',
  'poll-interval': '5s',
  'wait-for-rollback': 'true',
  preflight: 'on',
};

/** A reference that stands for the pushed image while the inputs are checked. */
const PENDING_IMAGE = `pending.invalid/image@sha256:${'0'.repeat(64)}`;

/**
 * eks-rollout's image change for the pushed image, by eks-rollout's own parser: the container
 * named by container-name (`<container>=<image>`), else the repository substituted in the
 * manifests (`<repository-uri>=<image>`).
 */
export function eksImages(
  target: EksImageTarget,
  repositoryUri: string,
  image: string,
  manifests: readonly Manifest[] | undefined,
): ImageChange[] {
  const name = target.container ?? repositoryUri;
  const { changes, problems } = classifyImages(new Map([[name, image]]), manifests);
  if (problems.length > 0) {
    // Checked against the manifests before the push; only the registry can differ now.
    throw new ActionError(
      `The pushed image cannot be set: ${problems.map((p) => p.problem).join('; ')}; nothing was changed in the cluster.`,
      {
        hint: 'Name the container to set with container-name, or name the pushed repository URI in the manifests.',
      },
    );
  }
  return changes;
}

/** Whether an image of the manifests is of ECR repository `repository` (any registry). */
function manifestsUse(manifests: readonly Manifest[], repository: string): boolean {
  return manifests.some((m) =>
    containersOf(podSpecOf(m.object)).some((c) => {
      if (typeof c.image !== 'string') return false;
      try {
        return normalizeImageReference(parseImageReference(c.image)).repository === repository;
      } catch {
        return false;
      }
    }),
  );
}

/** The runner's variables of `names` only: what one part's InputReader may see. */
export function partEnv(env: Env, names: readonly string[]): Env {
  return Object.fromEntries(names.map((name) => [inputEnvName(name), env[inputEnvName(name)]]));
}

export function getInputs(context: GitHubContext, now: Date, env: Env = process.env): Inputs {
  const errors: InputError[] = [];
  const part = <T>(read: () => T): T | undefined => {
    try {
      return read();
    } catch (err) {
      if (!(err instanceof InputErrors)) throw err;
      errors.push(...err.errors);
      return undefined;
    }
  };
  const given = (name: string) => {
    const value = (env[inputEnvName(name)] ?? '').trim();
    return value !== '' && value !== DEFAULTS[name];
  };
  const push = part(() => getPushInputs(new InputReader(partEnv(env, PUSH_INPUTS))));
  const target = given('eks-cluster') && !given('cluster') ? 'eks' : 'ecs';
  const misplaced = (names: readonly string[], own: string, other: string) => {
    const set = names.filter(given);
    if (set.length > 0) {
      errors.push(
        new InputError(
          set.join(', '),
          `no value with ${own}: ${set.length === 1 ? 'it is' : 'they are'} for the ${other} target`,
          undefined,
        ),
      );
    }
  };
  let deploy: DeployInputs | undefined;
  let eks: EksInputs | undefined;
  const container = (env[inputEnvName('container-name')] ?? '').trim() || undefined;
  if (given('eks-cluster') === given('cluster')) {
    // Neither or both: which target's inputs to check is not known.
    errors.push(
      new InputError(
        'cluster, eks-cluster',
        'exactly one deploy target: cluster (ECS) or eks-cluster (EKS)',
        undefined,
        given('cluster') ? 'Both are set' : 'None is set',
      ),
    );
  } else if (target === 'ecs') {
    misplaced(EKS_ONLY_INPUTS, 'cluster', 'EKS (eks-cluster)');
    deploy = part(() => getDeployInputs(new InputReader(partEnv(env, DEPLOY_INPUTS))));
  } else {
    misplaced(ECS_ONLY_INPUTS, 'eks-cluster', 'ECS (cluster)');
    const eksEnv: Env = {
      ...partEnv(env, EKS_INPUTS),
      [inputEnvName('cluster')]: env[inputEnvName('eks-cluster')],
      // Checked with a stand-in for the pushed image: the container must be one the manifests or
      // workloads have; the reference is set after the push.
      [inputEnvName('images')]: container ? `${container}=${PENDING_IMAGE}` : undefined,
    };
    const noImage = !container && !given('manifests');
    if (noImage) {
      errors.push(
        new InputError(
          'container-name, manifests',
          'container-name (the container whose image is set in the workloads) or manifests (where the pushed repository is replaced)',
          undefined,
          'None is set',
        ),
      );
    }
    const cwd = context.workspace ?? process.cwd();
    eks = part(() => {
      try {
        return getEksInputs(new InputReader(eksEnv), { cwd, env });
      } catch (err) {
        if (!(err instanceof InputErrors)) throw err;
        // Said in the root action's terms: its `images` is the stand-in for container-name, and
        // "manifests or images" is said above.
        throw new InputErrors(
          err.errors
            .filter((e) => !(noImage && e.input === 'manifests, images'))
            .map((e) =>
              e.input === 'images' ? new InputError('container-name', e.expected, container, e.hint) : e,
            ),
        );
      }
    });
    if (eks?.manifests && !container && push && !manifestsUse(eks.manifests, push.repository)) {
      errors.push(
        new InputError(
          'manifests',
          `an image of repository ${push.repository} in the manifests, to be replaced by the pushed image`,
          undefined,
          'None has it: name the container to set with container-name',
        ),
      );
    }
  }
  // Planned even when the deploy's inputs are bad: a missing layout is reported with them.
  const plan = push && part(() => planPush(push, context, now));
  if (errors.length > 0 || !push || !plan || (target === 'ecs' ? !deploy : !eks)) {
    // region and max-attempts are read by both parts: a bad one is one problem, said once.
    throw new InputErrors(errors.filter((e, i) => errors.findIndex((o) => o.message === e.message) === i));
  }
  if (target === 'eks' && eks)
    return { push, plan, target, eks: { ...eks, images: [] }, image: { container } };
  if (!deploy) throw new InputErrors(errors);
  return { push, plan, target: 'ecs', deploy };
}
