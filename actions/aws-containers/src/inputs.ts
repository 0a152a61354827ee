// The root action's inputs are ecr-push's and ecs-deploy's own, under the same names, meanings and
// defaults: each part's typed Inputs come from that action's getInputs(), reading through an
// InputReader that sees only the names the root action hands that part. Every problem of both
// parts, and of the push plan (tags, the files a source names), is reported in one error before
// any AWS call.
import {
  InputErrors,
  InputReader,
  inputEnvName,
  type Env,
  type GitHubContext,
  type InputError,
} from '@aws-containers/core';
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
  'max-attempts',
] as const;

export interface Inputs {
  push: PushInputs;
  /** The tags and the source with its paths resolved, as ecr-push plans them. */
  plan: PushPlan;
  /** `image` is unset: the deploy gets the pushed image by digest. */
  deploy: DeployInputs;
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
  const push = part(() => getPushInputs(new InputReader(partEnv(env, PUSH_INPUTS))));
  const deploy = part(() => getDeployInputs(new InputReader(partEnv(env, DEPLOY_INPUTS))));
  // Planned even when the deploy's inputs are bad: a missing layout is reported with them.
  const plan = push && part(() => planPush(push, context, now));
  if (!push || !deploy || !plan) {
    // region and max-attempts are read by both parts: a bad one is one problem, said once.
    throw new InputErrors(errors.filter((e, i) => errors.findIndex((o) => o.message === e.message) === i));
  }
  return { push, plan, deploy };
}
