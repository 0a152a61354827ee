// ELB's tag-on-create rule (Elastic Load Balancing user guide, "ELB API permissions to tag resources
// during creation"): a Create* call that carries Tags is also authorised for
// elasticloadbalancing:AddTags on the resource being made, with elasticloadbalancing:CreateAction
// naming the call; without Tags it is not asked. Judged by the AWS SDK v3's ELBv2 client.
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { defaultNetwork, startLocalAws, type LocalAws } from '../src/index.js';

const ACCOUNT = '000000000000';
const ADMIN = { accessKeyId: 'test', secretAccessKey: 'test' };
const CREATOR = { accessKeyId: 'AKIATAGCREATOR', secretAccessKey: 'creator-secret' };
const TAGGER = { accessKeyId: 'AKIATAGTAGGER', secretAccessKey: 'tagger-secret' };
const prefix = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}`;
const creates = {
  Effect: 'Allow',
  Action: ['elasticloadbalancing:CreateTargetGroup', 'elasticloadbalancing:CreateRule'],
  Resource: [`${prefix}:targetgroup/pv-*`, `${prefix}:listener/app/web/*`],
};

let aws: LocalAws;
let listenerArn: string;
const elb = (who: typeof ADMIN) =>
  new ElasticLoadBalancingV2Client({
    endpoint: aws.endpoint,
    region: 'us-east-1',
    credentials: who,
    maxAttempts: 1,
  });

beforeAll(async () => {
  aws = await startLocalAws({ credentials: [ADMIN] });
  aws.identities.add({
    ...CREATOR,
    policy: JSON.stringify({ Version: '2012-10-17', Statement: [creates] }),
  });
  aws.identities.add({
    ...TAGGER,
    policy: JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        creates,
        {
          Effect: 'Allow',
          Action: 'elasticloadbalancing:AddTags',
          Resource: '*',
          Condition: {
            StringEquals: { 'elasticloadbalancing:CreateAction': ['CreateTargetGroup', 'CreateRule'] },
          },
        },
      ],
    }),
  });
  const admin = elb(ADMIN);
  const net = defaultNetwork();
  const group = await admin.send(
    new CreateTargetGroupCommand({
      Name: 'web',
      Protocol: 'HTTP',
      Port: 80,
      VpcId: net.vpcId,
      TargetType: 'ip',
    }),
  );
  const lb = await admin.send(
    new CreateLoadBalancerCommand({ Name: 'web', Subnets: net.subnetIds.slice(0, 2) }),
  );
  const listener = await admin.send(
    new CreateListenerCommand({
      LoadBalancerArn: lb.LoadBalancers![0]!.LoadBalancerArn!,
      Protocol: 'HTTP',
      Port: 80,
      DefaultActions: [{ Type: 'forward', TargetGroupArn: group.TargetGroups![0]!.TargetGroupArn! }],
    }),
  );
  listenerArn = listener.Listeners![0]!.ListenerArn!;
  admin.destroy();
});
afterAll(async () => {
  await aws?.stop();
});

const targetGroup = (name: string, tags: boolean) =>
  new CreateTargetGroupCommand({
    Name: name,
    Protocol: 'HTTP',
    Port: 8080,
    VpcId: defaultNetwork().vpcId,
    TargetType: 'ip',
    ...(tags && { Tags: [{ Key: 'aws-containers:preview', Value: 'true' }] }),
  });
const rule = (priority: number, tags: boolean) =>
  new CreateRuleCommand({
    ListenerArn: listenerArn,
    Priority: priority,
    Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: [`pr-${priority}.example.com`] } }],
    Actions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '200' } }],
    ...(tags && { Tags: [{ Key: 'aws-containers:preview', Value: 'true' }] }),
  });

test.each([
  [
    'CreateTargetGroup',
    () => targetGroup('pv-1-untagged', false),
    () => targetGroup('pv-1-tagged', true),
    `${prefix}:targetgroup/pv-1-tagged/*`,
  ],
  ['CreateRule', () => rule(10, false), () => rule(11, true), undefined],
] as const)(
  '%s: untagged needs only its own action; tagged also needs AddTags on what it makes',
  async (_, untagged, tagged, resource) => {
    const creator = elb(CREATOR);
    const tagger = elb(TAGGER);
    try {
      await expect(creator.send(untagged() as never)).resolves.toBeDefined();
      const refused = await creator.send(tagged() as never).then(
        () => undefined,
        (error: Error) => error,
      );
      expect(refused?.name).toBe('AccessDenied');
      expect(refused?.message).toContain(
        'is not authorized to perform: elasticloadbalancing:AddTags on resource: ',
      );
      if (resource) expect(refused?.message).toContain(resource);
      else expect(refused?.message).toMatch(/listener-rule\/app\/web\/[0-9a-f]+\/[0-9a-f]+\/\*/);
      await expect(tagger.send(tagged() as never)).resolves.toBeDefined();
    } finally {
      creator.destroy();
      tagger.destroy();
    }
  },
);
