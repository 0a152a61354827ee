// What ECS's agent does for a task before its containers start, and what the awslogs driver does
// while they run: it reads the containers' secrets and registry credentials with the task's
// execution role (Secrets Manager, SSM Parameter Store, KMS), and creates (or checks) each awslogs
// container's log stream; a failure stops the task with stopCode TaskFailedToStart and the
// agent's ResourceInitializationError. Then each container's output goes to its stream
// `<awslogs-stream-prefix>/<container>/<task id>` in `awslogs-group` of `awslogs-region`.
//
// Only roles that exist in local-aws's IAM are evaluated: an execution role local-aws has no role
// for is taken as allowed (the README says why).
import type { LogsAdmin } from '../logs/index.js';
import { logGroupArn, logStreamArn } from '../logs/index.js';
import type { Decision, AuthorizationRequest } from '../platform/iam-policy.js';
import { accessDeniedMessage } from '../platform/iam-policy.js';
import type { RequestFacts } from '../platform/access.js';
import { parseValueFrom, type SecretResolver, type SecretValueFrom } from '../secret-references.js';
import type { EcsRegion, TaskState } from './model.js';

/** The part of AccessControl the agent's checks use. */
export interface RoleEvaluator {
  evaluateRole(
    roleArn: string,
    request: AuthorizationRequest,
    facts: RequestFacts,
  ): Decision | 'no-such-role';
}

export interface TaskInitDeps {
  access?: RoleEvaluator;
  /** Resolves secrets' valueFrom in Secrets Manager / SSM (absent: every secret exists). */
  secrets?: SecretResolver;
  /** CloudWatch Logs (absent: the awslogs driver is not simulated). */
  logs?: Pick<LogsAdmin, 'hasGroup' | 'createGroup' | 'createStream' | 'append'>;
}

/** The hooks the simulation calls (sim.ts). */
export interface TaskRuntime {
  /** The stoppedReason of a task that fails at this stage, or undefined. */
  initFailure(
    region: EcsRegion,
    task: TaskState,
    body: Record<string, unknown>,
    stage: 'secrets' | 'logging',
  ): string | undefined;
  /** A line a container writes (to its awslogs stream, when it has one). */
  write(
    region: EcsRegion,
    task: TaskState,
    body: Record<string, unknown>,
    container: string,
    text: string,
  ): void;
}

type Container = Record<string, unknown>;

const RETRIEVAL =
  'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed';
const LOGGER =
  'ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times';

/** The awslogs options of a container, or undefined when it uses another driver (or none). */
function awslogsOf(
  c: Container,
  region: EcsRegion,
  taskId: string,
): { group: string; region: string; stream: string; createGroup: boolean } | undefined {
  const lc = c.logConfiguration as { logDriver?: string; options?: Record<string, string> } | undefined;
  if (lc?.logDriver !== 'awslogs') return undefined;
  const o = lc.options ?? {};
  const group = o['awslogs-group'];
  if (!group) return undefined;
  const prefix = o['awslogs-stream-prefix'];
  return {
    group,
    region: o['awslogs-region'] || region.region,
    stream: prefix ? `${prefix}/${String(c.name)}/${taskId}` : taskId,
    createGroup: (o['awslogs-create-group'] ?? '').toLowerCase() === 'true',
  };
}

function parameterArn(ref: Extract<SecretValueFrom, { service: 'ssm' }>): string {
  return `arn:aws:ssm:${ref.region}:${ref.accountId}:parameter${ref.name.startsWith('/') ? '' : '/'}${ref.name}`;
}

function keyArn(keyId: string, region: string, accountId: string): string {
  return keyId.startsWith('arn:') ? keyId : `arn:aws:kms:${region}:${accountId}:key/${keyId}`;
}

export function createTaskRuntime(deps: TaskInitDeps, now: () => number): TaskRuntime {
  /** The AccessDenied text for the execution role, or undefined when it may (or is not in IAM). */
  const denied = (
    region: EcsRegion,
    task: TaskState,
    role: string | undefined,
    request: AuthorizationRequest,
  ) => {
    if (!role || !deps.access) return undefined;
    const facts: RequestFacts = { region: region.region, secure: true, now: now() };
    const decision = deps.access.evaluateRole(role, request, facts);
    if (decision === 'allow' || decision === 'no-such-role') return undefined;
    const roleName = role.slice(role.lastIndexOf('/') + 1);
    const session = `arn:aws:sts::${region.accountId}:assumed-role/${roleName}/${task.id}`;
    return `AccessDeniedException: ${accessDeniedMessage(session, request, decision)}`;
  };

  const roleOf = (task: TaskState, body: Record<string, unknown>): string | undefined => {
    const override = task.overrides.executionRoleArn;
    const role = typeof override === 'string' && override !== '' ? override : body.executionRoleArn;
    return typeof role === 'string' && role !== '' ? role : undefined;
  };

  const containersOf = (body: Record<string, unknown>) =>
    (body.containerDefinitions as Container[] | undefined) ?? [];

  function secretFailure(
    region: EcsRegion,
    task: TaskState,
    body: Record<string, unknown>,
  ): string | undefined {
    const role = roleOf(task, body);
    const valueFroms: string[] = [];
    for (const c of containersOf(body)) {
      for (const s of (c.secrets as Array<{ valueFrom?: unknown }> | undefined) ?? [])
        if (typeof s.valueFrom === 'string') valueFroms.push(s.valueFrom);
      const rc = c.repositoryCredentials as { credentialsParameter?: unknown } | undefined;
      if (typeof rc?.credentialsParameter === 'string') valueFroms.push(rc.credentialsParameter);
    }
    for (const valueFrom of valueFroms) {
      const ref = parseValueFrom(valueFrom, region.accountId, region.region);
      if (!ref)
        return `${RETRIEVAL}: unable to retrieve secrets from ssm: service call has been retried 1 time(s): invalid parameters: ${valueFrom}`;
      const resolved = deps.secrets?.(ref);
      if (ref.service === 'secretsmanager') {
        const arn = resolved?.arn ?? ref.secretArn;
        const fail = (error: string) =>
          `${RETRIEVAL}: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret ${ref.secretArn} from secrets manager: ${error}`;
        const noRead = denied(region, task, role, { action: 'secretsmanager:GetSecretValue', resource: arn });
        if (noRead) return fail(noRead);
        if (resolved?.missing !== undefined) return fail(resolved.missing);
        if (resolved?.kmsKeyId) {
          const noKey = denied(region, task, role, {
            action: 'kms:Decrypt',
            resource: keyArn(resolved.kmsKeyId, ref.region, ref.accountId),
          });
          if (noKey) return fail(noKey);
        }
      } else {
        const arn = resolved?.arn ?? parameterArn(ref);
        const fail = (error: string) =>
          `${RETRIEVAL}: unable to retrieve secrets from ssm: service call has been retried 1 time(s): ${error}`;
        const noRead = denied(region, task, role, { action: 'ssm:GetParameters', resource: arn });
        if (noRead) return fail(noRead);
        if (resolved?.missing !== undefined) return fail(resolved.missing);
        if (resolved?.kmsKeyId) {
          const noKey = denied(region, task, role, {
            action: 'kms:Decrypt',
            resource: keyArn(resolved.kmsKeyId, ref.region, ref.accountId),
          });
          if (noKey) return fail(noKey);
        }
      }
    }
    return undefined;
  }

  function loggingFailure(
    region: EcsRegion,
    task: TaskState,
    body: Record<string, unknown>,
  ): string | undefined {
    const logs = deps.logs;
    if (!logs) return undefined;
    const role = roleOf(task, body);
    for (const c of containersOf(body)) {
      const al = awslogsOf(c, region, task.id);
      if (!al) continue;
      const where = { accountId: region.accountId, region: al.region, group: al.group };
      const streamArn = logStreamArn(al.region, region.accountId, al.group, al.stream);
      const streamError = (error: string) => `${LOGGER}: failed to create Cloudwatch log stream: ${error}`;
      // The driver creates its stream; the group missing, it creates the group (if told) and retries.
      const noStream = denied(region, task, role, { action: 'logs:CreateLogStream', resource: streamArn });
      if (noStream) return streamError(noStream);
      if (!logs.hasGroup(where)) {
        if (!al.createGroup)
          return streamError('ResourceNotFoundException: The specified log group does not exist.');
        const noGroup = denied(region, task, role, {
          action: 'logs:CreateLogGroup',
          resource: `${logGroupArn(al.region, region.accountId, al.group)}:log-stream:`,
        });
        if (noGroup) return `${LOGGER}: failed to create Cloudwatch log group: ${noGroup}`;
        logs.createGroup(where);
      }
      const noPut = denied(region, task, role, { action: 'logs:PutLogEvents', resource: streamArn });
      if (noPut) return streamError(noPut);
      logs.createStream({ ...where, stream: al.stream });
    }
    return undefined;
  }

  return {
    initFailure: (region, task, body, stage) =>
      stage === 'secrets' ? secretFailure(region, task, body) : loggingFailure(region, task, body),
    write(region, task, body, container, text) {
      const logs = deps.logs;
      if (!logs) return;
      const c = containersOf(body).find((x) => String(x.name) === container);
      const al = c && awslogsOf(c, region, task.id);
      if (!al) return;
      const where = { accountId: region.accountId, region: al.region, group: al.group };
      // A stream whose group was deleted meanwhile: the driver's writes are lost.
      if (!logs.hasGroup(where)) return;
      logs.append({ ...where, stream: al.stream }, [{ timestamp: now(), message: text }]);
    },
  };
}
