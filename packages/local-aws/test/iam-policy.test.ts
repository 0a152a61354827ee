// IAM policy evaluation as a table: each row is a policy, a request and the decision IAM documents
// for it (the policy evaluation logic and the condition operators of the IAM User Guide) — allow,
// explicit deny winning, default deny, action and resource wildcards, NotAction/NotResource,
// conditions with their set qualifiers and IfExists, iam:PassRole with iam:PassedToService, trust
// policies' principals — and the documents IAM refuses when they are stored.
import {
  accessDeniedMessage,
  actionMatches,
  allowedActions,
  evaluatePolicies,
  parsePolicy,
  resourceMatches,
  type AuthorizationRequest,
  type PolicyDocument,
  type PolicyStatement,
} from '../src/index.js';

const ACCOUNT = '000000000000';
const SERVICE = `arn:aws:ecs:us-east-1:${ACCOUNT}:service/prod/web`;
const REPO = `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/team/app`;
const EXEC_ROLE = `arn:aws:iam::${ACCOUNT}:role/ecsTaskExecutionRole`;

const doc = (...Statement: PolicyStatement[]): PolicyDocument => ({ Version: '2012-10-17', Statement });
const allow = (
  Action: string | string[],
  Resource: string | string[] = '*',
  extra: Partial<PolicyStatement> = {},
) => ({ Effect: 'Allow', Action, Resource, ...extra }) as PolicyStatement;
const deny = (
  Action: string | string[],
  Resource: string | string[] = '*',
  extra: Partial<PolicyStatement> = {},
) => ({ Effect: 'Deny', Action, Resource, ...extra }) as PolicyStatement;
const req = (
  action: string,
  resource = '*',
  context: AuthorizationRequest['context'] = {},
): AuthorizationRequest => ({
  action,
  resource,
  context,
});

describe('evaluation: explicit deny wins, then an allow, else denied by default', () => {
  test.each<[string, PolicyDocument[], AuthorizationRequest, string]>([
    [
      'an exact allow',
      [doc(allow('ecs:UpdateService', SERVICE))],
      req('ecs:UpdateService', SERVICE),
      'allow',
    ],
    [
      'no statement names the action',
      [doc(allow('ecs:DescribeServices', SERVICE))],
      req('ecs:UpdateService', SERVICE),
      'implicit-deny',
    ],
    ['no policy at all', [], req('ecs:UpdateService', SERVICE), 'implicit-deny'],
    [
      'a deny in the same document wins',
      [doc(allow('ecs:*'), deny('ecs:UpdateService', SERVICE))],
      req('ecs:UpdateService', SERVICE),
      'explicit-deny',
    ],
    [
      'a deny in another document wins',
      [doc(allow('*')), doc(deny('ecs:Update*'))],
      req('ecs:UpdateService', SERVICE),
      'explicit-deny',
    ],
    [
      'a deny on another resource does not apply',
      [doc(allow('ecs:*'), deny('ecs:UpdateService', `${SERVICE}-canary`))],
      req('ecs:UpdateService', SERVICE),
      'allow',
    ],
    [
      'the allow is on another resource',
      [doc(allow('ecs:UpdateService', `arn:aws:ecs:us-east-1:${ACCOUNT}:service/prod/api`))],
      req('ecs:UpdateService', SERVICE),
      'implicit-deny',
    ],
  ])('%s', (_name, policies, request, decision) => {
    expect(evaluatePolicies(policies, request).decision).toBe(decision);
  });
});

describe('actions: service:Name, case-insensitive, * and ? wildcards', () => {
  test.each<[string, string, boolean]>([
    ['ecs:UpdateService', 'ecs:UpdateService', true],
    ['ECS:updateservice', 'ecs:UpdateService', true],
    ['ecs:Describe*', 'ecs:DescribeServices', true],
    ['ecs:Describe*', 'ecs:UpdateService', false],
    ['ecs:*', 'ecs:RunTask', true],
    ['ecs:*', 'ecr:PutImage', false],
    ['*', 'iam:PassRole', true],
    ['ecr:*Layer*', 'ecr:InitiateLayerUpload', true],
    ['ecr:*Layer*', 'ecr:PutImage', false],
    ['ecr:BatchGetImag?', 'ecr:BatchGetImage', true],
    ['ecr:BatchGetImag?', 'ecr:BatchGetImages', false],
    ['ecs:UpdateService', 'ecs:UpdateServicePrimaryTaskSet', false],
  ])('%s matches %s: %s', (pattern, action, expected) => {
    expect(actionMatches(pattern, action)).toBe(expected);
  });
});

describe('resources: case-sensitive; * stays in its ARN segment unless it ends one', () => {
  test.each<[string, string, boolean]>([
    [REPO, REPO, true],
    [`arn:aws:ecr:us-east-1:${ACCOUNT}:repository/team/App`, REPO, false],
    [`arn:aws:ecr:us-east-1:${ACCOUNT}:repository/team/*`, REPO, true],
    [`arn:aws:ecr:*:${ACCOUNT}:repository/team/app`, REPO, true],
    [`arn:aws:ecr:us-east-1:*:repository/*`, REPO, true],
    [`arn:aws:ecr:us-*-1:${ACCOUNT}:repository/team/app`, REPO, true],
    [`arn:aws:ecr:eu-*-1:${ACCOUNT}:repository/team/app`, REPO, false],
    [`arn:aws:ecr:us-east-?:${ACCOUNT}:repository/team/app`, REPO, true],
    // A * inside a segment does not reach past a colon…
    [
      `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/a*p`,
      `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/app:3`,
      false,
    ],
    // …but one that ends the ARN does.
    [
      `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/app*`,
      `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/app:3`,
      true,
    ],
    [
      `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/app:*`,
      `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/app:3`,
      true,
    ],
    [
      `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/app:*`,
      `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/application:3`,
      false,
    ],
    ['*', SERVICE, true],
  ])('%s matches %s: %s', (pattern, resource, expected) => {
    expect(resourceMatches(pattern, resource)).toBe(expected);
  });
});

describe('NotAction and NotResource', () => {
  const everythingButIam = doc({ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' });
  const notProd = doc({
    Effect: 'Allow',
    Action: 'ecs:UpdateService',
    NotResource: `arn:aws:ecs:*:*:service/prod/*`,
  });
  const denyAllButReads = doc(allow('*'), {
    Effect: 'Deny',
    NotAction: ['ecs:Describe*', 'ecs:List*'],
    Resource: '*',
  });
  test.each<[string, PolicyDocument, AuthorizationRequest, string]>([
    ['NotAction allows what it does not name', everythingButIam, req('ecs:RunTask'), 'allow'],
    [
      'NotAction does not allow what it names',
      everythingButIam,
      req('iam:PassRole', EXEC_ROLE),
      'implicit-deny',
    ],
    [
      'NotResource allows other resources',
      notProd,
      req('ecs:UpdateService', `arn:aws:ecs:us-east-1:${ACCOUNT}:service/staging/web`),
      'allow',
    ],
    [
      'NotResource does not allow the resources it names',
      notProd,
      req('ecs:UpdateService', SERVICE),
      'implicit-deny',
    ],
    [
      'a Deny with NotAction denies everything else',
      denyAllButReads,
      req('ecs:UpdateService', SERVICE),
      'explicit-deny',
    ],
    [
      'a Deny with NotAction leaves what it names',
      denyAllButReads,
      req('ecs:DescribeServices', SERVICE),
      'allow',
    ],
  ])('%s', (_name, policy, request, decision) => {
    expect(evaluatePolicies([policy], request).decision).toBe(decision);
  });
});

describe('conditions', () => {
  const cond = (Condition: PolicyStatement['Condition']) =>
    doc(allow('ecs:UpdateService', '*', { Condition }));
  test.each<[string, PolicyStatement['Condition'], AuthorizationRequest['context'], boolean]>([
    [
      'StringEquals on aws:RequestedRegion',
      { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } },
      { 'aws:RequestedRegion': 'eu-west-1' },
      true,
    ],
    [
      'StringEquals, another region',
      { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } },
      { 'aws:RequestedRegion': 'us-east-1' },
      false,
    ],
    [
      'condition keys are case-insensitive',
      { StringEquals: { 'AWS:requestedregion': 'eu-west-1' } },
      { 'aws:RequestedRegion': 'eu-west-1' },
      true,
    ],
    [
      'values are case-sensitive',
      { StringEquals: { 'aws:RequestedRegion': 'EU-WEST-1' } },
      { 'aws:RequestedRegion': 'eu-west-1' },
      false,
    ],
    [
      'StringEqualsIgnoreCase',
      { StringEqualsIgnoreCase: { 'aws:RequestedRegion': 'EU-WEST-1' } },
      { 'aws:RequestedRegion': 'eu-west-1' },
      true,
    ],
    [
      'several values: any of them',
      { StringEquals: { 'aws:RequestedRegion': ['us-east-1', 'eu-west-1'] } },
      { 'aws:RequestedRegion': 'eu-west-1' },
      true,
    ],
    [
      'several keys: all of them',
      { StringEquals: { 'aws:RequestedRegion': 'eu-west-1', 'ecs:cluster': 'x' } },
      { 'aws:RequestedRegion': 'eu-west-1' },
      false,
    ],
    [
      'a missing key fails a positive operator',
      { StringEquals: { 'aws:ResourceTag/env': 'prod' } },
      {},
      false,
    ],
    [
      'a missing key passes a negated operator',
      { StringNotEquals: { 'aws:ResourceTag/env': 'prod' } },
      {},
      true,
    ],
    [
      'StringNotEquals with a matching value',
      { StringNotEquals: { 'aws:ResourceTag/env': 'prod' } },
      { 'aws:ResourceTag/env': 'prod' },
      false,
    ],
    ['IfExists passes a missing key', { StringEqualsIfExists: { 'aws:ResourceTag/env': 'prod' } }, {}, true],
    [
      'IfExists still checks a present key',
      { StringEqualsIfExists: { 'aws:ResourceTag/env': 'prod' } },
      { 'aws:ResourceTag/env': 'dev' },
      false,
    ],
    [
      'StringLike with * (GitHub sub)',
      { StringLike: { 'token.actions.githubusercontent.com:sub': 'repo:octo-org/*:ref:refs/heads/main' } },
      { 'token.actions.githubusercontent.com:sub': 'repo:octo-org/app:ref:refs/heads/main' },
      true,
    ],
    [
      'StringLike, another branch',
      { StringLike: { 'token.actions.githubusercontent.com:sub': 'repo:octo-org/*:ref:refs/heads/main' } },
      { 'token.actions.githubusercontent.com:sub': 'repo:octo-org/app:ref:refs/heads/dev' },
      false,
    ],
    ['StringNotLike', { StringNotLike: { 'aws:userid': '*:ci-*' } }, { 'aws:userid': 'AROAX:deploy' }, true],
    [
      'ArnLike on ecs:cluster',
      { ArnLike: { 'ecs:cluster': 'arn:aws:ecs:*:000000000000:cluster/prod*' } },
      { 'ecs:cluster': `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/prod-eu` },
      true,
    ],
    [
      'ArnLike: components are compared one by one',
      { ArnLike: { 'ecs:cluster': 'arn:aws:ecs:*:000000000000:cluster/prod' } },
      { 'ecs:cluster': `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/staging` },
      false,
    ],
    [
      'ArnEquals',
      { ArnEquals: { 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/deployer` } },
      { 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/deployer` },
      true,
    ],
    [
      'ArnNotEquals',
      { ArnNotEquals: { 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/deployer` } },
      { 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/other` },
      true,
    ],
    [
      'Bool on aws:SecureTransport (true)',
      { Bool: { 'aws:SecureTransport': 'true' } },
      { 'aws:SecureTransport': true },
      true,
    ],
    [
      'Bool on aws:SecureTransport (false)',
      { Bool: { 'aws:SecureTransport': 'true' } },
      { 'aws:SecureTransport': false },
      false,
    ],
    ['Null: true when the key is absent', { Null: { 'aws:ResourceTag/env': 'true' } }, {}, true],
    [
      'Null: false when the key is present',
      { Null: { 'aws:ResourceTag/env': 'true' } },
      { 'aws:ResourceTag/env': 'prod' },
      false,
    ],
    [
      'NumericLessThan',
      { NumericLessThan: { 'aws:EpochTime': '2000000000' } },
      { 'aws:EpochTime': '1700000000' },
      true,
    ],
    [
      'DateGreaterThan on aws:CurrentTime',
      { DateGreaterThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } },
      { 'aws:CurrentTime': '2026-06-01T00:00:00Z' },
      false,
    ],
    [
      'ForAnyValue: one tag key listed is enough',
      { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['team', 'env'] } },
      { 'aws:TagKeys': ['env', 'cost'] },
      true,
    ],
    [
      'ForAnyValue: no key at all fails',
      { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['team'] } },
      {},
      false,
    ],
    [
      'ForAllValues: every tag key must be listed',
      { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team', 'env'] } },
      { 'aws:TagKeys': ['env', 'cost'] },
      false,
    ],
    [
      'ForAllValues: a subset passes',
      { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team', 'env'] } },
      { 'aws:TagKeys': ['env'] },
      true,
    ],
    [
      'ForAllValues: no key at all passes',
      { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team'] } },
      {},
      true,
    ],
  ])('%s', (_name, condition, context, allowed) => {
    const decision = evaluatePolicies([cond(condition)], req('ecs:UpdateService', SERVICE, context)).decision;
    expect(decision).toBe(allowed ? 'allow' : 'implicit-deny');
  });
});

describe('iam:PassRole with iam:PassedToService', () => {
  const passToEcsTasks = doc(
    allow('iam:PassRole', [EXEC_ROLE, `arn:aws:iam::${ACCOUNT}:role/app-task-role`], {
      Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    }),
  );
  test.each<[string, AuthorizationRequest, string]>([
    [
      'the execution role to ECS tasks',
      req('iam:PassRole', EXEC_ROLE, { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' }),
      'allow',
    ],
    [
      'the task role to ECS tasks',
      req('iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/app-task-role`, {
        'iam:PassedToService': 'ecs-tasks.amazonaws.com',
      }),
      'allow',
    ],
    [
      'the execution role to EC2',
      req('iam:PassRole', EXEC_ROLE, { 'iam:PassedToService': 'ec2.amazonaws.com' }),
      'implicit-deny',
    ],
    [
      'another role to ECS tasks',
      req('iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/admin`, {
        'iam:PassedToService': 'ecs-tasks.amazonaws.com',
      }),
      'implicit-deny',
    ],
    ['without the service in the context', req('iam:PassRole', EXEC_ROLE), 'implicit-deny'],
  ])('%s', (_name, request, decision) => {
    expect(evaluatePolicies([passToEcsTasks], request).decision).toBe(decision);
  });
});

describe('trust policies: a statement applies to the principals it names', () => {
  const provider = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;
  const trust = (
    Principal: PolicyStatement['Principal'],
    Action: string,
    Condition?: PolicyStatement['Condition'],
  ) => doc({ Effect: 'Allow', Principal, Action, ...(Condition ? { Condition } : {}) } as PolicyStatement);
  const github = trust({ Federated: provider }, 'sts:AssumeRoleWithWebIdentity', {
    StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' },
    StringLike: { 'token.actions.githubusercontent.com:sub': 'repo:octo-org/octo-repo:*' },
  });
  const claims = (sub: string, aud = 'sts.amazonaws.com') => ({
    'token.actions.githubusercontent.com:aud': aud,
    'token.actions.githubusercontent.com:sub': sub,
  });
  const session = {
    aws: [
      `arn:aws:sts::${ACCOUNT}:assumed-role/ci/run-1`,
      `arn:aws:iam::${ACCOUNT}:role/ci`,
      `arn:aws:iam::${ACCOUNT}:root`,
    ],
  };
  test.each<[string, PolicyDocument, AuthorizationRequest, { federated?: string; aws?: string[] }, string]>([
    [
      'GitHub, this repository',
      github,
      req('sts:AssumeRoleWithWebIdentity', '*', claims('repo:octo-org/octo-repo:ref:refs/heads/main')),
      { federated: provider },
      'allow',
    ],
    [
      'GitHub, another repository',
      github,
      req('sts:AssumeRoleWithWebIdentity', '*', claims('repo:octo-org/other:ref:refs/heads/main')),
      { federated: provider },
      'implicit-deny',
    ],
    [
      'GitHub, another audience',
      github,
      req(
        'sts:AssumeRoleWithWebIdentity',
        '*',
        claims('repo:octo-org/octo-repo:ref:refs/heads/main', 'sigstore'),
      ),
      { federated: provider },
      'implicit-deny',
    ],
    [
      'another provider',
      github,
      req('sts:AssumeRoleWithWebIdentity', '*', claims('repo:octo-org/octo-repo:ref:refs/heads/main')),
      { federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/example.com` },
      'implicit-deny',
    ],
    [
      'the account id names every principal of the account',
      trust({ AWS: ACCOUNT }, 'sts:AssumeRole'),
      req('sts:AssumeRole'),
      session,
      'allow',
    ],
    [
      'a role ARN names its sessions',
      trust({ AWS: `arn:aws:iam::${ACCOUNT}:role/ci` }, 'sts:AssumeRole'),
      req('sts:AssumeRole'),
      session,
      'allow',
    ],
    [
      'another account names none of them',
      trust({ AWS: '111122223333' }, 'sts:AssumeRole'),
      req('sts:AssumeRole'),
      session,
      'implicit-deny',
    ],
    [
      'a service principal is not a role session',
      trust({ Service: 'ecs-tasks.amazonaws.com' }, 'sts:AssumeRole'),
      req('sts:AssumeRole'),
      session,
      'implicit-deny',
    ],
  ])('%s', (_name, policy, request, principal, decision) => {
    expect(evaluatePolicies([policy], request, principal).decision).toBe(decision);
  });

  test('the principal that matched is reported (a named caller needs no identity policy in its account)', () => {
    const named = trust({ AWS: [`arn:aws:iam::${ACCOUNT}:role/ci`, ACCOUNT] }, 'sts:AssumeRole');
    expect(evaluatePolicies([named], req('sts:AssumeRole'), session).matchedPrincipal).toBe(
      `arn:aws:iam::${ACCOUNT}:role/ci`,
    );
  });
});

describe('documents IAM refuses when they are stored', () => {
  test.each<[string, unknown, 'identity' | 'resource', string]>([
    ['not JSON', '{"Version": "2012-10-17",', 'identity', 'Syntax errors in policy.'],
    ['an unknown element', { Version: '2012-10-17', Statment: [] }, 'identity', 'Syntax errors in policy.'],
    [
      'an unknown version',
      { Version: '2020-01-01', Statement: [allow('ecs:*')] },
      'identity',
      'The policy failed legacy parsing',
    ],
    [
      'a bad effect',
      { Statement: [{ Effect: 'Permit', Action: 'ecs:*', Resource: '*' }] },
      'identity',
      'Invalid effect: Permit',
    ],
    [
      'no action',
      { Statement: [{ Effect: 'Allow', Resource: '*' }] },
      'identity',
      'Policy statement must contain actions.',
    ],
    [
      'an action without its service',
      { Statement: [allow('UpdateService')] },
      'identity',
      'Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.',
    ],
    [
      'no resource in an identity policy',
      { Statement: [{ Effect: 'Allow', Action: 'ecs:*' }] },
      'identity',
      'Policy statement must contain resources.',
    ],
    [
      'a resource that is not an ARN',
      { Statement: [allow('ecs:*', 'prod/web')] },
      'identity',
      'Resource prod/web must be in ARN format or "*".',
    ],
    [
      'a principal in an identity policy',
      { Statement: [allow('ecs:*', '*', { Principal: '*' })] },
      'identity',
      'Policy document should not specify a principal.',
    ],
    [
      'no principal in a trust policy',
      { Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole' }] },
      'resource',
      'Missing required field Principal',
    ],
    [
      'an unknown condition operator',
      { Statement: [allow('ecs:*', '*', { Condition: { StringIs: { 'aws:userid': 'x' } } })] },
      'identity',
      'Invalid Condition type : StringIs.',
    ],
    [
      'an operator local-aws does not evaluate',
      { Statement: [allow('ecs:*', '*', { Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } })] },
      'identity',
      'local-aws does not evaluate the IpAddress condition operator.',
    ],
  ])('%s', (_name, input, kind, message) => {
    expect(() => parsePolicy(input as object, kind)).toThrow(message);
  });

  test('a valid document comes back as given', () => {
    const policy = doc(
      allow(['ecs:UpdateService', 'ecs:DescribeServices'], SERVICE),
      deny('ecs:DeleteService'),
    );
    expect(parsePolicy(JSON.stringify(policy))).toEqual(policy);
    expect(allowedActions(policy)).toEqual(['ecs:DescribeServices', 'ecs:UpdateService']);
  });
});

test("AWS's wording of a refusal", () => {
  const who = `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/run-1`;
  expect(accessDeniedMessage(who, req('ecs:UpdateService', SERVICE), 'implicit-deny')).toBe(
    `User: ${who} is not authorized to perform: ecs:UpdateService on resource: ${SERVICE} because no identity-based policy allows the ecs:UpdateService action`,
  );
  expect(accessDeniedMessage(who, req('ecs:UpdateService', SERVICE), 'explicit-deny')).toBe(
    `User: ${who} is not authorized to perform: ecs:UpdateService on resource: ${SERVICE} with an explicit deny in an identity-based policy`,
  );
});
