// Preflight (issue 15): what can be read before the service changes, read before it changes. This
// file is the pure part: the questions a task definition raises (its images, secrets, roles and log
// groups), and the findings the answers make — each naming the container, the member and what to do.
import type { PreflightFinding, PreflightMode } from '@aws-containers/core';
import type { RenderedTaskDefinition } from './render.js';

export type { PreflightFinding, PreflightMode };

/** One thing preflight must read, with where it comes from in the task definition. */
export type PreflightQuestion =
  | { kind: 'image'; container: string; image: string }
  | { kind: 'secret'; container: string; member: string; valueFrom: string }
  | { kind: 'role'; member: 'taskRoleArn' | 'executionRoleArn'; roleArn: string }
  | {
      kind: 'log-group';
      container: string;
      group: string;
      region: string | undefined;
      createGroup: boolean;
    };

/** Every question a task definition raises (pure), duplicates kept apart by where they come from. */
export function preflightQuestions(td: RenderedTaskDefinition): PreflightQuestion[] {
  const questions: PreflightQuestion[] = [];
  for (const c of td.containerDefinitions) {
    const container = c.name ?? '(unnamed)';
    if (c.image) questions.push({ kind: 'image', container, image: c.image });
    for (const [i, s] of (c.secrets ?? []).entries()) {
      if (s.valueFrom) {
        questions.push({
          kind: 'secret',
          container,
          member: `secrets[${i}] (${s.name ?? '?'})`,
          valueFrom: s.valueFrom,
        });
      }
    }
    const credentials = c.repositoryCredentials?.credentialsParameter;
    if (credentials) {
      questions.push({
        kind: 'secret',
        container,
        member: 'repositoryCredentials.credentialsParameter',
        valueFrom: credentials,
      });
    }
    const log = c.logConfiguration;
    const group = log?.options?.['awslogs-group'];
    if (log?.logDriver === 'awslogs' && group) {
      questions.push({
        kind: 'log-group',
        container,
        group,
        region: log.options?.['awslogs-region'],
        createGroup: log.options?.['awslogs-create-group'] === 'true',
      });
    }
  }
  if (td.taskRoleArn) questions.push({ kind: 'role', member: 'taskRoleArn', roleArn: td.taskRoleArn });
  if (td.executionRoleArn) {
    questions.push({ kind: 'role', member: 'executionRoleArn', roleArn: td.executionRoleArn });
  }
  return questions;
}

/** A trust policy trusts ECS tasks when an Allow statement names ecs-tasks.amazonaws.com for sts:AssumeRole (pure). */
export function trustsEcsTasks(trustPolicy: string | undefined): boolean {
  if (!trustPolicy) return false;
  let doc: { Statement?: unknown };
  try {
    doc = JSON.parse(decodeURIComponent(trustPolicy)) as { Statement?: unknown };
  } catch {
    return false;
  }
  const statements = (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]) as Array<
    Record<string, unknown> | undefined
  >;
  return statements.some((s) => {
    if (s?.Effect !== 'Allow') return false;
    const actions = [s.Action].flat();
    if (!actions.some((a) => a === 'sts:AssumeRole' || a === 'sts:*' || a === '*')) return false;
    const service = (s.Principal as { Service?: unknown } | undefined)?.Service;
    return [service].flat().includes('ecs-tasks.amazonaws.com');
  });
}

/** What a secret's valueFrom names, as ECS reads it (pure); undefined for neither form. */
export type SecretReference =
  | {
      service: 'secretsmanager';
      secretId: string;
      region: string;
      jsonKey?: string;
      versionStage?: string;
      versionId?: string;
    }
  | { service: 'ssm'; name: string; region: string | undefined; arn?: string };

export function parseSecretReference(valueFrom: string): SecretReference | undefined {
  const sm =
    /^(arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):\d{12}:secret:[^:]+)(?::([^:]*):([^:]*):([^:]*))?$/.exec(
      valueFrom,
    );
  if (sm) {
    return {
      service: 'secretsmanager',
      secretId: sm[1]!,
      region: sm[2]!,
      ...(sm[3] ? { jsonKey: sm[3] } : {}),
      ...(sm[4] ? { versionStage: sm[4] } : {}),
      ...(sm[5] ? { versionId: sm[5] } : {}),
    };
  }
  const ssm = /^arn:aws[a-z-]*:ssm:([a-z0-9-]+):\d{12}:parameter(\/.+)$/.exec(valueFrom);
  if (ssm) return { service: 'ssm', name: ssm[2]!, region: ssm[1]!, arn: valueFrom };
  if (/^[A-Za-z0-9_.\-/]{1,2048}$/.test(valueFrom))
    return { service: 'ssm', name: valueFrom, region: undefined };
  return undefined;
}
