// The one-step release: every input of both parts checked, then ecr-push's stages (read the source,
// log in, ensure the repository, push, scan gate), then the target's with the image set to the
// digest just pushed, all in this process: ecs-deploy's (plan, register, deploy, follow, roll
// back), or with `eks-cluster` eks-rollout's (connect, apply or set image, follow, diagnose,
// undo). The outputs are the parts' own; the job summary covers both parts and is written on
// every exit path. A failed push never deploys.
import {
  FailureReported,
  InputErrors,
  formatError,
  getGitHubContext,
  logApiCalls,
  info,
  type RunContext,
} from '@aws-containers/core';
import { runPush } from '../../ecr-push/src/main.js';
import { deploy, writeOutputs as writeDeployOutputs } from '../../ecs-deploy-fargate/src/main.js';
import { rollout } from '../../eks-rollout/src/main.js';
import { writeOutputs as writeEksOutputs } from '../../eks-rollout/src/summary.js';
import { eksImages, getInputs } from './inputs.js';
import { buildSummary, emptyReport } from './summary.js';

export { post } from '../../ecr-push/src/main.js';

export async function main({ signal }: RunContext): Promise<void> {
  const report = emptyReport();
  try {
    const inputs = getInputs(getGitHubContext(), new Date());
    report.repository = inputs.push.repository;
    report.target = inputs.target;
    if (inputs.target === 'ecs') {
      report.cluster = inputs.deploy.cluster;
      report.services = inputs.deploy.services;
    } else {
      report.cluster = inputs.eks.cluster;
      report.services = inputs.eks.workloads.map((w) => `${w.kind}/${w.name}`);
    }
    report.push.repository = inputs.push.repository;
    report.push.scanAsked = inputs.push.scan === 'wait';

    report.part = 'push';
    const pushed = await runPush(inputs.push, inputs.plan, report.push, signal);

    // By digest: a tag moved by another run between the push and the deploy cannot change what runs.
    const image = `${pushed.repositoryUri}@${pushed.digest}`;
    report.image = image;
    if (inputs.target === 'ecs') {
      report.part = 'deploy';
      info(`Deploying ${image}`);
      await deploy({ ...inputs.deploy, image }, report.deploy, signal);
    } else {
      report.part = 'deploy';
      const images = eksImages(inputs.image, pushed.repositoryUri, image, inputs.eks.manifests);
      info(
        inputs.image.container
          ? `Deploying ${image} to container ${inputs.image.container} of ${inputs.eks.cluster}`
          : `Deploying ${image} in place of ${pushed.repositoryUri} in the manifests, to ${inputs.eks.cluster}`,
      );
      await rollout({ ...inputs.eks, images }, report.eks, signal);
    }
  } catch (err) {
    const said = formatError(signal.aborted ? signal.reason : err);
    if (report.part === 'inputs') {
      report.inputErrors = err instanceof InputErrors ? err.errors.map((e) => e.message) : [said];
    } else if (report.part === 'push') {
      report.push.error = said;
    } else if (report.target === 'eks') {
      if (signal.aborted) report.eks.cancelled = true;
      else if (!(err instanceof FailureReported)) report.eks.stoppedBy = said;
    } else if (!(err instanceof FailureReported)) {
      // A failed rollout was reported as it happened; anything else ended the deploy early.
      report.deploy.stoppedBy = said;
    }
    throw err;
  } finally {
    if (report.part === 'deploy') {
      if (report.target === 'eks') writeEksOutputs(report.eks);
      else writeDeployOutputs(report.deploy);
    }
    logApiCalls();
    await buildSummary(report).apiCalls().write();
  }
}
