// The one-step release: every input of both parts checked, then ecr-push's stages (read the source,
// log in, ensure the repository, push, scan gate), then ecs-deploy's (plan, register, deploy,
// follow, roll back) with the image set to the digest just pushed, all in this process. The
// outputs are both actions' own; the job summary covers both parts and is written on every exit
// path. A failed push never deploys.
import {
  FailureReported,
  InputErrors,
  formatError,
  getGitHubContext,
  info,
  type RunContext,
} from '@aws-containers/core';
import { runPush } from '../../ecr-push/src/main.js';
import { deploy, writeOutputs as writeDeployOutputs } from '../../ecs-deploy-fargate/src/main.js';
import { getInputs } from './inputs.js';
import { buildSummary, emptyReport } from './summary.js';

export { post } from '../../ecr-push/src/main.js';

export async function main({ signal }: RunContext): Promise<void> {
  const report = emptyReport();
  try {
    const inputs = getInputs(getGitHubContext(), new Date());
    report.repository = inputs.push.repository;
    report.cluster = inputs.deploy.cluster;
    report.services = inputs.deploy.services;
    report.push.repository = inputs.push.repository;
    report.push.scanAsked = inputs.push.scan === 'wait';

    report.part = 'push';
    const pushed = await runPush(inputs.push, inputs.plan, report.push, signal);

    // By digest: a tag moved by another run between the push and the deploy cannot change what runs.
    const image = `${pushed.repositoryUri}@${pushed.digest}`;
    report.image = image;
    report.part = 'deploy';
    info(`Deploying ${image}`);
    await deploy({ ...inputs.deploy, image }, report.deploy, signal);
  } catch (err) {
    const said = formatError(signal.aborted ? signal.reason : err);
    if (report.part === 'inputs') {
      report.inputErrors = err instanceof InputErrors ? err.errors.map((e) => e.message) : [said];
    } else if (report.part === 'push') {
      report.push.error = said;
    } else if (!(err instanceof FailureReported)) {
      // A failed rollout was reported as it happened; anything else ended the deploy early.
      report.deploy.stoppedBy = said;
    }
    throw err;
  } finally {
    if (report.part === 'deploy') writeDeployOutputs(report.deploy);
    await buildSummary(report).write();
  }
}
