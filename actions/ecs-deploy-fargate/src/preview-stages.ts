// The effects of a PR preview (issue 14): read the base service, make the preview's routing, deploy
// the preview service through the ordinary deploy, find its URL; and tear it all down in order
// (service, rule, target group, revisions). Every call carries the step's signal.
import {
  DeleteServiceCommand,
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  UpdateServiceCommand,
  type ECSClient,
  type Service,
} from '@aws-sdk/client-ecs';
import {
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DeleteRuleCommand,
  DeleteTargetGroupCommand,
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  ModifyTargetGroupAttributesCommand,
  type ElasticLoadBalancingV2Client,
  type Rule,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeNetworkInterfacesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { ActionError, waitFor } from '@aws-containers/core';
import { nextPriority, type PreviewNames } from './preview.js';

export interface PreviewClients {
  ecs: ECSClient;
  elbv2: ElasticLoadBalancingV2Client;
  ec2: EC2Client;
  signal: AbortSignal;
  log: (text: string) => void;
}

/** What a preview copies from its base service. */
export interface PreviewBase {
  service: Service;
  /** The base's task definition, as DescribeTaskDefinition gives it (with its tags). */
  taskDefinition: Record<string, unknown>;
  /** The base's first target group, when it has one: the preview's health check and port come from it. */
  targetGroup: TargetGroup | undefined;
  /** The container and port the base's load balancer sends to. */
  container: { name: string; port: number } | undefined;
}

const opts = (c: PreviewClients) => ({ abortSignal: c.signal });

export async function readBase(c: PreviewClients, cluster: string, name: string): Promise<PreviewBase> {
  const described = await c.ecs.send(new DescribeServicesCommand({ cluster, services: [name] }), opts(c));
  const service = described.services?.find((s) => s.status === 'ACTIVE');
  if (!service?.taskDefinition) {
    throw new ActionError(`The base service ${name} is not an ACTIVE service of cluster ${cluster}.`, {
      hint: 'preview-base-service names the service a preview copies: it must run in the same cluster.',
    });
  }
  const td = await c.ecs.send(
    new DescribeTaskDefinitionCommand({ taskDefinition: service.taskDefinition, include: ['TAGS'] }),
    opts(c),
  );
  const lb = service.loadBalancers?.find((l) => l.targetGroupArn);
  let targetGroup: TargetGroup | undefined;
  if (lb?.targetGroupArn) {
    const groups = await c.elbv2.send(
      new DescribeTargetGroupsCommand({ TargetGroupArns: [lb.targetGroupArn] }),
      opts(c),
    );
    targetGroup = groups.TargetGroups?.[0];
  }
  return {
    service,
    taskDefinition: { ...(td.taskDefinition as Record<string, unknown>), tags: td.tags ?? [] },
    targetGroup,
    container:
      lb?.containerName && lb.containerPort ? { name: lb.containerName, port: lb.containerPort } : undefined,
  };
}

/** The preview's service as ECS shows it now (ACTIVE or DRAINING), or undefined. */
export async function findPreviewService(
  c: PreviewClients,
  cluster: string,
  name: string,
): Promise<Service | undefined> {
  const described = await c.ecs.send(
    new DescribeServicesCommand({ cluster, services: [name], include: ['TAGS'] }),
    opts(c),
  );
  return described.services?.find((s) => s.status === 'ACTIVE' || s.status === 'DRAINING');
}

/** The preview's target group, made (or found: CreateTargetGroup returns one of the same name and settings). */
export async function ensureTargetGroup(
  c: PreviewClients,
  names: PreviewNames,
  base: PreviewBase,
  tags: Record<string, string>,
): Promise<TargetGroup> {
  const from = base.targetGroup;
  if (!from?.VpcId || !base.container) {
    throw new ActionError(
      `The base service ${base.service.serviceName} has no target group: preview-routing alb copies its health check and port.`,
      { hint: 'Use preview-routing: public-ip or none for a service without a load balancer.' },
    );
  }
  const created = await c.elbv2.send(
    new CreateTargetGroupCommand({
      Name: names.targetGroup,
      Protocol: from.Protocol ?? 'HTTP',
      Port: base.container.port,
      VpcId: from.VpcId,
      TargetType: 'ip',
      HealthCheckProtocol: from.HealthCheckProtocol,
      HealthCheckPath: from.HealthCheckPath,
      HealthCheckPort: from.HealthCheckPort,
      HealthCheckIntervalSeconds: from.HealthCheckIntervalSeconds,
      HealthCheckTimeoutSeconds: from.HealthCheckTimeoutSeconds,
      HealthyThresholdCount: from.HealthyThresholdCount,
      UnhealthyThresholdCount: from.UnhealthyThresholdCount,
      Matcher: from.Matcher,
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    }),
    opts(c),
  );
  const group = created.TargetGroups?.[0];
  if (!group?.TargetGroupArn)
    throw new ActionError(`CreateTargetGroup returned no target group ${names.targetGroup}.`);
  // A preview's targets go quickly: the default 300 s would hold every redeploy and teardown.
  await c.elbv2.send(
    new ModifyTargetGroupAttributesCommand({
      TargetGroupArn: group.TargetGroupArn,
      Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '10' }],
    }),
    opts(c),
  );
  return group;
}

const hostOf = (rule: Rule): string[] =>
  (rule.Conditions ?? []).flatMap((cond) =>
    cond.Field === 'host-header' ? (cond.HostHeaderConfig?.Values ?? cond.Values ?? []) : [],
  );

async function listenerRules(c: PreviewClients, listenerArn: string): Promise<Rule[]> {
  const rules: Rule[] = [];
  let marker: string | undefined;
  do {
    const page = await c.elbv2.send(
      new DescribeRulesCommand({ ListenerArn: listenerArn, Marker: marker }),
      opts(c),
    );
    rules.push(...(page.Rules ?? []));
    marker = page.NextMarker;
  } while (marker);
  return rules;
}

/**
 * The host rule of the preview on the listener: kept when it exists, else created at the hashed
 * priority, moved to the next free one (after re-reading the rules) while another preview holds
 * it. Returns the rule and whether it was created.
 */
export async function ensureHostRule(
  c: PreviewClients,
  listenerArn: string,
  names: PreviewNames,
  targetGroupArn: string,
  tags: Record<string, string>,
): Promise<{ rule: Rule; created: boolean; tries: number }> {
  const host = names.host as string;
  let priority = names.priority;
  for (let tries = 1; ; tries++) {
    const rules = await listenerRules(c, listenerArn);
    const mine = rules.find((r) => hostOf(r).includes(host));
    if (mine) return { rule: mine, created: false, tries };
    const inUse = new Set(rules.map((r) => Number(r.Priority)).filter(Number.isFinite));
    const free = nextPriority(priority, inUse);
    if (free === undefined)
      throw new ActionError(`Listener ${listenerArn} has no free preview priority (40000–49999).`);
    try {
      const created = await c.elbv2.send(
        new CreateRuleCommand({
          ListenerArn: listenerArn,
          Priority: free,
          Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: [host] } }],
          Actions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }],
          Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
        }),
        opts(c),
      );
      return { rule: created.Rules![0]!, created: true, tries };
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      // Another preview took the slot between our read and our write: read again, move on.
      if ((name !== 'PriorityInUseException' && name !== 'PriorityInUse') || tries >= 20) throw error;
      c.log(`priority ${free} was taken meanwhile; reading the rules again`);
      priority = free + 1;
    }
  }
}

/** `https://pr-<n>.<domain>` when the listener speaks HTTPS, else `http://…` (with a port other than 80). */
export async function albUrl(c: PreviewClients, listenerArn: string, host: string): Promise<string> {
  const listeners = await c.elbv2.send(
    new DescribeListenersCommand({ ListenerArns: [listenerArn] }),
    opts(c),
  );
  const l = listeners.Listeners?.[0];
  const https = l?.Protocol === 'HTTPS';
  const port = l?.Port;
  const standard = https ? port === 443 : port === 80;
  return `${https ? 'https' : 'http'}://${host}${port && !standard ? `:${port}` : ''}`;
}

/** The public IP of a running task of the service, read through its ENI, as `http://<ip>:<port>`. */
export async function publicIpUrl(
  c: PreviewClients,
  cluster: string,
  service: string,
  port: number | undefined,
): Promise<string | undefined> {
  const listed = await c.ecs.send(
    new ListTasksCommand({ cluster, serviceName: service, desiredStatus: 'RUNNING' }),
    opts(c),
  );
  if (!listed.taskArns?.length) return undefined;
  const tasks = await c.ecs.send(
    new DescribeTasksCommand({ cluster, tasks: listed.taskArns.slice(0, 1) }),
    opts(c),
  );
  const eni = tasks.tasks?.[0]?.attachments
    ?.find((a) => a.type === 'ElasticNetworkInterface')
    ?.details?.find((d) => d.name === 'networkInterfaceId')?.value;
  if (!eni) return undefined;
  const nis = await c.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eni] }), opts(c));
  const ip = nis.NetworkInterfaces?.[0]?.Association?.PublicIp;
  return ip ? `http://${ip}${port && port !== 80 ? `:${port}` : ''}` : undefined;
}

/** One line per thing teardown found: removed, or already gone. */
export type TeardownLine = { what: string; state: 'removed' | 'already gone' | 'remains' };

/**
 * Tears a preview down in the order that leaves nothing in use: the service (scaled to 0, deleted,
 * followed to INACTIVE), then the rule (a target group in use by a rule cannot be deleted), the
 * target group, and the preview's task definition revisions. Each part that is already gone is
 * said to be; a second run finishes what a first left. Each line is added to `lines` as it is
 * known; when a part fails, it and the parts after it are added as `remains` and the error is
 * thrown, so the summary says what is left.
 */
export async function teardownPreview(
  c: PreviewClients,
  cluster: string,
  names: PreviewNames,
  listenerArn: string | undefined,
  timeoutMs: number,
  lines: TeardownLine[] = [],
): Promise<TeardownLine[]> {
  const parts = [
    `service ${names.service}`,
    ...(listenerArn && names.host ? [`rule ${names.host}`, `target group ${names.targetGroup}`] : []),
    `task definition revisions of ${names.family}`,
  ];
  const from = lines.length;
  try {
    return await teardownParts(c, cluster, names, listenerArn, timeoutMs, lines);
  } catch (error) {
    const done = new Set(lines.slice(from).map((l) => l.what));
    for (const what of parts) if (!done.has(what)) lines.push({ what, state: 'remains' });
    throw error;
  }
}

async function teardownParts(
  c: PreviewClients,
  cluster: string,
  names: PreviewNames,
  listenerArn: string | undefined,
  timeoutMs: number,
  lines: TeardownLine[],
): Promise<TeardownLine[]> {
  const service = await findPreviewService(c, cluster, names.service);
  if (service?.status === 'ACTIVE') {
    await c.ecs.send(new UpdateServiceCommand({ cluster, service: names.service, desiredCount: 0 }), opts(c));
    await c.ecs.send(new DeleteServiceCommand({ cluster, service: names.service, force: true }), opts(c));
  }
  if (service) {
    const gone = await waitFor({
      check: async () => (await findPreviewService(c, cluster, names.service))?.status ?? 'INACTIVE',
      until: (status) => status === 'INACTIVE',
      intervalMs: 2000,
      timeoutMs,
      signal: c.signal,
    });
    if (gone.status !== 'done') {
      throw new ActionError(
        `Service ${names.service} did not become INACTIVE within the timeout (it is deleting).`,
        {
          hint: 'Run the teardown again: it finishes what is left.',
        },
      );
    }
    lines.push({ what: `service ${names.service}`, state: 'removed' });
  } else lines.push({ what: `service ${names.service}`, state: 'already gone' });

  if (listenerArn && names.host) {
    const rule = (await listenerRules(c, listenerArn)).find((r) => hostOf(r).includes(names.host!));
    if (rule?.RuleArn) {
      await c.elbv2.send(new DeleteRuleCommand({ RuleArn: rule.RuleArn }), opts(c));
      lines.push({ what: `rule ${names.host}`, state: 'removed' });
    } else lines.push({ what: `rule ${names.host}`, state: 'already gone' });
    const group = await c.elbv2
      .send(new DescribeTargetGroupsCommand({ Names: [names.targetGroup] }), opts(c))
      .then((r) => r.TargetGroups?.[0])
      .catch((error: unknown) => {
        if (error instanceof Error && /TargetGroupNotFound/.test(error.name)) return undefined;
        throw error;
      });
    if (group?.TargetGroupArn) {
      await c.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: group.TargetGroupArn }), opts(c));
      lines.push({ what: `target group ${names.targetGroup}`, state: 'removed' });
    } else lines.push({ what: `target group ${names.targetGroup}`, state: 'already gone' });
  }

  const revisions: string[] = [];
  for (const status of ['ACTIVE', 'INACTIVE'] as const) {
    let nextToken: string | undefined;
    do {
      const page = await c.ecs.send(
        new ListTaskDefinitionsCommand({ familyPrefix: names.family, status, nextToken }),
        opts(c),
      );
      // familyPrefix matches web-pr-1 and web-pr-12: keep this family's own.
      revisions.push(
        ...(page.taskDefinitionArns ?? []).filter((arn) =>
          arn.split('/').pop()?.startsWith(`${names.family}:`),
        ),
      );
      nextToken = page.nextToken;
    } while (nextToken);
  }
  for (const arn of revisions) {
    await c.ecs
      .send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn }), opts(c))
      .catch(() => undefined);
  }
  for (let i = 0; i < revisions.length; i += 10) {
    await c.ecs.send(
      new DeleteTaskDefinitionsCommand({ taskDefinitions: revisions.slice(i, i + 10) }),
      opts(c),
    );
  }
  lines.push({
    what: `task definition revisions of ${names.family}`,
    state: revisions.length > 0 ? 'removed' : 'already gone',
  });
  return lines;
}
