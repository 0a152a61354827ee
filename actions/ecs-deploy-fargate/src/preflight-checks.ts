// Preflight's reads (issue 15): each question of preflight.ts answered from AWS in parallel —
// ECR DescribeImages, Secrets Manager DescribeSecret, SSM GetParameters, IAM GetRole and
// SimulatePrincipalPolicy (IAM's own answer to "may this role do that", with its managed
// policies, boundaries and conditions: nothing here re-implements IAM), CloudWatch Logs
// DescribeLogGroups. A read preflight is not allowed to make is a finding `unchecked`, never a stop.
import { DescribeLogGroupsCommand, type CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { ECRClient } from '@aws-sdk/client-ecr';
import { GetRoleCommand, SimulatePrincipalPolicyCommand, type IAMClient } from '@aws-sdk/client-iam';
import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParametersCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { checkEcrImages, ecrImageDescriber, ecrImageQuery } from '@aws-containers/core';
import {
  parseSecretReference,
  preflightQuestions,
  trustsEcsTasks,
  type PreflightFinding,
  type PreflightQuestion,
} from './preflight.js';
import type { RenderedTaskDefinition } from './render.js';

export interface PreflightClients {
  ecr: (region: string) => ECRClient;
  secretsManager: (region: string) => SecretsManagerClient;
  ssm: (region: string) => SSMClient;
  logs: (region: string) => CloudWatchLogsClient;
  iam: IAMClient;
  sts: STSClient;
  signal: AbortSignal;
}

const errorName = (error: unknown) => (error instanceof Error ? error.name : '');
const errorText = (error: unknown) =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);
const DENIED = /AccessDenied|UnauthorizedOperation|NotAuthorized/;

/** What IAM decides for `principal` doing `action` on `resource` (SimulatePrincipalPolicy). */
async function simulate(
  c: PreflightClients,
  principal: string,
  action: string,
  resource: string,
  context: Record<string, string> = {},
): Promise<string | undefined> {
  const answer = await c.iam.send(
    new SimulatePrincipalPolicyCommand({
      PolicySourceArn: principal,
      ActionNames: [action],
      ResourceArns: [resource],
      ContextEntries: Object.entries(context).map(([ContextKeyName, value]) => ({
        ContextKeyName,
        ContextKeyValues: [value],
        ContextKeyType: 'string',
      })),
    }),
    { abortSignal: c.signal },
  );
  return answer.EvaluationResults?.[0]?.EvalDecision;
}

/** A finding for a read preflight may not make, or that failed: never a stop. */
function unchecked(where: string, what: string, error: unknown): PreflightFinding {
  return {
    where,
    problem: `not checked: ${what} could not be read (${errorText(error)})`,
    fix: DENIED.test(errorName(error))
      ? 'give the deploying role the read permissions of policies/ecs-deploy.json (preflight)'
      : 'check it by hand, or run again',
    severity: 'unchecked',
  };
}

/** The role the caller acts as, for iam:PassRole (an assumed-role session is its role). */
async function callerPrincipal(c: PreflightClients): Promise<string> {
  const who = await c.sts.send(new GetCallerIdentityCommand({}), { abortSignal: c.signal });
  const arn = who.Arn ?? '';
  const session = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\//.exec(arn);
  if (!session) return arn;
  const role = await c.iam.send(new GetRoleCommand({ RoleName: session[3] }), { abortSignal: c.signal });
  return role.Role?.Arn ?? `arn:${session[1]}:iam::${session[2]}:role/${session[3]}`;
}

/**
 * Every finding for the task definition about to be registered, in the order of its questions.
 * `region` and `accountId` place what the task definition names without them (a parameter name,
 * a log group without awslogs-region).
 */
export async function runPreflight(
  c: PreflightClients,
  td: RenderedTaskDefinition,
  place: { region: string; accountId: string; partition: string },
): Promise<PreflightFinding[]> {
  const questions = preflightQuestions(td);
  const executionRole = td.executionRoleArn;
  // Asked once, and only when a role is to be passed.
  let caller: Promise<string | { error: unknown }> | undefined;
  const callerOnce = () => (caller ??= callerPrincipal(c).catch((error: unknown) => ({ error })));
  const roleMay = async (
    where: string,
    action: string,
    resource: string,
    why: string,
  ): Promise<PreflightFinding[]> => {
    if (!executionRole) return [];
    try {
      const decision = await simulate(c, executionRole, action, resource);
      if (decision === 'allowed') return [];
      return [
        {
          where: `${where} (executionRoleArn)`,
          problem: `the execution role ${executionRole} may not ${action} on ${resource} (${decision ?? 'no answer'}): ${why}`,
          fix: `allow ${action} on ${resource} in a policy of that role`,
          severity: 'error',
        },
      ];
    } catch (error) {
      if (errorName(error) === 'NoSuchEntityException') return []; // the role finding says it
      return [unchecked(where, `whether the execution role may ${action}`, error)];
    }
  };

  const check = async (q: PreflightQuestion): Promise<PreflightFinding[]> => {
    switch (q.kind) {
      case 'image': {
        const where = `container ${q.container}, image`;
        const query = ecrImageQuery(q.image);
        if (!query) {
          return [
            {
              where,
              problem: `not checked: ${q.image} is not in a private ECR registry`,
              fix: 'make sure it is pushed and public, or its repositoryCredentials are set',
              severity: 'unchecked',
            },
          ];
        }
        const [found] = await checkEcrImages([q.image], ecrImageDescriber(c.ecr), c.signal);
        const findings: PreflightFinding[] = [];
        if (found?.state === 'missing') {
          findings.push({
            where,
            problem: `${q.image}: ${found.message}`,
            fix: 'push the image first, or correct its tag or digest (image/images inputs or the task definition)',
            severity: 'error',
          });
        } else if (found?.state === 'unchecked') {
          findings.push({
            where,
            problem: `${q.image}: ${found.message}`,
            fix: 'give the deploying role ecr:DescribeImages',
            severity: 'unchecked',
          });
        }
        const repository = `arn:${place.partition}:ecr:${query.region}:${query.registryId}:repository/${query.repositoryName}`;
        for (const action of ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer']) {
          findings.push(
            ...(await roleMay(where, action, repository, 'ECS pulls the image with the execution role')),
          );
        }
        findings.push(
          ...(await roleMay(
            where,
            'ecr:GetAuthorizationToken',
            '*',
            'ECS logs in to ECR with the execution role',
          )),
        );
        return findings;
      }
      case 'secret': {
        const where = `container ${q.container}, ${q.member}`;
        const ref = parseSecretReference(q.valueFrom);
        if (!ref) {
          return [
            {
              where,
              problem: `${q.valueFrom} is neither a Secrets Manager secret ARN nor an SSM parameter`,
              fix: 'give the secret ARN or the parameter name or ARN',
              severity: 'error',
            },
          ];
        }
        if (ref.service === 'secretsmanager') {
          try {
            const secret = await c
              .secretsManager(ref.region)
              .send(new DescribeSecretCommand({ SecretId: ref.secretId }), { abortSignal: c.signal });
            const findings: PreflightFinding[] = [];
            if (secret.DeletedDate) {
              findings.push({
                where,
                problem: `the secret ${secret.ARN ?? ref.secretId} is scheduled for deletion`,
                fix: 'restore it (RestoreSecret) or name another',
                severity: 'error',
              });
            }
            const stages = Object.values(secret.VersionIdsToStages ?? {}).flat();
            if (ref.versionStage && !stages.includes(ref.versionStage)) {
              findings.push({
                where,
                problem: `the secret has no version labelled ${ref.versionStage}`,
                fix: `use one of ${stages.join(', ') || 'its stages'}`,
                severity: 'error',
              });
            }
            if (ref.versionId && !(ref.versionId in (secret.VersionIdsToStages ?? {}))) {
              findings.push({
                where,
                problem: `the secret has no version ${ref.versionId}`,
                fix: 'name an existing version, or leave the version id empty',
                severity: 'error',
              });
            }
            const arn = secret.ARN ?? ref.secretId;
            findings.push(
              ...(await roleMay(
                where,
                'secretsmanager:GetSecretValue',
                arn,
                'ECS reads the secret with the execution role',
              )),
            );
            if (secret.KmsKeyId?.startsWith('arn:')) {
              findings.push(
                ...(await roleMay(
                  where,
                  'kms:Decrypt',
                  secret.KmsKeyId,
                  'the secret is encrypted with a customer managed key',
                )),
              );
            }
            return findings;
          } catch (error) {
            if (errorName(error) === 'ResourceNotFoundException') {
              return [
                {
                  where,
                  problem: `Secrets Manager has no secret ${ref.secretId}`,
                  fix: 'create it, or correct the ARN (the full ARN ends in a 6-character suffix)',
                  severity: 'error',
                },
              ];
            }
            return [unchecked(where, `the secret ${ref.secretId}`, error)];
          }
        }
        const region = ref.region ?? place.region;
        try {
          const answer = await c
            .ssm(region)
            .send(new GetParametersCommand({ Names: [ref.name] }), { abortSignal: c.signal });
          if ((answer.InvalidParameters ?? []).length > 0 || !answer.Parameters?.[0]) {
            return [
              {
                where,
                problem: `SSM Parameter Store has no parameter ${ref.name} in ${region}`,
                fix: 'create it (aws ssm put-parameter), or correct the name',
                severity: 'error',
              },
            ];
          }
          const arn =
            answer.Parameters[0].ARN ??
            ref.arn ??
            `arn:${place.partition}:ssm:${region}:${place.accountId}:parameter/${ref.name.replace(/^\//, '')}`;
          return roleMay(where, 'ssm:GetParameters', arn, 'ECS reads the parameter with the execution role');
        } catch (error) {
          return [unchecked(where, `the parameter ${ref.name}`, error)];
        }
      }
      case 'log-group': {
        const where = `container ${q.container}, logConfiguration awslogs-group`;
        const region = q.region ?? place.region;
        const groupArn = `arn:${place.partition}:logs:${region}:${place.accountId}:log-group:${q.group}`;
        try {
          const answer = await c
            .logs(region)
            .send(new DescribeLogGroupsCommand({ logGroupNamePrefix: q.group }), { abortSignal: c.signal });
          const exists = (answer.logGroups ?? []).some((g) => g.logGroupName === q.group);
          const findings: PreflightFinding[] = [];
          if (!exists && !q.createGroup) {
            findings.push({
              where,
              problem: `the log group ${q.group} does not exist in ${region}`,
              fix: 'create it, or set awslogs-create-group: "true" (the execution role then needs logs:CreateLogGroup)',
              severity: 'error',
            });
          }
          if (!exists && q.createGroup) {
            findings.push(
              ...(await roleMay(
                where,
                'logs:CreateLogGroup',
                `${groupArn}:*`,
                'awslogs-create-group makes the group with the execution role',
              )),
            );
          }
          for (const action of ['logs:CreateLogStream', 'logs:PutLogEvents']) {
            findings.push(
              ...(await roleMay(
                where,
                action,
                `${groupArn}:log-stream:*`,
                'the awslogs driver writes with the execution role',
              )),
            );
          }
          return findings;
        } catch (error) {
          return [unchecked(where, `the log group ${q.group}`, error)];
        }
      }
      case 'role': {
        const where = q.member;
        const name = /:role\/(?:.*\/)?([^/]+)$/.exec(q.roleArn)?.[1] ?? q.roleArn;
        try {
          const role = await c.iam.send(new GetRoleCommand({ RoleName: name }), { abortSignal: c.signal });
          const findings: PreflightFinding[] = [];
          if (!trustsEcsTasks(role.Role?.AssumeRolePolicyDocument)) {
            findings.push({
              where,
              problem: `the role ${q.roleArn} does not trust ecs-tasks.amazonaws.com`,
              fix: 'add a trust policy statement allowing sts:AssumeRole to the service ecs-tasks.amazonaws.com',
              severity: 'error',
            });
          }
          const principal = await callerOnce();
          if (typeof principal !== 'string') {
            findings.push(unchecked(where, 'who is deploying (sts:GetCallerIdentity)', principal.error));
          } else {
            try {
              const decision = await simulate(c, principal, 'iam:PassRole', q.roleArn, {
                'iam:PassedToService': 'ecs-tasks.amazonaws.com',
              });
              if (decision !== 'allowed') {
                findings.push({
                  where,
                  problem: `${principal} may not pass the role ${q.roleArn} to ECS (iam:PassRole: ${decision ?? 'no answer'})`,
                  fix: 'allow iam:PassRole on that role with iam:PassedToService ecs-tasks.amazonaws.com (policies/ecs-deploy.json)',
                  severity: 'error',
                });
              }
            } catch (error) {
              findings.push(
                unchecked(
                  where,
                  'whether the deploying role may pass it (iam:SimulatePrincipalPolicy)',
                  error,
                ),
              );
            }
          }
          return findings;
        } catch (error) {
          if (errorName(error) === 'NoSuchEntityException') {
            return [
              {
                where,
                problem: `the role ${q.roleArn} does not exist`,
                fix: 'create it, or correct the ARN',
                severity: 'error',
              },
            ];
          }
          return [unchecked(where, `the role ${q.roleArn}`, error)];
        }
      }
    }
  };
  return (await Promise.all(questions.map(check))).flat();
}
