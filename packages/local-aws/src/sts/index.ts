// STS over the Query protocol: GetCallerIdentity, as a signed POST form or a presigned GET (the
// payload of an EKS token); AssumeRole; and AssumeRoleWithWebIdentity, unsigned, with an OpenID
// Connect ID token (GitHub's, in a workflow). STS allows 15 minutes of clock skew, and accepts a
// presigned GetCallerIdentity for 15 minutes from X-Amz-Date whatever X-Amz-Expires says.
//
// A role's temporary credentials (ASIA… key, secret, session token, expiring on the server's
// credential clock) sign later calls as arn:aws:sts::<account>:assumed-role/<role>/<session>, and
// IAM evaluates the role's policies for them (read at each call), narrowed by a session policy.
import { randomBytes } from 'node:crypto';
import { AwsError, type QueryService, type ServiceFactory } from '../service.js';
import type { AccessControl } from '../platform/access.js';
import type { IdentityStore } from '../platform/identities.js';
import { evaluate, MalformedPolicyError, parsePolicy, type PolicyDocument } from '../platform/iam-policy.js';
import { xmlMembers } from '../platform/protocols.js';
import { documentOf, providerKey, roleByArn, type IamState, type RoleState } from '../iam/model.js';
import { decodeJwt, fetchIssuerKeys, verifyJwt } from './web-identity.js';

export const STS_VERSION = '2011-06-15';

const SESSION_NAME_RE = /^[\w+=,.@-]*$/;
const ROLE_ARN_RE = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/;
const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export interface StsDeps {
  identities: IdentityStore;
  access: AccessControl;
  /** IAM's state: roles and OIDC providers. */
  iam: IamState;
  /** The time credentials are issued on and tokens checked against (the server's credential clock). */
  credentialNow: () => number;
  /** CA certificates (PEM) trusted when fetching an issuer's keys over HTTPS: local-aws's own. */
  trustedCa: string[];
}

function validation(message: string): AwsError {
  return new AwsError('ValidationError', `1 validation error detected: ${message}`, 400);
}

/** ISO 8601 without milliseconds, as STS writes Expiration. */
const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function accessKeyId(): string {
  const bytes = randomBytes(16);
  let id = 'ASIA';
  for (const b of bytes) id += KEY_ALPHABET[b % 32];
  return id;
}

/** The request's session parameters, checked as STS checks them. */
function sessionParams(params: URLSearchParams): {
  roleArn: string;
  sessionName: string;
  duration: number | undefined;
  sessionPolicy: PolicyDocument | undefined;
  policyText: string | undefined;
} {
  const roleArn = params.get('RoleArn');
  const sessionName = params.get('RoleSessionName');
  if (roleArn === null)
    throw validation("Value null at 'roleArn' failed to satisfy constraint: Member must not be null");
  if (sessionName === null)
    throw validation("Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null");
  if (roleArn.length < 20 || roleArn.length > 2048)
    throw validation(
      `Value '${roleArn}' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20`,
    );
  if (sessionName.length < 2 || sessionName.length > 64)
    throw validation(
      `Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must have length ${sessionName.length < 2 ? 'greater than or equal to 2' : 'less than or equal to 64'}`,
    );
  if (!SESSION_NAME_RE.test(sessionName))
    throw validation(
      `Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
    );
  const rawDuration = params.get('DurationSeconds');
  let duration: number | undefined;
  if (rawDuration !== null) {
    duration = Number(rawDuration);
    if (!Number.isInteger(duration) || duration < 900)
      throw validation(
        `Value '${rawDuration}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900`,
      );
    if (duration > 43200)
      throw validation(
        `Value '${rawDuration}' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200`,
      );
  }
  const policyText = params.get('Policy') ?? undefined;
  let sessionPolicy: PolicyDocument | undefined;
  if (policyText !== undefined) {
    try {
      sessionPolicy = parsePolicy(policyText, 'identity');
    } catch (error) {
      if (error instanceof MalformedPolicyError)
        throw new AwsError('MalformedPolicyDocument', error.message, 400);
      throw error;
    }
  }
  return { roleArn, sessionName, duration, sessionPolicy, policyText };
}

export function createSts(deps?: StsDeps): ServiceFactory<Record<string, never>> {
  return () => {
    const sts: QueryService = {
      protocol: 'query',
      signingName: 'sts',
      version: STS_VERSION,
      xmlNamespace: `https://sts.amazonaws.com/doc/${STS_VERSION}/`,
      skewMs: 15 * 60_000,
      presignedMaxAgeMs: 15 * 60_000,
      unsignedOperations: ['AssumeRoleWithWebIdentity'],
      // GetCallerIdentity needs no permission (an explicit deny cannot stop it either); the
      // AssumeRole operations weigh the trust policy with the caller's policies themselves.
      authorization: (operation) =>
        ['GetCallerIdentity', 'AssumeRole', 'AssumeRoleWithWebIdentity'].includes(operation) ? [] : undefined,
      operations: {
        GetCallerIdentity: (_params, ctx) =>
          xmlMembers({ Arn: ctx.identity.arn, UserId: ctx.identity.userId, Account: ctx.identity.accountId }),
        ...(deps ? roleOperations(deps) : {}),
      },
    };
    return { services: [sts], routes: [], admin: {} };
  };
}

function roleOperations(deps: StsDeps): QueryService['operations'] {
  const { identities, access, iam, credentialNow } = deps;

  /** Issues a role session's credentials and the XML members every AssumeRole* answer shares. */
  function issue(
    role: RoleState,
    sessionName: string,
    duration: number,
    sessionPolicy: PolicyDocument | undefined,
    policyText: string | undefined,
  ): string {
    const account = /^arn:aws:iam::(\d{12}):/.exec(role.arn)![1]!;
    const arn = `arn:aws:sts::${account}:assumed-role/${role.name}/${sessionName}`;
    const key = accessKeyId();
    const secret = randomBytes(30).toString('base64');
    const token = randomBytes(180).toString('base64');
    const expiresAt = credentialNow() + duration * 1000;
    identities.add({
      accessKeyId: key,
      secretAccessKey: secret,
      sessionToken: token,
      arn,
      userId: `${role.roleId}:${sessionName}`,
      accountId: account,
      expiresAt,
      roleArn: role.arn,
      ...(sessionPolicy ? { sessionPolicy } : {}),
    });
    return (
      `<AssumedRoleUser>${xmlMembers({ AssumedRoleId: `${role.roleId}:${sessionName}`, Arn: arn })}</AssumedRoleUser>` +
      `<Credentials>${xmlMembers({
        AccessKeyId: key,
        SecretAccessKey: secret,
        SessionToken: token,
        Expiration: isoSeconds(expiresAt),
      })}</Credentials>` +
      (policyText !== undefined
        ? xmlMembers({ PackedPolicySize: Math.min(100, Math.ceil((policyText.length * 100) / 2048)) })
        : '')
    );
  }

  function checkDuration(role: RoleState, duration: number | undefined, chained: boolean): number {
    const seconds = duration ?? 3600;
    if (chained && seconds > 3600)
      throw new AwsError(
        'ValidationError',
        'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
        400,
      );
    if (seconds > role.maxSessionDuration)
      throw new AwsError(
        'ValidationError',
        'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
        400,
      );
    return seconds;
  }

  return {
    AssumeRole(params, ctx) {
      const p = sessionParams(params);
      const action = 'sts:AssumeRole';
      const facts = { region: ctx.region, secure: ctx.access.secure, now: credentialNow() };
      const denied = (because?: string) => {
        ctx.access.record({ action, resource: p.roleArn, allowed: false, decision: 'implicit-deny' });
        return new AwsError(
          'AccessDenied',
          `User: ${ctx.identity.arn} is not authorized to perform: ${action} on resource: ${p.roleArn}${because ? ` ${because}` : ''}`,
          403,
        );
      };
      const externalId = params.get('ExternalId');
      const context = {
        ...access.globalContext(ctx.identity, facts),
        'sts:RoleSessionName': p.sessionName,
        ...(externalId !== null ? { 'sts:ExternalId': externalId } : {}),
      };
      const fromIdentity = access.evaluateFor(ctx.identity, { action, resource: p.roleArn, context }, facts);
      if (fromIdentity.decision === 'explicit-deny')
        throw denied('with an explicit deny in an identity-based policy');
      const role = roleByArn(iam, p.roleArn);
      if (!role) throw denied();
      const trust = evaluate(
        [documentOf(role.trustPolicy, 'resource')],
        { action, resource: role.arn, context },
        access.principalOf(ctx.identity),
      );
      if (trust.decision !== 'allow') throw denied();
      // A trust policy that names the caller itself (not its account) is enough within the account.
      const named =
        trust.matchedPrincipal !== undefined &&
        trust.matchedPrincipal !== '*' &&
        !trust.matchedPrincipal.endsWith(':root') &&
        ROLE_ARN_RE.exec(role.arn)?.[1] === ctx.identity.accountId;
      if (fromIdentity.decision === 'implicit-deny' && !named)
        throw denied(`because no identity-based policy allows the ${action} action`);
      ctx.access.record({
        action,
        resource: role.arn,
        allowed: true,
        decision: fromIdentity.decision === 'unrestricted' ? 'unrestricted' : 'allow',
      });
      const chained =
        access.roleOf(ctx.identity) !== undefined || ctx.identity.arn.includes(':assumed-role/');
      const duration = checkDuration(role, p.duration, chained);
      return issue(role, p.sessionName, duration, p.sessionPolicy, p.policyText);
    },

    async AssumeRoleWithWebIdentity(params, ctx) {
      const p = sessionParams(params);
      const token = params.get('WebIdentityToken');
      if (token === null)
        throw validation(
          "Value null at 'webIdentityToken' failed to satisfy constraint: Member must not be null",
        );
      const action = 'sts:AssumeRoleWithWebIdentity';
      const invalid = (message: string) => new AwsError('InvalidIdentityToken', message, 400);
      const jwt = decodeJwt(token);
      if (!jwt)
        throw invalid(
          'The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)',
        );
      const iss = typeof jwt.claims.iss === 'string' ? jwt.claims.iss : '';
      const roleAccount = ROLE_ARN_RE.exec(p.roleArn)?.[1];
      const key = providerKey(iss);
      const provider = roleAccount ? iam.accounts[roleAccount]?.oidcProviders[key] : undefined;
      if (!provider) throw invalid(`No OpenIDConnect provider found in your account for ${iss}`);
      const audiences = Array.isArray(jwt.claims.aud)
        ? jwt.claims.aud.filter((a): a is string => typeof a === 'string')
        : typeof jwt.claims.aud === 'string'
          ? [jwt.claims.aud]
          : [];
      const audience = audiences.find((a) => provider.clientIds.includes(a));
      if (audience === undefined) throw invalid('Incorrect token audience');
      let keys;
      try {
        keys = await fetchIssuerKeys(iss, iam.discovery[key] ?? iss, deps.trustedCa);
      } catch {
        keys = undefined;
      }
      const verified = keys ? verifyJwt(jwt, keys) : 'no-key';
      if (verified === 'no-key')
        throw invalid(
          "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements",
        );
      if (!verified)
        throw invalid("The signature of the web identity token does not verify with its issuer's keys");
      const nowSeconds = Math.floor(credentialNow() / 1000);
      const exp = typeof jwt.claims.exp === 'number' ? jwt.claims.exp : undefined;
      if (exp === undefined) throw invalid('The web identity token has no expiration time (exp)');
      if (nowSeconds >= exp)
        throw new AwsError(
          'ExpiredTokenException',
          `Token expired: current date/time ${nowSeconds} must be before the expiration date/time ${exp}`,
          400,
        );
      if (typeof jwt.claims.nbf === 'number' && nowSeconds < jwt.claims.nbf)
        throw invalid(
          `Token not yet valid: current date/time ${nowSeconds} must be after the not-before date/time ${jwt.claims.nbf}`,
        );

      const refused = () => {
        ctx.access.record({ action, resource: p.roleArn, allowed: false, decision: 'implicit-deny' });
        return new AwsError('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity', 403);
      };
      const role = roleByArn(iam, p.roleArn);
      if (!role) throw refused();
      const sub = typeof jwt.claims.sub === 'string' ? jwt.claims.sub : '';
      const context: Record<string, string> = {
        [`${key}:aud`]: audience,
        [`${key}:sub`]: sub,
        'aws:FederatedProvider': provider.arn,
        'aws:RequestedRegion': ctx.region,
        'sts:RoleSessionName': p.sessionName,
      };
      for (const claim of ['azp', 'amr', 'oaud'])
        if (typeof jwt.claims[claim] === 'string') context[`${key}:${claim}`] = jwt.claims[claim] as string;
      const trust = evaluate(
        [documentOf(role.trustPolicy, 'resource')],
        { action, resource: role.arn, context },
        { federated: provider.arn },
      );
      if (trust.decision !== 'allow') throw refused();
      ctx.access.record({ action, resource: role.arn, allowed: true, decision: 'allow' });
      const duration = checkDuration(role, p.duration, false);
      return (
        xmlMembers({ SubjectFromWebIdentityToken: sub, Audience: audience, Provider: provider.arn }) +
        issue(role, p.sessionName, duration, p.sessionPolicy, p.policyText)
      );
    },
  };
}
