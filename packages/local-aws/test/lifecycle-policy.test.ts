// PutLifecyclePolicy checks the rules ECR's own validation refuses, judged by boto3: the `any` rule
// comes last, a tag pattern has at most four wildcards, and a tagged rule names exactly one of
// tagPrefixList and tagPatternList. (moto accepts every one of these policies, so it is no judge here.)
import { startLocalAws, type LocalAws } from '../src/index.js';
import { boto3, withBoto3 } from './helpers/boto3.js';

let aws: LocalAws;
beforeAll(async () => {
  aws = await startLocalAws();
});
afterAll(() => aws?.stop());

type Selection = Record<string, unknown>;
const rule = (rulePriority: number, selection: Selection) => ({
  rulePriority,
  description: `rule ${rulePriority}: a description long enough to make any policy text reach ECR's 100-character minimum`,
  selection: { countType: 'imageCountMoreThan', countNumber: 5, ...selection },
  action: { type: 'expire' },
});
const tagged = (lists: Selection) => ({ tagStatus: 'tagged', ...lists });

const ANY_LAST = 'Rule for tagStatus=ANY must have the lowest priority per storage class';
const ONE_LIST = 'If policy has a tagged rule, it must specify only one of tagPrefixList or tagPatternList';
const SOME_LIST = 'Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED.';

const cases: Array<{ name: string; rules: unknown[]; error?: string }> = [
  {
    name: 'tagged then any',
    rules: [rule(1, tagged({ tagPrefixList: ['v'] })), rule(2, { tagStatus: 'any' })],
  },
  { name: 'untagged then any', rules: [rule(1, { tagStatus: 'untagged' }), rule(5, { tagStatus: 'any' })] },
  {
    name: 'any before tagged',
    rules: [rule(1, { tagStatus: 'any' }), rule(2, tagged({ tagPrefixList: ['v'] }))],
    error: ANY_LAST,
  },
  {
    name: 'any listed last but with a lower priority',
    rules: [rule(9, tagged({ tagPrefixList: ['v'] })), rule(3, { tagStatus: 'any' })],
    error: ANY_LAST,
  },
  {
    name: 'two any rules',
    rules: [rule(1, { tagStatus: 'any' }), rule(2, { tagStatus: 'any' })],
    error: ANY_LAST,
  },
  {
    name: 'both lists',
    rules: [rule(1, tagged({ tagPrefixList: ['v'], tagPatternList: ['v*'] }))],
    error: ONE_LIST,
  },
  { name: 'no list', rules: [rule(1, tagged({}))], error: SOME_LIST },
  {
    name: "the documentation's valid patterns: four wildcards each",
    rules: [rule(1, tagged({ tagPatternList: ['*test*1*2*3', 'test*1*2*3*'] }))],
  },
  {
    name: "the documentation's invalid pattern: six wildcards",
    rules: [rule(1, tagged({ tagPatternList: ['test*1*2*3*4*5*6'] }))],
    error:
      "rules[0].selection.tagPatternList: 'test*1*2*3*4*5*6' has 6 wildcards (*); a pattern may have at most 4",
  },
  {
    name: 'five wildcards',
    rules: [rule(1, tagged({ tagPatternList: ['ok*', '*a*b*c*d*'] }))],
    error: "'*a*b*c*d*' has 5 wildcards",
  },
];

withBoto3(
  'boto3: put_lifecycle_policy accepts and refuses as ECR does',
  async () => {
    const program = `
ecr = boto3.client('ecr', endpoint_url=endpoint, config=botocore.config.Config(retries={'max_attempts': 1}))
ecr.create_repository(repositoryName='lifecycle/app')
out = []
for case in data:
    try:
        ecr.put_lifecycle_policy(repositoryName='lifecycle/app', lifecyclePolicyText=json.dumps({'rules': case['rules']}))
        out.append(None)
    except botocore.exceptions.ClientError as e:
        out.append([e.response['Error']['Code'], e.response['Error']['Message']])
print(json.dumps(out))
`;
    const answers = (await boto3(aws, program, { input: cases })) as Array<[string, string] | null>;
    cases.forEach((c, i) => {
      const answer = answers[i] ?? null;
      if (!c.error) return expect([c.name, answer]).toEqual([c.name, null]);
      expect([c.name, answer?.[0]]).toEqual([c.name, 'InvalidParameterException']);
      expect([c.name, answer?.[1]]).toEqual([
        c.name,
        expect.stringContaining(`failed to satisfy constraint: 'Lifecycle policy validation failure: `),
      ]);
      expect([c.name, answer?.[1]]).toEqual([c.name, expect.stringContaining(c.error)]);
    });
  },
  60_000,
);
