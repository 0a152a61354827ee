// The suite's published IAM policies (policies/*.json, shown in the README), as the tests use them:
// rendered for a scenario's account, region and resources, given to a local-aws key, and the op
// log read back for what that key was refused. local-aws evaluates the policy as IAM does, so an
// action run under its key fails on a permission its policy lacks.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LocalAws } from '@aws-containers/local-aws';

export const POLICIES_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'policies',
);

/** Which documents an action needs: `base` always, each feature's when its inputs ask for it. */
export const ACTION_POLICIES = {
  'ecr-push': {
    base: 'ecr-push',
    features: {
      'create-repository': 'ecr-push-create-repository',
      'update-repository-settings': 'ecr-push-update-repository-settings',
      'promote-from': 'ecr-push-promote',
      'skip-if-exists': 'ecr-push-skip-if-exists',
      'scan: wait': 'ecr-push-scan',
      'login-registries: public': 'ecr-push-login-public',
    },
  },
  'ecs-deploy-fargate': {
    base: 'ecs-deploy',
    features: {
      'create-service': 'ecs-deploy-create-service',
      'run-task-before-deploy': 'ecs-deploy-run-task',
      'keep-revisions': 'ecs-deploy-keep-revisions',
      preview: 'ecs-deploy-preview',
    },
    /** A preview's document holds all it needs: its services and families are the base's `-pr-*`. */
    replaces: { preview: 'ecs-deploy' },
  },
  'eks-rollout': {
    base: 'eks-rollout',
    features: {},
  },
  'aws-containers': {
    base: ['ecr-push', 'ecs-deploy'],
    features: {
      'create-repository': 'aws-containers-create-repository',
      'promote-from': 'ecr-push-promote',
      'fail-on-severity': 'ecr-push-scan',
      'create-service': 'ecs-deploy-create-service',
      'eks-cluster': 'eks-rollout',
    },
    /** A feature whose document takes a base document's place: eks-cluster deploys to EKS, not ECS. */
    replaces: { 'eks-cluster': 'ecs-deploy' },
  },
} as const satisfies Record<
  string,
  {
    base: string | readonly string[];
    features: Record<string, string>;
    replaces?: Record<string, string>;
  }
>;

export type PolicyAction = keyof typeof ACTION_POLICIES;

/** The values of a policy's placeholders (`<region>`, `<repository>`, …). */
export interface PolicyValues {
  region: string;
  'account-id': string;
  repository?: string;
  'source-repository'?: string;
  cluster?: string;
  service?: string;
  family?: string;
  'task-role-arn'?: string;
  'execution-role-arn'?: string;
  /**
   * The principal the workflow deploys as (preflight asks IAM whether it may pass the roles); for
   * a role session, its role's ARN. keyWithPolicies fills it with the key's own user ARN.
   */
  'deploying-role-arn'?: string;
  /** preview-base-service: previews are `<base-service>-pr-<n>`. */
  'base-service'?: string;
  /** The name of the load balancer whose listener `listener-arn` is. */
  'load-balancer'?: string;
}

interface Statement {
  Sid?: string;
  [key: string]: unknown;
}
export interface PolicyDocument {
  Version: string;
  Statement: Statement[];
}

/** Every published document's name (its file name without .json), sorted. */
export function policyNames(): string[] {
  return readdirSync(POLICIES_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

export function readPolicy(name: string): PolicyDocument {
  return JSON.parse(readFileSync(path.join(POLICIES_DIR, `${name}.json`), 'utf8')) as PolicyDocument;
}

/** The documents an action needs for these features, base first, each once. */
export function policiesFor(action: PolicyAction, features: readonly string[] = []): string[] {
  const spec = ACTION_POLICIES[action];
  const featureDocs: Record<string, string> = spec.features;
  const replaces: Record<string, string> = 'replaces' in spec ? spec.replaces : {};
  let names = [spec.base].flat() as string[];
  for (const feature of features) {
    const doc = featureDocs[feature];
    if (!doc) throw new Error(`${action} has no policy for the feature ${JSON.stringify(feature)}`);
    const replaced = replaces[feature];
    if (replaced) names = names.filter((n) => n !== replaced);
    names.push(doc);
  }
  return [...new Set(names)];
}

/** The IAM actions a document names, lower-cased as IAM compares them, sorted. */
export function actionsNamed(doc: PolicyDocument): string[] {
  const named = doc.Statement.flatMap((s) => [s.Action ?? []].flat() as string[]);
  return [...new Set(named.map((a) => a.toLowerCase()))].sort();
}

/**
 * Fills a document's placeholders; one left unfilled is an error (a policy with `<cluster>` in an
 * ARN would allow nothing, and the test would blame the action).
 */
export function renderPolicy(name: string, values: PolicyValues): PolicyDocument {
  const text = readFileSync(path.join(POLICIES_DIR, `${name}.json`), 'utf8').replace(
    /<([a-z-]+)>/g,
    (whole, key: string) => {
      const value = (values as unknown as Record<string, string | undefined>)[key];
      if (value === undefined) throw new Error(`policies/${name}.json: no value for ${whole}`);
      return value;
    },
  );
  return JSON.parse(text) as PolicyDocument;
}

/** One document of several, as IAM would read them together (Sids made unique by document). */
export function mergePolicies(names: readonly string[], values: PolicyValues): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: names.flatMap((name) =>
      renderPolicy(name, values).Statement.map((s) => ({
        ...s,
        ...(s.Sid ? { Sid: `${name.replace(/[^A-Za-z0-9]/g, '')}${s.Sid}` } : {}),
      })),
    ),
  };
}

let keys = 0;

/**
 * A new local-aws key held to exactly these documents; returns it with the env that selects it.
 * `<deploying-role-arn>`, when not given, is the key's own principal: local-aws's keys are users
 * `arn:aws:iam::<account>:user/<access key id>`.
 */
export function keyWithPolicies(
  aws: LocalAws,
  names: readonly string[],
  values: Partial<PolicyValues> = {},
): { accessKeyId: string; env: Record<string, string> } {
  const accessKeyId = `AKIAPOLICY${String(++keys).padStart(10, '0')}`;
  const secretAccessKey = `policy-secret-${keys}`;
  const policy = mergePolicies(names, {
    region: aws.region,
    'account-id': aws.accountId,
    'deploying-role-arn': `arn:aws:iam::${aws.accountId}:user/${accessKeyId}`,
    ...values,
  });
  aws.identities.add({ accessKeyId, secretAccessKey, policy: JSON.stringify(policy) });
  return { accessKeyId, env: { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } };
}

const actionKeys = new WeakMap<
  LocalAws,
  Map<PolicyAction, { accessKeyId: string; env: Record<string, string> }>
>();

/**
 * The key (made once per local-aws) holding every document the action publishes, for any resource
 * of any account and region (names as `*`): the e2e suites run the action with it, so a permission
 * missing from a published policy fails them (with `refusedCalls` after each test).
 */
export function keyForAction(
  aws: LocalAws,
  action: PolicyAction,
): { accessKeyId: string; env: Record<string, string> } {
  const keys = actionKeys.get(aws) ?? new Map();
  actionKeys.set(aws, keys);
  const known = keys.get(action);
  if (known) return known;
  // Every document the action may need: its base ones too when a feature replaces one.
  const all = [
    ...new Set([
      ...[ACTION_POLICIES[action].base].flat(),
      ...policiesFor(action, Object.keys(ACTION_POLICIES[action].features)),
    ]),
  ];
  const role = 'arn:aws:iam::*:role/*';
  const made = keyWithPolicies(aws, all, {
    region: '*',
    'account-id': '*',
    repository: '*',
    'source-repository': '*',
    cluster: '*',
    service: '*',
    family: '*',
    'task-role-arn': role,
    'execution-role-arn': role,
    'deploying-role-arn': '*',
    'base-service': '*',
    'load-balancer': '*',
  });
  keys.set(action, made);
  return made;
}

/** What the keys of `keyForAction` on this local-aws were refused (empty when nothing). */
export function refusedCalls(aws: LocalAws): string[] {
  return [...(actionKeys.get(aws)?.entries() ?? [])].flatMap(([action, key]) =>
    refusals(aws, key.accessKeyId).map((r) => `${action}: ${r}`),
  );
}

/** The IAM questions a key was refused, as `action on resource` lines (empty when none). */
export function refusals(aws: LocalAws, accessKeyId: string): string[] {
  return aws.opLog
    .iamChecks({ accessKeyId })
    .filter((c) => !c.allowed)
    .map((c) => `${c.action} on ${c.resource} (${c.operation})`);
}
