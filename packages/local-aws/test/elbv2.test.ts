// ELBv2 for Application Load Balancers, judged by the AWS CLI v2 (its commands and waiters) and
// boto3, and compared with moto_server: the lifecycle of target groups, load balancers,
// listeners and rules, AWS's errors, tags and attributes, target health on a stepped clock
// (initial → healthy / unhealthy, draining → gone, unused), and the interface ECS will use.
import { jest } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalAws, type LocalAws, type LocalAwsOptions, type TargetHealthChange } from '../src/index.js';
import {
  awsCli,
  Boto3Judge,
  shape,
  startMoto,
  withBoto3,
  withCli,
  withMoto,
  type Boto3Target,
} from './helpers/query-judges.js';
import { signedRequest } from './helpers/signing.js';

jest.setTimeout(90_000);

let boto: Boto3Judge;
beforeAll(() => {
  boto = new Boto3Judge();
});
afterAll(() => boto?.close());

const target = (aws: LocalAws, region = 'us-east-1'): Boto3Target => ({
  endpoint: aws.endpoint,
  credentials: aws.credentials,
  region,
});
const elb = <T = Record<string, unknown>>(t: Boto3Target, op: string, params: object = {}) =>
  boto.call<T>(t, 'elbv2', op, params);

type TargetGroup = { TargetGroupArn: string; TargetGroupName: string; LoadBalancerArns: string[] };
type LoadBalancer = { LoadBalancerArn: string; DNSName: string; State: { Code: string }; VpcId: string };
type Rule = {
  RuleArn: string;
  Priority: string;
  IsDefault: boolean;
  Conditions: { Field: string; Values: string[] }[];
};
type Health = {
  Target: { Id: string; Port: number; AvailabilityZone?: string };
  TargetHealth: { State: string; Reason?: string; Description?: string };
};

/** The default VPC and two of its subnets, as EC2 describes them. */
async function network(t: Boto3Target) {
  const vpcs = await boto.call<{ Vpcs: { VpcId: string }[] }>(t, 'ec2', 'describe_vpcs');
  const subnets = await boto.call<{ Subnets: { SubnetId: string }[] }>(t, 'ec2', 'describe_subnets');
  return { vpcId: vpcs.Vpcs[0]!.VpcId, subnets: subnets.Subnets.slice(0, 2).map((s) => s.SubnetId) };
}

/** A target group (ip, HTTP, health checks every 10 s), an active load balancer and a listener forwarding to it. */
async function servedGroup(
  aws: LocalAws,
  options: { name?: string; attach?: boolean; healthy?: number; unhealthy?: number } = {},
) {
  const t = target(aws);
  const { vpcId, subnets } = await network(t);
  const tg = (
    await elb<{ TargetGroups: TargetGroup[] }>(t, 'create_target_group', {
      Name: options.name ?? 'web',
      Protocol: 'HTTP',
      Port: 8080,
      VpcId: vpcId,
      TargetType: 'ip',
      HealthCheckIntervalSeconds: 10,
      HealthyThresholdCount: options.healthy ?? 3,
      UnhealthyThresholdCount: options.unhealthy ?? 2,
    })
  ).TargetGroups[0]!.TargetGroupArn;
  if (options.attach === false) return { t, tg };
  const lb = (
    await elb<{ LoadBalancers: LoadBalancer[] }>(t, 'create_load_balancer', {
      Name: `${options.name ?? 'web'}-lb`,
      Subnets: subnets,
    })
  ).LoadBalancers[0]!.LoadBalancerArn;
  const listener = (
    await elb<{ Listeners: { ListenerArn: string }[] }>(t, 'create_listener', {
      LoadBalancerArn: lb,
      Protocol: 'HTTP',
      Port: 80,
      DefaultActions: [{ Type: 'forward', TargetGroupArn: tg }],
    })
  ).Listeners[0]!.ListenerArn;
  return { t, tg, lb, listener };
}

async function health(t: Boto3Target, tg: string, targets?: object[]): Promise<Health[]> {
  return (
    await elb<{ TargetHealthDescriptions: Health[] }>(t, 'describe_target_health', {
      TargetGroupArn: tg,
      ...(targets ? { Targets: targets } : {}),
    })
  ).TargetHealthDescriptions;
}

const stateOf = async (t: Boto3Target, tg: string) =>
  (await health(t, tg)).map((h) => [h.TargetHealth.State, h.TargetHealth.Reason ?? null]);

async function withServer(options: LocalAwsOptions, fn: (aws: LocalAws) => Promise<void>): Promise<void> {
  const aws = await startLocalAws({ steppedClock: true, ...options });
  try {
    await fn(aws);
  } finally {
    await aws.stop();
  }
}

// ---------------------------------------------------------------------------------------------

describe('the lifecycle through the AWS CLI v2', () => {
  withCli(
    'target group, load balancer, listener and rules: created, described, reordered, refused and deleted as ELBv2 does',
    async () => {
      await withServer({}, async (aws) => {
        const t = target(aws);
        const cli = async (...args: string[]) => {
          const answer = await awsCli(t, ['elbv2', ...args]);
          return answer;
        };
        const { vpcId, subnets } = await network(t);

        const tgOut = await cli(
          'create-target-group',
          '--name',
          'pr-7',
          '--protocol',
          'HTTP',
          '--port',
          '8080',
          '--vpc-id',
          vpcId,
          '--target-type',
          'ip',
          '--health-check-path',
          '/healthz',
        );
        expect(tgOut.code).toBe(0);
        const tg = (tgOut.json.TargetGroups as Record<string, unknown>[])[0]!;
        expect(tg).toMatchObject({
          TargetGroupName: 'pr-7',
          Protocol: 'HTTP',
          Port: 8080,
          VpcId: vpcId,
          TargetType: 'ip',
          HealthCheckPath: '/healthz',
          HealthCheckPort: 'traffic-port',
          HealthCheckIntervalSeconds: 30,
          HealthCheckTimeoutSeconds: 5,
          HealthyThresholdCount: 5,
          UnhealthyThresholdCount: 2,
          Matcher: { HttpCode: '200' },
          LoadBalancerArns: [],
        });
        const tgArn = tg.TargetGroupArn as string;
        expect(tgArn).toMatch(
          /^arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup\/pr-7\/[0-9a-f]{16}$/,
        );

        const lbOut = await cli('create-load-balancer', '--name', 'previews', '--subnets', ...subnets);
        const lb = (lbOut.json.LoadBalancers as LoadBalancer[])[0]!;
        expect(lb.DNSName).toMatch(/^previews-\d{9,10}\.us-east-1\.elb\.amazonaws\.com$/);
        expect(lb).toMatchObject({
          State: { Code: 'provisioning' },
          VpcId: vpcId,
          Scheme: 'internet-facing',
        });

        const listenerOut = await cli(
          'create-listener',
          '--load-balancer-arn',
          lb.LoadBalancerArn,
          '--protocol',
          'HTTP',
          '--port',
          '80',
          '--default-actions',
          'Type=fixed-response,FixedResponseConfig={StatusCode=404,ContentType=text/plain,MessageBody=no preview}',
        );
        const listenerArn = (listenerOut.json.Listeners as { ListenerArn: string }[])[0]!.ListenerArn;
        expect(listenerArn.startsWith(lb.LoadBalancerArn.replace(':loadbalancer/', ':listener/') + '/')).toBe(
          true,
        );

        const host = await cli(
          'create-rule',
          '--listener-arn',
          listenerArn,
          '--priority',
          '10',
          '--conditions',
          'Field=host-header,Values=pr-7.preview.example.com',
          '--actions',
          `Type=forward,TargetGroupArn=${tgArn}`,
        );
        expect(host.code).toBe(0);
        const path = await cli(
          'create-rule',
          '--listener-arn',
          listenerArn,
          '--priority',
          '20',
          '--conditions',
          'Field=path-pattern,Values=/pr-7/*',
          '--actions',
          `Type=forward,TargetGroupArn=${tgArn}`,
        );
        const [hostRule, pathRule] = [host, path].map((a) => (a.json.Rules as Rule[])[0]!);

        const taken = await cli(
          'create-rule',
          '--listener-arn',
          listenerArn,
          '--priority',
          '10',
          '--conditions',
          'Field=host-header,Values=pr-8.preview.example.com',
          '--actions',
          `Type=forward,TargetGroupArn=${tgArn}`,
        );
        expect(taken.code).toBe(254);
        expect(taken.stderr).toContain(
          "An error occurred (PriorityInUse) when calling the CreateRule operation: Priority '10' is currently in use",
        );

        // Swapping two priorities in one call is allowed: no conflict in the new order.
        const swapped = await cli(
          'set-rule-priorities',
          '--rule-priorities',
          `RuleArn=${hostRule!.RuleArn},Priority=20`,
          `RuleArn=${pathRule!.RuleArn},Priority=10`,
        );
        expect(swapped.code).toBe(0);
        const rules = (await cli('describe-rules', '--listener-arn', listenerArn)).json.Rules as Rule[];
        expect(rules.map((r) => [r.Priority, r.IsDefault, r.Conditions[0]?.Field ?? null])).toEqual([
          ['10', false, 'path-pattern'],
          ['20', false, 'host-header'],
          ['default', true, null],
        ]);

        const inUse = await cli('delete-target-group', '--target-group-arn', tgArn);
        expect(inUse.stderr).toContain(
          `An error occurred (ResourceInUse) when calling the DeleteTargetGroup operation: Target group '${tgArn}' is currently in use by a listener or a rule`,
        );
        await aws.clock.advance(30_000);
        const described = await cli('describe-target-groups', '--load-balancer-arn', lb.LoadBalancerArn);
        expect(described.json.TargetGroups).toEqual([
          expect.objectContaining({ TargetGroupArn: tgArn, LoadBalancerArns: [lb.LoadBalancerArn] }),
        ]);
        expect(
          (await cli('wait', 'load-balancer-available', '--load-balancer-arns', lb.LoadBalancerArn)).code,
        ).toBe(0);

        for (const r of [hostRule!, pathRule!]) await elb(t, 'delete_rule', { RuleArn: r.RuleArn });
        expect((await cli('delete-target-group', '--target-group-arn', tgArn)).code).toBe(0);
        expect((await cli('delete-load-balancer', '--load-balancer-arn', lb.LoadBalancerArn)).code).toBe(0);
        expect((await cli('describe-load-balancers')).json).toEqual({ LoadBalancers: [] });
      });
    },
  );
});

// ---------------------------------------------------------------------------------------------

describe('validation and errors, through boto3', () => {
  let aws: LocalAws;
  let t: Boto3Target;
  let net: { vpcId: string; subnets: string[] };
  let served: Awaited<ReturnType<typeof servedGroup>>;
  beforeAll(async () => {
    aws = await startLocalAws({ steppedClock: true });
    t = target(aws);
    net = await network(t);
    served = await servedGroup(aws, { name: 'served' });
  });
  afterAll(() => aws?.stop());

  const tgParams = (over: object = {}) => ({
    Name: 'api',
    Protocol: 'HTTP',
    Port: 8080,
    VpcId: net.vpcId,
    TargetType: 'ip',
    ...over,
  });

  withBoto3(
    'CreateTargetGroup is idempotent for the same settings; other settings are DuplicateTargetGroupName',
    async () => {
      const first = (await elb<{ TargetGroups: TargetGroup[] }>(t, 'create_target_group', tgParams()))
        .TargetGroups[0]!;
      const again = (await elb<{ TargetGroups: TargetGroup[] }>(t, 'create_target_group', tgParams()))
        .TargetGroups[0]!;
      expect(again.TargetGroupArn).toBe(first.TargetGroupArn);
      expect(await boto.error(t, 'elbv2', 'create_target_group', tgParams({ Port: 9090 }))).toEqual({
        Code: 'DuplicateTargetGroupName',
        Message: "A target group with the same name 'api' exists, but with different settings",
        HTTPStatusCode: 400,
      });
      await elb(t, 'delete_target_group', { TargetGroupArn: first.TargetGroupArn });
      // Deleting a target group that is gone succeeds, as ELBv2 does.
      await elb(t, 'delete_target_group', { TargetGroupArn: first.TargetGroupArn });
    },
  );

  // Each case: operation, parameters (given the served group and the network), code, message.
  type Case = [string, string, () => object, string, string | RegExp];
  const cases: Case[] = [
    [
      'create_target_group',
      'a 33-character name',
      () => tgParams({ Name: 'x'.repeat(33) }),
      'ValidationError',
      `Target group name '${'x'.repeat(33)}' cannot be longer than '32' characters`,
    ],
    [
      'create_target_group',
      'an underscore in the name',
      () => tgParams({ Name: 'pr_7' }),
      'ValidationError',
      "Target group name 'pr_7' can only contain characters that are alphanumeric characters or hyphens(-)",
    ],
    [
      'create_target_group',
      'a name ending in a hyphen',
      () => tgParams({ Name: 'pr-' }),
      'ValidationError',
      "Target group name 'pr-' cannot begin or end with '-'",
    ],
    [
      'create_target_group',
      'an unknown VPC',
      () => tgParams({ VpcId: 'vpc-0123456789abcdef0' }),
      'ValidationError',
      "The VPC ID 'vpc-0123456789abcdef0' is not found",
    ],
    [
      'create_target_group',
      'a threshold over 10',
      () => tgParams({ HealthyThresholdCount: 11 }),
      'ValidationError',
      "1 validation error detected: Value '11' at 'healthyThresholdCount' failed to satisfy constraint: Member must have value less than or equal to 10",
    ],
    [
      'create_target_group',
      'a timeout as long as the interval',
      () => tgParams({ HealthCheckIntervalSeconds: 10, HealthCheckTimeoutSeconds: 10 }),
      'ValidationError',
      "Health check timeout '10' must be smaller than the interval '10'",
    ],
    [
      'describe_target_groups',
      'an unknown name',
      () => ({ Names: ['nope'] }),
      'TargetGroupNotFound',
      'One or more target groups not found',
    ],
    [
      'describe_target_groups',
      'a malformed ARN',
      () => ({ TargetGroupArns: ['arn:nope'] }),
      'ValidationError',
      "'arn:nope' is not a valid target group ARN",
    ],
    [
      'describe_load_balancers',
      'unknown names',
      () => ({ Names: ['a', 'b'] }),
      'LoadBalancerNotFound',
      "Load balancers '[a, b]' not found",
    ],
    [
      'describe_load_balancers',
      'an unknown ARN',
      () => ({ LoadBalancerArns: [served.lb!.replace(/[0-9a-f]{4}$/, 'abcd')] }),
      'LoadBalancerNotFound',
      'One or more load balancers not found',
    ],
    [
      'describe_listeners',
      'an unknown listener',
      () => ({ ListenerArns: [served.listener!.replace(/[0-9a-f]{4}$/, 'abcd')] }),
      'ListenerNotFound',
      'One or more listeners not found',
    ],
    [
      'describe_rules',
      'neither a listener nor rules',
      () => ({}),
      'ValidationError',
      'You must specify either listener ARN or rule ARNs',
    ],
    [
      'create_load_balancer',
      'one subnet',
      () => ({ Name: 'one', Subnets: net.subnets.slice(0, 1) }),
      'ValidationError',
      'At least two subnets in two different Availability Zones must be specified',
    ],
    [
      'create_load_balancer',
      'an unknown subnet',
      () => ({ Name: 'one', Subnets: [net.subnets[0], 'subnet-0123456789abcdef0'] }),
      'SubnetNotFound',
      "The subnet ID 'subnet-0123456789abcdef0' does not exist",
    ],
    [
      'create_load_balancer',
      'a name starting internal-',
      () => ({ Name: 'internal-web', Subnets: net.subnets }),
      'ValidationError',
      "Load balancer name 'internal-web' cannot begin with 'internal-'",
    ],
    [
      'create_listener',
      'a second listener on port 80',
      () => ({
        LoadBalancerArn: served.lb,
        Protocol: 'HTTP',
        Port: 80,
        DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '503' } }],
      }),
      'DuplicateListener',
      /^A listener already exists on this port for this load balancer 'arn:aws:elasticloadbalancing:/,
    ],
    [
      'create_listener',
      'HTTPS without a certificate',
      () => ({
        LoadBalancerArn: served.lb,
        Protocol: 'HTTPS',
        Port: 443,
        DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '503' } }],
      }),
      'ValidationError',
      'A certificate must be specified for HTTPS listeners',
    ],
    [
      'create_rule',
      'a forward to an unknown target group',
      () => ({
        ListenerArn: served.listener,
        Priority: 5,
        Conditions: [{ Field: 'host-header', Values: ['a.example.com'] }],
        Actions: [{ Type: 'forward', TargetGroupArn: served.tg.replace(/[0-9a-f]{4}$/, 'abcd') }],
      }),
      'TargetGroupNotFound',
      /^Target groups 'arn:aws:elasticloadbalancing:[^']+' not found$/,
    ],
    [
      'create_rule',
      'an unknown condition field',
      () => ({
        ListenerArn: served.listener,
        Priority: 5,
        Conditions: [{ Field: 'colour', Values: ['blue'] }],
        Actions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '200' } }],
      }),
      'ValidationError',
      "Condition field 'colour' must be one of '[http-header, http-request-method, host-header, path-pattern, query-string, source-ip]'",
    ],
    [
      'delete_rule',
      'an unknown rule',
      () => ({ RuleArn: served.listener!.replace(':listener/', ':listener-rule/') + '/0123456789abcdef' }),
      'RuleNotFound',
      'One or more rules not found',
    ],
    [
      'register_targets',
      'an address outside the VPC without a zone',
      () => ({ TargetGroupArn: served.tg, Targets: [{ Id: '10.9.0.1' }] }),
      'ValidationError',
      "The Availability Zone is required for IP address '10.9.0.1' because it is not in the VPC",
    ],
    [
      'register_targets',
      "an address in the VPC with zone 'all'",
      () => ({ TargetGroupArn: served.tg, Targets: [{ Id: '172.31.16.9', AvailabilityZone: 'all' }] }),
      'ValidationError',
      "The IP address '172.31.16.9' is within the VPC, and cannot have its Availability Zone overridden to 'all' from 'us-east-1b'",
    ],
    [
      'describe_target_health',
      'an unknown target group',
      () => ({ TargetGroupArn: served.tg.replace(/[0-9a-f]{4}$/, 'abcd') }),
      'TargetGroupNotFound',
      'One or more target groups not found',
    ],
    [
      'modify_target_group_attributes',
      'a deregistration delay over an hour',
      () => ({
        TargetGroupArn: served.tg,
        Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '3601' }],
      }),
      'ValidationError',
      "'deregistration_delay.timeout_seconds' must be an integer between 0 and 3600, got '3601'",
    ],
    [
      'add_tags',
      'a key twice',
      () => ({
        ResourceArns: [served.tg],
        Tags: [
          { Key: 'pr', Value: '1' },
          { Key: 'pr', Value: '2' },
        ],
      }),
      'DuplicateTagKeys',
      'Tag key was specified more than once: pr',
    ],
  ];
  withBoto3.each(cases)('%s, %s', async (op, _name, params, code, message) => {
    const error = await boto.error(t, 'elbv2', op, params());
    expect(error.Code).toBe(code);
    if (typeof message === 'string') expect(error.Message).toBe(message);
    else expect(error.Message).toMatch(message);
    expect(error.HTTPStatusCode).toBe(400);
  });

  test('bounds that botocore checks before sending are checked again by the server (raw signed Query)', async () => {
    const call = async (params: Record<string, string>) => {
      const res = await signedRequest({
        endpoint: aws.endpoint,
        service: 'elasticloadbalancing',
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body: new URLSearchParams({ Version: '2015-12-01', ...params }).toString(),
      });
      // The text as an XML parser reads it (entities decoded).
      return {
        ...res,
        body: res.body
          .replace(/&apos;/g, "'")
          .replace(/&quot;/g, '"')
          .replace(/&amp;/g, '&'),
      };
    };
    const low = await call({
      Action: 'CreateTargetGroup',
      Name: 'raw',
      Protocol: 'HTTP',
      Port: '80',
      VpcId: net.vpcId,
      TargetType: 'ip',
      HealthCheckIntervalSeconds: '4',
    });
    expect(low.status).toBe(400);
    expect(low.body).toMatch(
      /<Code>ValidationError<\/Code>\s*<Message>1 validation error detected: Value '4' at 'healthCheckIntervalSeconds' failed to satisfy constraint: Member must have value greater than or equal to 5<\/Message>/,
    );
    const zero = await call({
      Action: 'CreateRule',
      ListenerArn: served.listener!,
      Priority: '0',
      'Conditions.member.1.Field': 'path-pattern',
      'Conditions.member.1.Values.member.1': '/a',
      'Actions.member.1.Type': 'fixed-response',
      'Actions.member.1.FixedResponseConfig.StatusCode': '200',
    });
    expect(zero.body).toContain(
      "Value '0' at 'priority' failed to satisfy constraint: Member must have value greater than or equal to 1",
    );
    // ELBv2's framing: its namespace, a Result element, the request id.
    const ok = await call({ Action: 'DescribeTargetGroups', 'Names.member.1': 'served' });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatch(
      /^<DescribeTargetGroupsResponse xmlns="http:\/\/elasticloadbalancing\.amazonaws\.com\/doc\/2015-12-01\/">\s*<DescribeTargetGroupsResult><TargetGroups><member><TargetGroupArn>arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup\/served\//,
    );
    expect(ok.body).toContain(`<RequestId>${String(ok.headers['x-amzn-requestid'])}</RequestId>`);
  });

  withBoto3(
    'DeleteRule of a default rule and SetRulePriorities onto a used priority are refused',
    async () => {
      const rules = (await elb<{ Rules: Rule[] }>(t, 'describe_rules', { ListenerArn: served.listener }))
        .Rules;
      const fallback = rules.find((r) => r.IsDefault)!;
      expect(await boto.error(t, 'elbv2', 'delete_rule', { RuleArn: fallback.RuleArn })).toMatchObject({
        Code: 'OperationNotPermitted',
        Message: `Default rule '${fallback.RuleArn}' cannot be deleted`,
      });
      const make = (priority: number, host: string) =>
        elb<{ Rules: Rule[] }>(t, 'create_rule', {
          ListenerArn: served.listener,
          Priority: priority,
          Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: [host] } }],
          Actions: [{ Type: 'forward', TargetGroupArn: served.tg }],
        });
      const a = (await make(1, 'a.example.com')).Rules[0]!;
      const b = (await make(2, 'b.example.com')).Rules[0]!;
      expect(
        await boto.error(t, 'elbv2', 'set_rule_priorities', {
          RulePriorities: [{ RuleArn: a.RuleArn, Priority: 2 }],
        }),
      ).toMatchObject({ Code: 'PriorityInUse', Message: "Priority '2' is currently in use" });
      expect(
        await boto.error(t, 'elbv2', 'set_rule_priorities', {
          RulePriorities: [
            { RuleArn: a.RuleArn, Priority: 3 },
            { RuleArn: b.RuleArn, Priority: 3 },
          ],
        }),
      ).toMatchObject({ Code: 'ValidationError', Message: "Priority '3' was provided multiple times" });
      // A condition given either way is answered both ways, as ELBv2 does.
      expect(a.Conditions).toEqual([
        { Field: 'host-header', Values: ['a.example.com'], HostHeaderConfig: { Values: ['a.example.com'] } },
      ]);
      for (const r of [a, b]) await elb(t, 'delete_rule', { RuleArn: r.RuleArn });
    },
  );

  withBoto3('a target group serves one load balancer, in its VPC', async () => {
    const other = (
      await elb<{ LoadBalancers: LoadBalancer[] }>(t, 'create_load_balancer', {
        Name: 'other',
        Subnets: net.subnets,
      })
    ).LoadBalancers[0]!.LoadBalancerArn;
    expect(
      await boto.error(t, 'elbv2', 'create_listener', {
        LoadBalancerArn: other,
        Protocol: 'HTTP',
        Port: 80,
        DefaultActions: [{ Type: 'forward', TargetGroupArn: served.tg }],
      }),
    ).toEqual({
      Code: 'TargetGroupAssociationLimit',
      Message: `The following target groups cannot be associated with more than one load balancer: ${served.tg}`,
      HTTPStatusCode: 400,
    });
    const elsewhere = aws.admin.ec2.addVpc(aws.accountId, 'us-east-1', '10.1.0.0/16');
    const foreign = (
      await elb<{ TargetGroups: TargetGroup[] }>(
        t,
        'create_target_group',
        tgParams({ Name: 'foreign', VpcId: elsewhere.vpcId }),
      )
    ).TargetGroups[0]!.TargetGroupArn;
    const refused = await boto.error(t, 'elbv2', 'create_listener', {
      LoadBalancerArn: other,
      Protocol: 'HTTP',
      Port: 80,
      DefaultActions: [{ Type: 'forward', TargetGroupArn: foreign }],
    });
    expect(refused.Code).toBe('ValidationError');
    expect(refused.Message).toContain(`is in VPC '${elsewhere.vpcId}'`);
  });

  withBoto3(
    'tags on target groups and load balancers: added, described in request order, removed',
    async () => {
      await elb(t, 'add_tags', {
        ResourceArns: [served.tg, served.lb],
        Tags: [
          { Key: 'pr', Value: '7' },
          { Key: 'app', Value: 'web' },
        ],
      });
      await elb(t, 'remove_tags', { ResourceArns: [served.lb], TagKeys: ['app'] });
      const described = await elb<{
        TagDescriptions: { ResourceArn: string; Tags: { Key: string; Value: string }[] }[];
      }>(t, 'describe_tags', { ResourceArns: [served.lb, served.tg] });
      expect(described.TagDescriptions).toEqual([
        { ResourceArn: served.lb, Tags: [{ Key: 'pr', Value: '7' }] },
        {
          ResourceArn: served.tg,
          Tags: [
            { Key: 'pr', Value: '7' },
            { Key: 'app', Value: 'web' },
          ],
        },
      ]);
    },
  );

  withBoto3('target group attributes: AWS defaults, the deregistration delay modified', async () => {
    const attrs = async () =>
      Object.fromEntries(
        (
          await elb<{ Attributes: { Key: string; Value: string }[] }>(t, 'describe_target_group_attributes', {
            TargetGroupArn: served.tg,
          })
        ).Attributes.map((a) => [a.Key, a.Value]),
      );
    expect(await attrs()).toMatchObject({
      'deregistration_delay.timeout_seconds': '300',
      'stickiness.enabled': 'false',
      'stickiness.type': 'lb_cookie',
      'load_balancing.algorithm.type': 'round_robin',
      'slow_start.duration_seconds': '0',
    });
    await elb(t, 'modify_target_group_attributes', {
      TargetGroupArn: served.tg,
      Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '30' }],
    });
    expect((await attrs())['deregistration_delay.timeout_seconds']).toBe('30');
  });
});

// ---------------------------------------------------------------------------------------------

describe('target health on a stepped clock, through boto3', () => {
  const IP = '172.31.0.20';
  type Step = { advance?: number; fail?: boolean; deregister?: boolean; expect: (string | null)[][] };
  const cases: [string, Step[]][] = [
    [
      'a passing target: initial until its first check, then healthy after one check (not HealthyThresholdCount)',
      [
        { expect: [['initial', 'Elb.RegistrationInProgress']] },
        { advance: 9_999, expect: [['initial', 'Elb.RegistrationInProgress']] },
        { advance: 1, expect: [['healthy', null]] },
      ],
    ],
    [
      'a failing target: initial while checking, unhealthy after UnhealthyThresholdCount failures',
      [
        { fail: true, advance: 10_000, expect: [['initial', 'Elb.InitialHealthChecking']] },
        { advance: 10_000, expect: [['unhealthy', 'Target.FailedHealthChecks']] },
        { advance: 60_000, expect: [['unhealthy', 'Target.FailedHealthChecks']] },
      ],
    ],
    [
      'an unhealthy target that recovers needs HealthyThresholdCount passes',
      [
        { fail: true, advance: 20_000, expect: [['unhealthy', 'Target.FailedHealthChecks']] },
        { fail: false, advance: 20_000, expect: [['unhealthy', 'Target.FailedHealthChecks']] },
        { advance: 10_000, expect: [['healthy', null]] },
      ],
    ],
    [
      'a healthy target that starts failing is unhealthy after UnhealthyThresholdCount failures',
      [
        { advance: 10_000, expect: [['healthy', null]] },
        { fail: true, advance: 10_000, expect: [['healthy', null]] },
        { advance: 10_000, expect: [['unhealthy', 'Target.FailedHealthChecks']] },
      ],
    ],
    [
      'a deregistered target drains for the deregistration delay (300 s), then is gone',
      [
        { advance: 10_000, expect: [['healthy', null]] },
        { deregister: true, expect: [['draining', 'Target.DeregistrationInProgress']] },
        { advance: 299_999, expect: [['draining', 'Target.DeregistrationInProgress']] },
        { advance: 1, expect: [] },
      ],
    ],
  ];
  withBoto3.each(cases)('%s', async (_name, steps) => {
    await withServer({}, async (aws) => {
      aws.admin.elbv2.setTimings({ loadBalancerProvisioningMs: 0 });
      const { t, tg } = await servedGroup(aws);
      let failing = false;
      aws.admin.elbv2.setHealthPredicate((x) => !(failing && x.id === IP));
      await elb(t, 'register_targets', { TargetGroupArn: tg, Targets: [{ Id: IP }] });
      for (const [i, step] of steps.entries()) {
        if (step.fail !== undefined) failing = step.fail;
        if (step.deregister)
          await elb(t, 'deregister_targets', { TargetGroupArn: tg, Targets: [{ Id: IP }] });
        if (step.advance) await aws.clock.advance(step.advance);
        expect([i, await stateOf(t, tg)]).toEqual([i, step.expect]);
      }
    });
  });

  withBoto3('a target group no load balancer uses: targets unused, deregistered at once', async () => {
    await withServer({}, async (aws) => {
      const { t, tg } = await servedGroup(aws, { attach: false });
      await elb(t, 'register_targets', { TargetGroupArn: tg, Targets: [{ Id: IP }] });
      const [h] = await health(t, tg);
      expect(h).toMatchObject({
        Target: { Id: IP, Port: 8080, AvailabilityZone: 'us-east-1a' },
        TargetHealth: {
          State: 'unused',
          Reason: 'Target.NotInUse',
          Description: 'Target group is not configured to receive traffic from the load balancer',
        },
      });
      await aws.clock.advance(60_000);
      expect(await stateOf(t, tg)).toEqual([['unused', 'Target.NotInUse']]);
      await elb(t, 'deregister_targets', { TargetGroupArn: tg, Targets: [{ Id: IP }] });
      expect(await stateOf(t, tg)).toEqual([]);
    });
  });

  withBoto3(
    'checks start when the load balancer is active; the deregistration delay is the attribute',
    async () => {
      await withServer({}, async (aws) => {
        aws.admin.elbv2.setTimings({ loadBalancerProvisioningMs: 60_000 });
        const { t, tg } = await servedGroup(aws);
        await elb(t, 'modify_target_group_attributes', {
          TargetGroupArn: tg,
          Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '45' }],
        });
        await elb(t, 'register_targets', { TargetGroupArn: tg, Targets: [{ Id: IP }] });
        await aws.clock.advance(69_999);
        expect(await stateOf(t, tg)).toEqual([['initial', 'Elb.RegistrationInProgress']]);
        await aws.clock.advance(1);
        expect(await stateOf(t, tg)).toEqual([['healthy', null]]);
        await elb(t, 'deregister_targets', { TargetGroupArn: tg, Targets: [{ Id: IP, Port: 8080 }] });
        await aws.clock.advance(44_999);
        expect(await stateOf(t, tg)).toEqual([['draining', 'Target.DeregistrationInProgress']]);
        await aws.clock.advance(1);
        expect(await stateOf(t, tg)).toEqual([]);
        // Asked by name, a target that is not registered is unused, as ELBv2 says it.
        expect((await health(t, tg, [{ Id: IP }]))[0]!.TargetHealth).toEqual({
          State: 'unused',
          Reason: 'Target.NotRegistered',
          Description: 'Target is not registered to the target group',
        });
      });
    },
  );

  withCli('the AWS CLI v2 waiters target-in-service and target-deregistered accept the answers', async () => {
    await withServer({}, async (aws) => {
      aws.admin.elbv2.setTimings({ loadBalancerProvisioningMs: 0 });
      const { t, tg } = await servedGroup(aws);
      await elb(t, 'register_targets', { TargetGroupArn: tg, Targets: [{ Id: IP }] });
      await aws.clock.advance(10_000);
      const inService = await awsCli(t, [
        'elbv2',
        'wait',
        'target-in-service',
        '--target-group-arn',
        tg,
        '--targets',
        `Id=${IP},Port=8080`,
      ]);
      expect(inService).toMatchObject({ code: 0, stderr: '' });
      await elb(t, 'deregister_targets', { TargetGroupArn: tg, Targets: [{ Id: IP }] });
      await aws.clock.advance(300_000);
      const gone = await awsCli(t, [
        'elbv2',
        'wait',
        'target-deregistered',
        '--target-group-arn',
        tg,
        '--targets',
        `Id=${IP},Port=8080`,
      ]);
      expect(gone).toMatchObject({ code: 0, stderr: '' });
    });
  });

  withBoto3('health checks resume after a restart with --data-dir', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'local-aws-elbv2-'));
    try {
      let tg = '';
      await withServer({ dataDir }, async (aws) => {
        aws.admin.elbv2.setTimings({ loadBalancerProvisioningMs: 0 });
        ({ tg } = await servedGroup(aws));
        await elb(target(aws), 'register_targets', { TargetGroupArn: tg, Targets: [{ Id: IP }] });
      });
      await withServer({ dataDir }, async (aws) => {
        expect(await stateOf(target(aws), tg)).toEqual([['initial', 'Elb.RegistrationInProgress']]);
        await aws.clock.advance(10_000);
        expect(await stateOf(target(aws), tg)).toEqual([['healthy', null]]);
      });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('the interface ECS will use (admin.elbv2 with admin.ec2)', () => {
  withBoto3(
    'a task interface registered, checked by the predicate, held against deletion, released',
    async () => {
      await withServer({}, async (aws) => {
        aws.admin.elbv2.setTimings({ loadBalancerProvisioningMs: 0 });
        const { t, tg, listener } = await servedGroup(aws);
        const info = aws.admin.elbv2.targetGroup(tg)!;
        expect(info).toMatchObject({
          targetType: 'ip',
          port: 8080,
          vpcId: aws.admin.ec2.defaultVpc(aws.accountId, 'us-east-1').vpcId,
          healthCheck: { intervalSeconds: 10, healthyThreshold: 3, unhealthyThreshold: 2 },
          deregistrationDelaySeconds: 300,
        });
        expect(info.loadBalancerArns).toHaveLength(1);
        expect(aws.admin.elbv2.targetGroups(aws.accountId, 'us-east-1').map((g) => g.targetGroupArn)).toEqual(
          [tg],
        );

        const subnet = aws.admin.ec2.subnets(aws.accountId, 'us-east-1')[2]!;
        const eni = aws.admin.ec2.createNetworkInterface({
          accountId: aws.accountId,
          region: 'us-east-1',
          subnetId: subnet.subnetId,
          now: aws.clock.now(),
        });
        const changes: TargetHealthChange[] = [];
        const unsubscribe = aws.admin.elbv2.onTargetHealthChange((c) => changes.push(c));
        // What ECS will derive from an image labelled local-aws.health=fail.
        aws.admin.elbv2.setHealthPredicate((x) => x.id !== eni.privateIpAddress);
        aws.admin.elbv2.registerTarget({ targetGroupArn: tg, id: eni.privateIpAddress, port: 8080 });
        await aws.clock.advance(20_000);
        expect(
          aws.admin.elbv2.targetHealth({ targetGroupArn: tg, id: eni.privateIpAddress, port: 8080 }),
        ).toEqual({
          state: 'unhealthy',
          reason: 'Target.FailedHealthChecks',
          description: 'Health checks failed',
        });
        expect((await health(t, tg))[0]).toMatchObject({
          Target: { Id: eni.privateIpAddress, Port: 8080, AvailabilityZone: subnet.availabilityZone },
          TargetHealth: { State: 'unhealthy', Reason: 'Target.FailedHealthChecks' },
        });
        aws.admin.elbv2.deregisterTarget({ targetGroupArn: tg, id: eni.privateIpAddress, port: 8080 });
        await aws.clock.advance(300_000);
        unsubscribe();
        expect(changes.map((c) => [c.id, c.state, c.reason ?? null])).toEqual([
          [eni.privateIpAddress, 'unhealthy', 'Target.FailedHealthChecks'],
          [eni.privateIpAddress, 'draining', 'Target.DeregistrationInProgress'],
          [eni.privateIpAddress, 'gone', null],
        ]);
        expect(() =>
          aws.admin.elbv2.registerTarget({ targetGroupArn: tg, id: '10.99.0.1', port: 8080 }),
        ).toThrow(expect.objectContaining({ code: 'ValidationError' }));

        // An ECS service holds the group: DeleteTargetGroup refuses even with no listener left.
        aws.admin.elbv2.holdTargetGroup(tg, 'arn:aws:ecs:us-east-1:000000000000:service/web/web');
        await elb(t, 'delete_listener', { ListenerArn: listener });
        expect(await boto.error(t, 'elbv2', 'delete_target_group', { TargetGroupArn: tg })).toMatchObject({
          Code: 'ResourceInUse',
        });
        aws.admin.elbv2.releaseTargetGroup(tg, 'arn:aws:ecs:us-east-1:000000000000:service/web/web');
        await elb(t, 'delete_target_group', { TargetGroupArn: tg });
        expect(aws.admin.elbv2.targetGroup(tg)).toBeUndefined();
      });
    },
  );
});

// ---------------------------------------------------------------------------------------------
// moto

/** Members local-aws returns that moto does not: ELBv2 answers them (README: ELBv2). */
const RICHER_THAN_MOTO = [
  'health.TargetHealthDescriptions[].AdministrativeOverride.Description: string',
  'health.TargetHealthDescriptions[].AdministrativeOverride.Reason: string',
  'health.TargetHealthDescriptions[].AdministrativeOverride.State: string',
  'health.TargetHealthDescriptions[].Target.AvailabilityZone: string',
  'health.TargetHealthDescriptions[].TargetHealth.Description: string',
  'health.TargetHealthDescriptions[].TargetHealth.Reason: string',
  'lb.LoadBalancers[].AvailabilityZones[].LoadBalancerAddresses: array',
  'lb.LoadBalancers[].Scheme: string',
  'lb.LoadBalancers[].SecurityGroups[]: string',
  'rule.Rules[].Actions[].ForwardConfig.TargetGroupStickinessConfig.Enabled: boolean',
  'rule.Rules[].Actions[].ForwardConfig.TargetGroups[].TargetGroupArn: string',
  'rule.Rules[].Actions[].ForwardConfig.TargetGroups[].Weight: number',
  'rule.Rules[].Conditions[].HostHeaderConfig.Values[]: string',
  'rules.Rules[].Actions[].ForwardConfig.TargetGroupStickinessConfig.Enabled: boolean',
  'rules.Rules[].Actions[].ForwardConfig.TargetGroups[].TargetGroupArn: string',
  'rules.Rules[].Actions[].ForwardConfig.TargetGroups[].Weight: number',
  'rules.Rules[].Conditions[].HostHeaderConfig.Values[]: string',
  'tg.TargetGroups[].LoadBalancerArns: array',
].sort();
/** Members moto returns that local-aws leaves out: an HTTP listener has no SSL policy or ALPN policy. */
const MOTO_ONLY = [
  'lb.LoadBalancers[].SecurityGroups: array',
  'listener.Listeners[].AlpnPolicy: array',
  'listener.Listeners[].SslPolicy: string',
].sort();

withMoto(
  'moto_server answers the same calls with the same members but for the listed differences, and the same error codes',
  async () => {
    const moto = await startMoto();
    const aws = await startLocalAws({ steppedClock: true });
    try {
      const run = async (t: Boto3Target) => {
        const { vpcId, subnets } = await network(t);
        const out: Record<string, unknown> = {};
        out.tg = await elb(t, 'create_target_group', {
          Name: 'web',
          Protocol: 'HTTP',
          Port: 8080,
          VpcId: vpcId,
          TargetType: 'ip',
        });
        const tg = (out.tg as { TargetGroups: TargetGroup[] }).TargetGroups[0]!.TargetGroupArn;
        out.lb = await elb(t, 'create_load_balancer', { Name: 'previews', Subnets: subnets });
        const lb = (out.lb as { LoadBalancers: LoadBalancer[] }).LoadBalancers[0]!.LoadBalancerArn;
        out.listener = await elb(t, 'create_listener', {
          LoadBalancerArn: lb,
          Protocol: 'HTTP',
          Port: 80,
          DefaultActions: [
            {
              Type: 'fixed-response',
              FixedResponseConfig: {
                StatusCode: '404',
                ContentType: 'text/plain',
                MessageBody: 'no preview',
              },
            },
          ],
        });
        const listener = (out.listener as { Listeners: { ListenerArn: string }[] }).Listeners[0]!.ListenerArn;
        out.rule = await elb(t, 'create_rule', {
          ListenerArn: listener,
          Priority: 10,
          Conditions: [{ Field: 'host-header', Values: ['pr-1.example.com'] }],
          Actions: [{ Type: 'forward', TargetGroupArn: tg }],
        });
        await elb(t, 'register_targets', { TargetGroupArn: tg, Targets: [{ Id: '172.31.0.10' }] });
        out.health = await elb(t, 'describe_target_health', { TargetGroupArn: tg });
        out.rules = await elb(t, 'describe_rules', { ListenerArn: listener });
        const codes = [
          () =>
            boto.error(t, 'elbv2', 'create_rule', {
              ListenerArn: listener,
              Priority: 10,
              Conditions: [{ Field: 'path-pattern', Values: ['/x'] }],
              Actions: [{ Type: 'forward', TargetGroupArn: tg }],
            }),
          () => boto.error(t, 'elbv2', 'delete_target_group', { TargetGroupArn: tg }),
          () =>
            boto.error(t, 'elbv2', 'create_target_group', {
              Name: 'web',
              Protocol: 'HTTP',
              Port: 9090,
              VpcId: vpcId,
              TargetType: 'ip',
            }),
          () => boto.error(t, 'elbv2', 'describe_target_groups', { Names: ['nope'] }),
          () => boto.error(t, 'elbv2', 'describe_load_balancers', { Names: ['nope'] }),
          () =>
            boto.error(t, 'elbv2', 'create_target_group', {
              Name: 'x'.repeat(33),
              Protocol: 'HTTP',
              Port: 80,
              VpcId: vpcId,
              TargetType: 'ip',
            }),
        ];
        const errors = [];
        for (const c of codes) errors.push(await c());
        return { out, errors };
      };
      const fromMoto = await run({
        endpoint: moto.endpoint,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      });
      const fromLocal = await run(target(aws));
      expect(fromLocal.errors.map((e) => e.Code)).toEqual(fromMoto.errors.map((e) => e.Code));
      // Where moto words a message as ELBv2 does, local-aws words it the same.
      expect(fromLocal.errors[3]!.Message).toBe(fromMoto.errors[3]!.Message);
      expect(fromLocal.errors[5]!.Message).toBe(fromMoto.errors[5]!.Message);
      const m = shape(fromMoto.out);
      const l = shape(fromLocal.out);
      // Within the listed differences: an older botocore parses fewer members (it drops those its
      // model does not know), so a listed difference may not show; an unlisted one fails.
      expect([...m].filter((p) => !l.has(p) && !MOTO_ONLY.includes(p))).toEqual([]);
      expect([...l].filter((p) => !m.has(p) && !RICHER_THAN_MOTO.includes(p))).toEqual([]);
    } finally {
      moto.stop();
      await aws.stop();
    }
  },
);
