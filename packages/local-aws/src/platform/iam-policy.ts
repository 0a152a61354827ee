// IAM policy documents: parsed and checked as IAM checks them when they are stored, and evaluated as
// AWS evaluates them for one request — an explicit Deny wins, then any Allow, else the request is
// denied by default. Pure: no state, no I/O; the server (platform/access.ts) decides which
// documents apply to a caller, and the services say which action, resource and context keys each
// operation stands for.
//
// What is evaluated: Effect; Action / NotAction (case-insensitive, `*` and `?` wildcards); Resource
// / NotResource (case-sensitive; a `*` that ends an ARN segment reaches past its colons, as IAM
// documents); Principal in resource-based documents (trust policies); Condition with the String,
// Numeric, Date, Bool, Arn and Null operators, their IfExists forms and the ForAnyValue: /
// ForAllValues: set qualifiers. Keys are matched case-insensitively. Not evaluated: policy
// variables (`${aws:username}` is matched literally), IpAddress/NotIpAddress and Binary operators
// (refused when the document is stored, rather than guessed at), NotPrincipal.

/** A policy document as stored (the JSON object). */
export interface PolicyDocument {
  Version?: string;
  Id?: string;
  Statement: PolicyStatement | PolicyStatement[];
}

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Principal?: PrincipalElement;
  Condition?: Record<string, Record<string, ConditionValue | ConditionValue[]>>;
}

export type PrincipalElement = '*' | Record<string, string | string[]>;
export type ConditionValue = string | number | boolean;

/** A value in the request context: a string, a number, a boolean, or a set of strings. */
export type ContextValue = string | number | boolean | string[];

/** Who makes a request, as a resource-based document's Principal element names principals. */
export interface RequestPrincipal {
  /** The ARNs a `"AWS": …` principal may name for this caller (session, role, user, account root). */
  aws?: string[];
  /** The identity provider of a federated caller (the OIDC provider's ARN). */
  federated?: string;
  service?: string;
}

/** One authorisation question: may the caller do `action` on `resource`, given `context`? */
export interface AuthorizationRequest {
  /** "ecs:UpdateService". */
  action: string;
  /** The resource's ARN, or "*" for actions that have no resource type. */
  resource: string;
  /** Condition keys (case-insensitive names) and their values for this request. */
  context?: Record<string, ContextValue | undefined>;
}

export type Decision = 'allow' | 'implicit-deny' | 'explicit-deny';

export interface Evaluation {
  decision: Decision;
  /** The statement that decided it (the Deny that matched, or the first Allow). */
  statement?: { policy: number; index: number; sid?: string };
  /** For resource-based documents: the Principal entry that matched (an ARN, "*", or the account). */
  matchedPrincipal?: string;
}

/** A document IAM would refuse, with IAM's message. */
export class MalformedPolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedPolicyDocument';
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing and checking

const TOP_LEVEL = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_KEYS = new Set([
  'Sid',
  'Effect',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Principal',
  'NotPrincipal',
  'Condition',
]);
const BASE_OPERATORS = new Set([
  'StringEquals',
  'StringNotEquals',
  'StringEqualsIgnoreCase',
  'StringNotEqualsIgnoreCase',
  'StringLike',
  'StringNotLike',
  'NumericEquals',
  'NumericNotEquals',
  'NumericLessThan',
  'NumericLessThanEquals',
  'NumericGreaterThan',
  'NumericGreaterThanEquals',
  'DateEquals',
  'DateNotEquals',
  'DateLessThan',
  'DateLessThanEquals',
  'DateGreaterThan',
  'DateGreaterThanEquals',
  'Bool',
  'ArnEquals',
  'ArnLike',
  'ArnNotEquals',
  'ArnNotLike',
  'Null',
]);

/** 'identity': attached to a principal (no Principal, Resource required); 'resource': a trust policy. */
export type PolicyKind = 'identity' | 'resource';

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

function stringList(value: unknown, element: string): string[] {
  const items = list(value);
  if (items.length === 0 || items.some((v) => typeof v !== 'string'))
    throw new MalformedPolicyError(
      `Syntax errors in policy. ${element} must be a string or a list of strings.`,
    );
  return items as string[];
}

/**
 * Parses a policy (JSON text or an object) and checks it as IAM does when it is stored: the
 * elements and their types, Effect, action and resource formats, known condition operators, and
 * Principal present in a resource-based document and absent from an identity-based one. Throws
 * MalformedPolicyError with IAM's message.
 */
export function parsePolicy(input: string | object, kind: PolicyKind = 'identity'): PolicyDocument {
  let doc: unknown = input;
  if (typeof input === 'string') {
    try {
      doc = JSON.parse(input);
    } catch {
      throw new MalformedPolicyError('Syntax errors in policy.');
    }
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new MalformedPolicyError('Syntax errors in policy.');
  const record = doc as Record<string, unknown>;
  for (const key of Object.keys(record))
    if (!TOP_LEVEL.has(key)) throw new MalformedPolicyError('Syntax errors in policy.');
  if (record.Version !== undefined && record.Version !== '2012-10-17' && record.Version !== '2008-10-17')
    throw new MalformedPolicyError('The policy failed legacy parsing');
  if (record.Statement === undefined) throw new MalformedPolicyError('Syntax errors in policy.');
  const statements = list(record.Statement);
  if (statements.length === 0) throw new MalformedPolicyError('Syntax errors in policy.');
  statements.forEach((s) => checkStatement(s, kind));
  return structuredClone(record) as unknown as PolicyDocument;
}

function checkStatement(statement: unknown, kind: PolicyKind): void {
  if (typeof statement !== 'object' || statement === null || Array.isArray(statement))
    throw new MalformedPolicyError('Syntax errors in policy.');
  const s = statement as Record<string, unknown>;
  for (const key of Object.keys(s))
    if (!STATEMENT_KEYS.has(key)) throw new MalformedPolicyError('Syntax errors in policy.');
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny')
    throw new MalformedPolicyError(`Invalid effect: ${String(s.Effect)}`);
  if (s.Sid !== undefined && typeof s.Sid !== 'string')
    throw new MalformedPolicyError('Syntax errors in policy.');
  if ((s.Action === undefined) === (s.NotAction === undefined))
    throw new MalformedPolicyError('Policy statement must contain actions.');
  for (const action of stringList(s.Action ?? s.NotAction, 'Action')) {
    if (action !== '*' && !/^[a-zA-Z0-9-]+:[A-Za-z0-9*?]+$/.test(action))
      throw new MalformedPolicyError(
        'Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.',
      );
  }
  if (s.Resource !== undefined && s.NotResource !== undefined)
    throw new MalformedPolicyError('Syntax errors in policy.');
  if (kind === 'identity' && s.Resource === undefined && s.NotResource === undefined)
    throw new MalformedPolicyError('Policy statement must contain resources.');
  if (s.Resource !== undefined || s.NotResource !== undefined) {
    for (const resource of stringList(s.Resource ?? s.NotResource, 'Resource')) {
      if (resource !== '*' && !/^arn:[^:]*:[^:]*:[^:]*:[^:]*:.+$/.test(resource))
        throw new MalformedPolicyError(`Resource ${resource} must be in ARN format or "*".`);
    }
  }
  if (s.NotPrincipal !== undefined)
    throw new MalformedPolicyError(
      'local-aws does not evaluate NotPrincipal: name the principals in Principal.',
    );
  if (kind === 'identity' && s.Principal !== undefined)
    throw new MalformedPolicyError('Policy document should not specify a principal.');
  if (kind === 'resource') {
    if (s.Principal === undefined) throw new MalformedPolicyError('Missing required field Principal');
    checkPrincipal(s.Principal);
  }
  if (s.Condition !== undefined) checkCondition(s.Condition);
}

function checkPrincipal(principal: unknown): void {
  if (principal === '*') return;
  if (typeof principal !== 'object' || principal === null || Array.isArray(principal))
    throw new MalformedPolicyError('Invalid principal in policy');
  for (const [type, value] of Object.entries(principal)) {
    if (!['AWS', 'Federated', 'Service', 'CanonicalUser'].includes(type))
      throw new MalformedPolicyError('Invalid principal in policy');
    stringList(value, 'Principal');
  }
}

/** Splits "ForAnyValue:StringLikeIfExists" into its qualifier, base operator and IfExists. */
function splitOperator(name: string): { set?: 'any' | 'all'; base: string; ifExists: boolean } | undefined {
  let rest = name;
  let set: 'any' | 'all' | undefined;
  if (rest.startsWith('ForAnyValue:')) [set, rest] = ['any', rest.slice('ForAnyValue:'.length)];
  else if (rest.startsWith('ForAllValues:')) [set, rest] = ['all', rest.slice('ForAllValues:'.length)];
  const ifExists = rest.endsWith('IfExists') && rest !== 'IfExists';
  if (ifExists) rest = rest.slice(0, -'IfExists'.length);
  if (!BASE_OPERATORS.has(rest) || (ifExists && rest === 'Null')) return undefined;
  return { ...(set ? { set } : {}), base: rest, ifExists };
}

function checkCondition(condition: unknown): void {
  if (typeof condition !== 'object' || condition === null || Array.isArray(condition))
    throw new MalformedPolicyError('Syntax errors in policy.');
  for (const [operator, block] of Object.entries(condition)) {
    if (!splitOperator(operator)) {
      throw new MalformedPolicyError(
        /^(ForAnyValue:|ForAllValues:)?(NotIpAddress|IpAddress|BinaryEquals)/.test(operator)
          ? `local-aws does not evaluate the ${operator} condition operator.`
          : `Invalid Condition type : ${operator}.`,
      );
    }
    if (typeof block !== 'object' || block === null || Array.isArray(block))
      throw new MalformedPolicyError('Syntax errors in policy.');
    for (const values of Object.values(block)) {
      const items = list(values);
      if (items.some((v) => !['string', 'number', 'boolean'].includes(typeof v)))
        throw new MalformedPolicyError('Syntax errors in policy.');
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Matching

const regexCache = new Map<string, RegExp>();

function cached(key: string, build: () => RegExp): RegExp {
  let re = regexCache.get(key);
  if (!re) {
    re = build();
    if (regexCache.size > 5000) regexCache.clear();
    regexCache.set(key, re);
  }
  return re;
}

const escape = (c: string) => c.replace(/[.+^${}()|[\]\\/]/g, '\\$&');

/** A glob where `*` is any run of characters and `?` any one character. */
function globRegex(pattern: string, flags: string): RegExp {
  return cached(`g${flags}${pattern}`, () => {
    let source = '';
    for (const c of pattern) source += c === '*' ? '.*' : c === '?' ? '.' : escape(c);
    return new RegExp(`^${source}$`, flags);
  });
}

/** StringLike: case-sensitive glob over the whole value. */
export function stringLike(pattern: string, value: string): boolean {
  return globRegex(pattern, 's').test(value);
}

/** Action: `service:Name` glob, case-insensitive; `*` matches every action. */
export function actionMatches(pattern: string, action: string): boolean {
  return pattern === '*' || globRegex(pattern, 'is').test(action);
}

/**
 * Resource: case-sensitive; `*` and `?` stay within an ARN segment (between colons) unless the
 * `*` is the last character of a segment, which IAM lets reach past the colons.
 */
export function resourceMatches(pattern: string, resource: string): boolean {
  if (pattern === '*') return true;
  return cached(`r${pattern}`, () => {
    let source = '';
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern[i]!;
      const next = pattern[i + 1];
      if (c === '*') source += next === undefined || next === ':' ? '.*' : '[^:]*';
      else if (c === '?') source += '[^:]';
      else source += escape(c);
    }
    return new RegExp(`^${source}$`, 's');
  }).test(resource);
}

/** ArnLike / ArnEquals: each of the six colon-separated components compared on its own. */
export function arnLike(pattern: string, value: string): boolean {
  const split = (arn: string): string[] | undefined => {
    const parts = arn.split(':');
    if (parts.length < 6) return undefined;
    return [...parts.slice(0, 5), parts.slice(5).join(':')];
  };
  const p = split(pattern);
  const v = split(value);
  if (!p || !v) return false;
  return p.every((component, i) => stringLike(component, v[i]!));
}

function toNumber(value: string): number | undefined {
  const n = Number(value);
  return value.trim() === '' || Number.isNaN(n) ? undefined : n;
}

function toTime(value: string): number | undefined {
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/** One context value against the policy's values, for a base operator (negation applied). */
function matchOne(base: string, contextValue: string, policyValues: string[]): boolean {
  const compare = (test: (p: string) => boolean, negated: boolean) =>
    negated ? !policyValues.some(test) : policyValues.some(test);
  switch (base) {
    case 'StringEquals':
    case 'StringNotEquals':
      return compare((p) => p === contextValue, base === 'StringNotEquals');
    case 'StringEqualsIgnoreCase':
    case 'StringNotEqualsIgnoreCase':
      return compare(
        (p) => p.toLowerCase() === contextValue.toLowerCase(),
        base === 'StringNotEqualsIgnoreCase',
      );
    case 'StringLike':
    case 'StringNotLike':
      return compare((p) => stringLike(p, contextValue), base === 'StringNotLike');
    case 'ArnEquals':
    case 'ArnLike':
    case 'ArnNotEquals':
    case 'ArnNotLike':
      return compare((p) => arnLike(p, contextValue), base === 'ArnNotEquals' || base === 'ArnNotLike');
    case 'Bool':
      return compare((p) => p.toLowerCase() === contextValue.toLowerCase(), false);
    default: {
      const numeric = base.startsWith('Numeric');
      const parse = numeric ? toNumber : toTime;
      const c = parse(contextValue);
      if (c === undefined) return false;
      const op = base.slice(numeric ? 'Numeric'.length : 'Date'.length);
      const test = (p: string) => {
        const v = parse(p);
        if (v === undefined) return false;
        switch (op) {
          case 'Equals':
          case 'NotEquals':
            return c === v;
          case 'LessThan':
            return c < v;
          case 'LessThanEquals':
            return c <= v;
          case 'GreaterThan':
            return c > v;
          default:
            return c >= v;
        }
      };
      return compare(test, op === 'NotEquals');
    }
  }
}

const isNegated = (base: string) => /Not(Equals|Like)/.test(base);

function contextLookup(
  context: Record<string, ContextValue | undefined>,
  key: string,
): ContextValue | undefined {
  if (Object.hasOwn(context, key)) return context[key];
  const lower = key.toLowerCase();
  for (const [k, v] of Object.entries(context)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** Whether one operator's block holds: every key in it (AND), any of each key's values (OR). */
function conditionHolds(
  operator: string,
  block: Record<string, ConditionValue | ConditionValue[]>,
  context: Record<string, ContextValue | undefined>,
): boolean {
  const op = splitOperator(operator)!;
  return Object.entries(block).every(([key, raw]) => {
    const policyValues = list(raw).map((v) => String(v));
    const found = contextLookup(context, key);
    const values = found === undefined ? [] : Array.isArray(found) ? found : [String(found)];
    if (op.base === 'Null') {
      const absent = values.length === 0;
      return policyValues.some((p) => (p.toLowerCase() === 'true' ? absent : !absent));
    }
    if (op.set === 'all') return values.every((v) => matchOne(op.base, v, policyValues));
    if (values.length === 0) return op.ifExists || (op.set === undefined && isNegated(op.base));
    if (op.set === 'any') return values.some((v) => matchOne(op.base, v, policyValues));
    // Without a qualifier, a negated operator holds when no value matches, a positive one when any does.
    return isNegated(op.base)
      ? values.every((v) => matchOne(op.base, v, policyValues))
      : values.some((v) => matchOne(op.base, v, policyValues));
  });
}

function principalMatch(element: PrincipalElement | undefined, who: RequestPrincipal): string | undefined {
  if (element === undefined) return undefined;
  if (element === '*') return '*';
  for (const [type, raw] of Object.entries(element)) {
    for (const named of list(raw) as string[]) {
      if (type === 'AWS') {
        if (named === '*') return '*';
        const arn = /^\d{12}$/.test(named) ? `arn:aws:iam::${named}:root` : named;
        if (who.aws?.includes(arn)) return arn;
      } else if (type === 'Federated') {
        if (who.federated !== undefined && named === who.federated) return named;
      } else if (type === 'Service') {
        if (who.service !== undefined && named === who.service) return named;
      }
    }
  }
  return undefined;
}

function statementApplies(
  s: PolicyStatement,
  request: AuthorizationRequest,
  principal: RequestPrincipal | undefined,
): { applies: boolean; matchedPrincipal?: string } {
  const actions = list(s.Action ?? s.NotAction) as string[];
  const actionHit = actions.some((p) => actionMatches(p, request.action));
  if (s.Action !== undefined ? !actionHit : actionHit) return { applies: false };
  if (s.Resource !== undefined || s.NotResource !== undefined) {
    const resources = list(s.Resource ?? s.NotResource) as string[];
    const hit = resources.some((p) => resourceMatches(p, request.resource));
    if (s.Resource !== undefined ? !hit : hit) return { applies: false };
  }
  let matchedPrincipal: string | undefined;
  if (principal) {
    matchedPrincipal = principalMatch(s.Principal, principal);
    if (matchedPrincipal === undefined) return { applies: false };
  }
  const context = request.context ?? {};
  for (const [operator, block] of Object.entries(s.Condition ?? {}))
    if (!conditionHolds(operator, block, context)) return { applies: false };
  return { applies: true, ...(matchedPrincipal !== undefined ? { matchedPrincipal } : {}) };
}

/**
 * Evaluates documents for one request as IAM does: an explicit Deny in any of them wins, else an
 * Allow in any of them allows, else the request is denied by default. With `principal`, the
 * documents are resource-based (a role's trust policy) and a statement applies only to the
 * principals its Principal element names.
 */
export function evaluate(
  policies: readonly PolicyDocument[],
  request: AuthorizationRequest,
  principal?: RequestPrincipal,
): Evaluation {
  let allow: Evaluation | undefined;
  for (const [p, doc] of policies.entries()) {
    for (const [index, s] of (list(doc.Statement) as PolicyStatement[]).entries()) {
      const hit = statementApplies(s, request, principal);
      if (!hit.applies) continue;
      const statement = { policy: p, index, ...(s.Sid !== undefined ? { sid: s.Sid } : {}) };
      if (s.Effect === 'Deny') return { decision: 'explicit-deny', statement };
      allow ??= {
        decision: 'allow',
        statement,
        ...(hit.matchedPrincipal !== undefined ? { matchedPrincipal: hit.matchedPrincipal } : {}),
      };
    }
  }
  return allow ?? { decision: 'implicit-deny' };
}

/**
 * The actions a document allows by name (its Allow statements' Action entries, as written): what a
 * least-privilege check compares with the actions an operation log shows.
 */
export function allowedActions(doc: PolicyDocument): string[] {
  const out = new Set<string>();
  for (const s of list(doc.Statement) as PolicyStatement[])
    if (s.Effect === 'Allow' && s.Action !== undefined)
      for (const a of list(s.Action) as string[]) out.add(a);
  return [...out].sort();
}

/**
 * AWS's words for a denied request: "User: <arn> is not authorized to perform: <action> on
 * resource: <resource> because no identity-based policy allows the <action> action" (or "with an
 * explicit deny in an identity-based policy").
 */
export function accessDeniedMessage(
  callerArn: string,
  request: Pick<AuthorizationRequest, 'action' | 'resource'>,
  decision: Exclude<Decision, 'allow'>,
  policyType: 'identity-based' | 'session' = 'identity-based',
): string {
  const why =
    decision === 'explicit-deny'
      ? `with an explicit deny in ${policyType === 'session' ? 'a session' : 'an identity-based'} policy`
      : `because no ${policyType === 'session' ? 'session' : 'identity-based'} policy allows the ${request.action} action`;
  return `User: ${callerArn} is not authorized to perform: ${request.action} on resource: ${request.resource} ${why}`;
}
