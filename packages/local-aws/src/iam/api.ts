// IAM over the Query protocol (version 2010-05-08), as far as roles for ECS tasks and for GitHub's
// OIDC need it: roles with their trust policy, inline and attached policies, customer managed
// policies and OpenID Connect providers. Policy documents are checked as IAM checks them when they
// are stored (MalformedPolicyDocument) and answered back URL-encoded, as IAM answers them.
import type { Authorization, RequestContext } from '../service.js';
import { AwsError } from '../service.js';
import {
  MalformedPolicyError,
  parsePolicy,
  type ContextValue,
  type PolicyDocument,
} from '../platform/iam-policy.js';
import {
  list,
  paramTree,
  scalar,
  strings,
  struct,
  toXml,
  type ParamTree,
  type XmlValue,
} from '../ec2/wire.js';
import { awsManagedPolicy } from './managed-policies.js';
import { contextValue, evaluationResultXml, simulateOne, type SimulatedPolicy } from './simulate.js';
import {
  accountOf,
  documentOf,
  managedDocument,
  providerKey,
  uniqueId,
  type CustomerPolicyState,
  type IamState,
  type OidcProviderState,
  type RoleState,
  type Tag,
} from './model.js';

type Operation = (params: URLSearchParams, ctx: RequestContext) => string;
type Tree = Record<string, ParamTree>;

const NAME_RE = /^[\w+=,.@-]+$/;
const PATH_RE = /^(\/|\/[\u0021-\u007E]+\/)$/;
const MAX_ATTACHED = 10;

/** IAM's timestamps: ISO 8601 without milliseconds. */
const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** IAM answers policy documents URL-encoded (RFC 3986). */
const encodeDocument = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function validation(message: string): AwsError {
  return new AwsError('ValidationError', `1 validation error detected: ${message}`, 400);
}

/** `member` is the wire name in the request (RoleName); IAM's messages name it camelCased. */
function required(tree: Tree, member: string): string {
  const value = scalar(tree[member]);
  const name = member[0]!.toLowerCase() + member.slice(1);
  if (value === undefined)
    throw validation(`Value null at '${name}' failed to satisfy constraint: Member must not be null`);
  return value;
}

function checkName(value: string, member: string, max: number): string {
  const name = member[0]!.toLowerCase() + member.slice(1);
  if (value.length < 1 || value.length > max)
    throw validation(
      `Value '${value}' at '${name}' failed to satisfy constraint: Member must have length less than or equal to ${max}`,
    );
  if (!NAME_RE.test(value))
    throw validation(
      `Value '${value}' at '${name}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+`,
    );
  return value;
}

function pathOf(tree: Tree): string {
  const path = scalar(tree.Path) ?? '/';
  if (path.length > 512 || !PATH_RE.test(path))
    throw validation(
      `Value '${path}' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)`,
    );
  return path;
}

function tagsOf(tree: Tree): Tag[] {
  const raw = tree.Tags;
  const items = raw === undefined || raw === '' ? [] : Array.isArray(raw) ? raw : [raw];
  return items.map((item) => {
    const t = struct(item);
    return { Key: scalar(t.Key) ?? '', Value: scalar(t.Value) ?? '' };
  });
}

/** A document IAM would store, or MalformedPolicyDocument. */
function checkedDocument(text: string, kind: 'identity' | 'resource'): string {
  if (text.length > 131072)
    throw new AwsError('LimitExceeded', 'Cannot exceed quota for PolicySize: 131072', 409);
  try {
    documentOf(text, kind);
  } catch (error) {
    if (error instanceof MalformedPolicyError)
      throw new AwsError('MalformedPolicyDocument', error.message, 400);
    throw error;
  }
  return text;
}

const xml = (members: Record<string, XmlValue>) => toXml(members, 'member');

const tagsXml = (tags: Tag[]): XmlValue =>
  tags.length > 0 ? tags.map((t) => ({ Key: t.Key, Value: t.Value })) : undefined;

function roleXml(role: RoleState, withLastUsed = false): Record<string, XmlValue> {
  return {
    Path: role.path,
    RoleName: role.name,
    RoleId: role.roleId,
    Arn: role.arn,
    CreateDate: isoSeconds(role.createdAt),
    AssumeRolePolicyDocument: encodeDocument(role.trustPolicy),
    Description: role.description,
    MaxSessionDuration: role.maxSessionDuration,
    Tags: tagsXml(role.tags),
    ...(withLastUsed ? { RoleLastUsed: {} } : {}),
  };
}

function policyXml(p: CustomerPolicyState, attachments: number): Record<string, XmlValue> {
  return {
    PolicyName: p.name,
    DefaultVersionId: 'v1',
    PolicyId: p.policyId,
    Path: p.path,
    Arn: p.arn,
    AttachmentCount: attachments,
    PermissionsBoundaryUsageCount: 0,
    IsAttachable: true,
    Description: p.description,
    CreateDate: isoSeconds(p.createdAt),
    UpdateDate: isoSeconds(p.createdAt),
    Tags: tagsXml(p.tags),
  };
}

const noSuchRole = (name: string) =>
  new AwsError('NoSuchEntity', `The role with name ${name} cannot be found.`, 404);

/**
 * The users SimulatePrincipalPolicy can name: local-aws's users are the configured keys whose ARN
 * is a user's. undefined: no such user; a user without a policy has `{}`.
 */
export interface UserPolicies {
  policyOf(userArn: string): { document?: PolicyDocument } | undefined;
}

const ROLE_SOURCE = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([\w+=,.@-]+)$/;
const USER_SOURCE = /^arn:aws:iam::(\d{12}):user\/(?:.*\/)?([\w+=,.@-]+)$/;
const GROUP_SOURCE = /^arn:aws:iam::(\d{12}):group\/(?:.*\/)?([\w+=,.@-]+)$/;
const SESSION_SOURCE = /^arn:aws:sts::(\d{12}):assumed-role\/([\w+=,.@-]+)\/[\w+=,.@-]+$/;

function simulationInput(count: number, member: string, min: number, max: number, value: string): void {
  if (value.length < min || value.length > max)
    throw validation(
      `Value '${value}' at '${member}.${count}' failed to satisfy constraint: Member must have length ${value.length < min ? `greater than or equal to ${min}` : `less than or equal to ${max}`}`,
    );
}

export function createIamOperations(
  iam: IamState,
  save: () => void,
  users: UserPolicies = { policyOf: () => undefined },
): Record<string, Operation> {
  const account = (ctx: RequestContext) => accountOf(iam, ctx.identity.accountId);
  const roleOf = (ctx: RequestContext, tree: Tree): RoleState => {
    const name = checkName(required(tree, 'RoleName'), 'RoleName', 64);
    const role = account(ctx).roles[name.toLowerCase()];
    if (!role) throw noSuchRole(name);
    return role;
  };
  const attachments = (arn: string) =>
    Object.values(iam.accounts).reduce(
      (n, a) => n + Object.values(a.roles).filter((r) => r.attached.includes(arn)).length,
      0,
    );

  return {
    CreateRole(params, ctx) {
      const tree = paramTree(params);
      const name = checkName(required(tree, 'RoleName'), 'RoleName', 64);
      const path = pathOf(tree);
      const trust = checkedDocument(required(tree, 'AssumeRolePolicyDocument'), 'resource');
      const max = Number(scalar(tree.MaxSessionDuration) ?? '3600');
      if (!Number.isInteger(max) || max < 3600 || max > 43200)
        throw validation(
          `Value '${scalar(tree.MaxSessionDuration)}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to 43200`,
        );
      const description = scalar(tree.Description);
      if (description !== undefined && description.length > 1000)
        throw validation(
          `Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000`,
        );
      const roles = account(ctx).roles;
      if (roles[name.toLowerCase()])
        throw new AwsError('EntityAlreadyExists', `Role with name ${name} already exists.`, 409);
      const arn = `arn:aws:iam::${ctx.identity.accountId}:role${path}${name}`;
      const role: RoleState = {
        name,
        path,
        roleId: uniqueId('AROA', `${arn}/${ctx.clock.now()}`),
        arn,
        createdAt: ctx.clock.now(),
        trustPolicy: trust,
        ...(description !== undefined ? { description } : {}),
        maxSessionDuration: max,
        tags: tagsOf(tree),
        inline: {},
        attached: [],
      };
      roles[name.toLowerCase()] = role;
      save();
      return xml({ Role: roleXml(role) });
    },

    GetRole(params, ctx) {
      return xml({ Role: roleXml(roleOf(ctx, paramTree(params)), true) });
    },

    DeleteRole(params, ctx) {
      const role = roleOf(ctx, paramTree(params));
      if (role.attached.length > 0)
        throw new AwsError('DeleteConflict', 'Cannot delete entity, must detach all policies first.', 409);
      if (Object.keys(role.inline).length > 0)
        throw new AwsError('DeleteConflict', 'Cannot delete entity, must delete policies first.', 409);
      delete account(ctx).roles[role.name.toLowerCase()];
      save();
      return '';
    },

    UpdateAssumeRolePolicy(params, ctx) {
      const tree = paramTree(params);
      const role = roleOf(ctx, tree);
      role.trustPolicy = checkedDocument(required(tree, 'PolicyDocument'), 'resource');
      save();
      return '';
    },

    PutRolePolicy(params, ctx) {
      const tree = paramTree(params);
      const role = roleOf(ctx, tree);
      const name = checkName(required(tree, 'PolicyName'), 'PolicyName', 128);
      role.inline[name] = checkedDocument(required(tree, 'PolicyDocument'), 'identity');
      save();
      return '';
    },

    GetRolePolicy(params, ctx) {
      const tree = paramTree(params);
      const role = roleOf(ctx, tree);
      const name = checkName(required(tree, 'PolicyName'), 'PolicyName', 128);
      const text = role.inline[name];
      if (text === undefined)
        throw new AwsError('NoSuchEntity', `The role policy with name ${name} cannot be found.`, 404);
      return xml({ RoleName: role.name, PolicyName: name, PolicyDocument: encodeDocument(text) });
    },

    DeleteRolePolicy(params, ctx) {
      const tree = paramTree(params);
      const role = roleOf(ctx, tree);
      const name = checkName(required(tree, 'PolicyName'), 'PolicyName', 128);
      if (role.inline[name] === undefined)
        throw new AwsError('NoSuchEntity', `The role policy with name ${name} cannot be found.`, 404);
      delete role.inline[name];
      save();
      return '';
    },

    ListRolePolicies(params, ctx) {
      const role = roleOf(ctx, paramTree(params));
      return xml({ PolicyNames: Object.keys(role.inline).sort(), IsTruncated: false });
    },

    AttachRolePolicy(params, ctx) {
      const tree = paramTree(params);
      const role = roleOf(ctx, tree);
      const arn = required(tree, 'PolicyArn');
      const exists =
        awsManagedPolicy(arn) !== undefined ||
        Object.values(iam.accounts).some((a) => a.policies[arn] !== undefined);
      if (!exists)
        throw new AwsError('NoSuchEntity', `Policy ${arn} does not exist or is not attachable.`, 404);
      if (!role.attached.includes(arn)) {
        if (role.attached.length >= MAX_ATTACHED)
          throw new AwsError(
            'LimitExceeded',
            `Cannot exceed quota for PoliciesPerRole: ${MAX_ATTACHED}`,
            409,
          );
        role.attached.push(arn);
        save();
      }
      return '';
    },

    DetachRolePolicy(params, ctx) {
      const tree = paramTree(params);
      const role = roleOf(ctx, tree);
      const arn = required(tree, 'PolicyArn');
      if (!role.attached.includes(arn))
        throw new AwsError('NoSuchEntity', `Policy ${arn} was not found.`, 404);
      role.attached = role.attached.filter((a) => a !== arn);
      save();
      return '';
    },

    ListAttachedRolePolicies(params, ctx) {
      const role = roleOf(ctx, paramTree(params));
      const attached = role.attached.map((arn) => ({
        PolicyName: arn.slice(arn.lastIndexOf('/') + 1),
        PolicyArn: arn,
      }));
      return xml({ AttachedPolicies: attached, IsTruncated: false });
    },

    CreatePolicy(params, ctx) {
      const tree = paramTree(params);
      const name = checkName(required(tree, 'PolicyName'), 'PolicyName', 128);
      const path = pathOf(tree);
      const document = checkedDocument(required(tree, 'PolicyDocument'), 'identity');
      const policies = account(ctx).policies;
      if (Object.values(policies).some((p) => p.name === name))
        throw new AwsError(
          'EntityAlreadyExists',
          `A policy called ${name} already exists. Duplicate names are not allowed.`,
          409,
        );
      const arn = `arn:aws:iam::${ctx.identity.accountId}:policy${path}${name}`;
      const description = scalar(tree.Description);
      const policy: CustomerPolicyState = {
        name,
        path,
        policyId: uniqueId('ANPA', `${arn}/${ctx.clock.now()}`),
        arn,
        ...(description !== undefined ? { description } : {}),
        document,
        createdAt: ctx.clock.now(),
        tags: tagsOf(tree),
      };
      policies[arn] = policy;
      save();
      return xml({ Policy: policyXml(policy, attachments(arn)) });
    },

    SimulatePrincipalPolicy(params) {
      const tree = paramTree(params);
      const source = required(tree, 'PolicySourceArn');
      if (source.length < 20 || source.length > 2048)
        throw validation(
          `Value '${source}' at 'policySourceArn' failed to satisfy constraint: Member must have length ${source.length < 20 ? 'greater than or equal to 20' : 'less than or equal to 2048'}`,
        );
      const actions = strings(tree.ActionNames);
      if (tree.ActionNames === undefined)
        throw validation(`Value null at 'actionNames' failed to satisfy constraint: Member must not be null`);
      actions.forEach((a, i) => simulationInput(i + 1, 'actionNames', 3, 128, a));
      const named = strings(tree.ResourceArns);
      named.forEach((r, i) => simulationInput(i + 1, 'resourceArns', 1, 2048, r));
      const maxItems = Number(scalar(tree.MaxItems) ?? '100');
      if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 1000)
        throw validation(
          `Value '${scalar(tree.MaxItems)}' at 'maxItems' failed to satisfy constraint: Member must have value ${maxItems < 1 ? 'greater than or equal to 1' : 'less than or equal to 1000'}`,
        );
      const context: Record<string, ContextValue> = {};
      for (const entry of list(tree.ContextEntries)) {
        const e = struct(entry);
        const name = scalar(e.ContextKeyName);
        if (name === undefined) continue;
        context[name] = contextValue(scalar(e.ContextKeyType), strings(e.ContextKeyValues));
      }
      const inputs: SimulatedPolicy[] = strings(tree.PolicyInputList).map((text, i) => {
        let document: PolicyDocument;
        try {
          document = parsePolicy(text, 'identity');
        } catch (error) {
          if (error instanceof MalformedPolicyError) throw new AwsError('InvalidInput', error.message, 400);
          throw error;
        }
        return { id: `PolicyInputList.${i + 1}`, document, text };
      });
      const policies = [...principalPolicies(source), ...inputs];
      const resources = named.length > 0 ? named : ['*'];
      const pairs = actions.flatMap((action) => resources.map((resource) => ({ action, resource })));
      const marker = scalar(tree.Marker);
      let start = 0;
      if (marker !== undefined) {
        start = Number(Buffer.from(marker, 'base64url').toString('utf8'));
        if (!Number.isInteger(start) || start < 0 || start > pairs.length)
          throw new AwsError('InvalidInput', `Invalid Marker: ${marker}`, 400);
      }
      const page = pairs.slice(start, start + maxItems);
      const next = start + page.length;
      const truncated = next < pairs.length;
      return xml({
        EvaluationResults: page.map(({ action, resource }) =>
          evaluationResultXml(simulateOne(policies, action, resource, context), named.length > 0),
        ),
        IsTruncated: truncated,
        ...(truncated ? { Marker: Buffer.from(String(next)).toString('base64url') } : {}),
      });
    },

    CreateOpenIDConnectProvider(params, ctx) {
      const tree = paramTree(params);
      const url = required(tree, 'Url');
      let parsed: URL | undefined;
      try {
        parsed = new URL(url);
      } catch {
        parsed = undefined;
      }
      const loopback = parsed !== undefined && ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname);
      if (
        !parsed ||
        (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && loopback)) ||
        parsed.search
      )
        throw new AwsError(
          'InvalidInput',
          `Invalid Url: ${url} (give https://<host>[/<path>]; local-aws also takes http:// on loopback)`,
          400,
        );
      const clientIds = strings(tree.ClientIDList);
      const thumbprints = strings(tree.ThumbprintList);
      if (thumbprints.some((t) => !/^[0-9a-fA-F]{40}$/.test(t)))
        throw validation(
          `Value at 'thumbprintList' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 40, Member must have length greater than or equal to 40]`,
        );
      const key = providerKey(url);
      const providers = account(ctx).oidcProviders;
      if (providers[key])
        throw new AwsError('EntityAlreadyExists', `Provider with url ${url} already exists.`, 409);
      const provider: OidcProviderState = {
        url,
        arn: `arn:aws:iam::${ctx.identity.accountId}:oidc-provider/${key}`,
        clientIds,
        thumbprints,
        createdAt: ctx.clock.now(),
        tags: tagsOf(tree),
      };
      providers[key] = provider;
      save();
      return xml({
        OpenIDConnectProviderArn: provider.arn,
        Tags: tagsXml(provider.tags),
      });
    },

    GetOpenIDConnectProvider(params, ctx) {
      const provider = providerOf(ctx, paramTree(params));
      return xml({
        Url: providerKey(provider.url),
        ClientIDList: provider.clientIds,
        ThumbprintList: provider.thumbprints,
        CreateDate: isoSeconds(provider.createdAt),
        Tags: tagsXml(provider.tags),
      });
    },

    ListOpenIDConnectProviders(_params, ctx) {
      return xml({
        OpenIDConnectProviderList: Object.values(account(ctx).oidcProviders).map((p) => ({ Arn: p.arn })),
      });
    },

    DeleteOpenIDConnectProvider(params, ctx) {
      const provider = providerOf(ctx, paramTree(params));
      delete account(ctx).oidcProviders[providerKey(provider.url)];
      save();
      return '';
    },
  };

  /** The identity-based policies of a simulation's PolicySourceArn: a role's, a session's role's, a user's. */
  function principalPolicies(arn: string): SimulatedPolicy[] {
    const roleMatch = ROLE_SOURCE.exec(arn) ?? SESSION_SOURCE.exec(arn);
    if (roleMatch) {
      const role = iam.accounts[roleMatch[1]!]?.roles[roleMatch[2]!.toLowerCase()];
      if (!role || (arn.startsWith('arn:aws:iam:') && role.arn !== arn)) throw noSuchRole(roleMatch[2]!);
      const inline = Object.entries(role.inline).map(([name, text]) => ({
        id: name,
        type: 'role' as const,
        document: documentOf(text),
        text,
      }));
      const attached = role.attached.flatMap((policyArn) => {
        const document = managedDocument(iam, policyArn);
        if (!document) return [];
        const aws = awsManagedPolicy(policyArn);
        const customer = Object.values(iam.accounts)
          .map((a) => a.policies[policyArn])
          .find((p) => p !== undefined);
        return [
          {
            id: policyArn.slice(policyArn.lastIndexOf('/') + 1),
            type: aws ? ('aws-managed' as const) : ('user-managed' as const),
            document,
            text: customer?.document ?? JSON.stringify(document, null, 4),
          },
        ];
      });
      return [...inline, ...attached];
    }
    const userMatch = USER_SOURCE.exec(arn);
    if (userMatch) {
      const user = users.policyOf(arn);
      if (!user)
        throw new AwsError('NoSuchEntity', `The user with name ${userMatch[2]!} cannot be found.`, 404);
      if (!user.document) return [];
      return [
        {
          id: userMatch[2]!,
          type: 'user',
          document: user.document,
          text: JSON.stringify(user.document, null, 4),
        },
      ];
    }
    const groupMatch = GROUP_SOURCE.exec(arn);
    if (groupMatch)
      throw new AwsError('NoSuchEntity', `The group with name ${groupMatch[2]!} cannot be found.`, 404);
    throw new AwsError('InvalidInput', `ARN ${arn} is not valid.`, 400);
  }

  function providerOf(ctx: RequestContext, tree: Tree): OidcProviderState {
    const arn = required(tree, 'OpenIDConnectProviderArn');
    const provider = Object.values(account(ctx).oidcProviders).find((p) => p.arn === arn);
    if (!provider) throw new AwsError('NoSuchEntity', `OpenIDConnect Provider not found for arn ${arn}`, 404);
    return provider;
  }
}

/**
 * What IAM evaluates for its own calls: the role's ARN (with its path), the policy's, the
 * provider's; "*" for the list of providers. AttachRolePolicy carries iam:PolicyARN.
 */
export function iamAuthorization(iam: IamState): Authorization<URLSearchParams> {
  return (operation, params, ctx) => {
    const action = `iam:${operation}`;
    const account = ctx.identity.accountId;
    if (operation === 'SimulatePrincipalPolicy')
      return [{ action, resource: params.get('PolicySourceArn') ?? '*' }];
    const roleName = params.get('RoleName');
    if (roleName !== null) {
      const existing = iam.accounts[account]?.roles[roleName.toLowerCase()];
      const path = existing?.path ?? (operation === 'CreateRole' ? (params.get('Path') ?? '/') : '/');
      const resource = existing?.arn ?? `arn:aws:iam::${account}:role${path}${roleName}`;
      const policyArn = params.get('PolicyArn');
      return [
        { action, resource, ...(policyArn !== null ? { context: { 'iam:PolicyARN': policyArn } } : {}) },
      ];
    }
    if (operation === 'CreatePolicy') {
      const path = params.get('Path') ?? '/';
      return [{ action, resource: `arn:aws:iam::${account}:policy${path}${params.get('PolicyName') ?? ''}` }];
    }
    const providerArn = params.get('OpenIDConnectProviderArn');
    if (providerArn !== null) return [{ action, resource: providerArn }];
    const url = params.get('Url');
    if (url !== null)
      return [{ action, resource: `arn:aws:iam::${account}:oidc-provider/${providerKey(url)}` }];
    return [{ action, resource: '*' }];
  };
}
