// The suite's actions as users reference them, in one place for every test: the path after
// `<owner>/aws-containers` in `uses:`, the folder holding its action.yml (one metadata file per
// action, as github/codeql-action keeps `init/action.yml`), and the bundle its `runs.main` names.
import path from 'node:path';
import { repoRoot } from './action-runner.js';

export interface SuiteAction {
  /** `uses: <owner>/aws-containers/<ref>@v1`; '' for the root action. */
  readonly ref: string;
  /** The action.yml, relative to the repository root. */
  readonly actionYml: string;
  /** The folder under dist/ (and actions/ for its sources). */
  readonly bundle: string;
}

export const SUITE_ACTIONS: readonly SuiteAction[] = [
  { ref: '', actionYml: 'action.yml', bundle: 'aws-containers' },
  { ref: 'ecr-push', actionYml: 'ecr-push/action.yml', bundle: 'ecr-push' },
  { ref: 'ecs-deploy', actionYml: 'ecs-deploy/action.yml', bundle: 'ecs-deploy-fargate' },
  { ref: 'eks-rollout', actionYml: 'eks-rollout/action.yml', bundle: 'eks-rollout' },
];

/** The action a `uses:` value of this suite names (`acme/aws-containers/ecs-deploy@v1`), or undefined. */
export function suiteActionOf(uses: string): SuiteAction | undefined {
  const match = /^[^/@\s]+\/aws-containers(?:\/([^@]+))?@\S+$/.exec(uses.trim());
  if (!match) return undefined;
  return SUITE_ACTIONS.find((a) => a.ref === (match[1] ?? ''));
}

export function actionYmlPath(action: SuiteAction): string {
  return path.join(repoRoot, action.actionYml);
}
