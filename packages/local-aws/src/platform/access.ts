// Who may do what: for each call the server (and the registry) asks here whether the caller may
// perform the IAM actions the operation stands for, on the resources it names. A key without a
// policy may do anything (local-aws's behaviour before it evaluated IAM); a key given a policy is
// held to it; a role session carries its role's policies, read from IAM at every request, narrowed
// by its session policy. The answer for every question is kept for the operation log.
import type { Identity } from '../service.js';
import {
  accessDeniedMessage,
  evaluate,
  type AuthorizationRequest,
  type ContextValue,
  type Decision,
  type PolicyDocument,
  type RequestPrincipal,
} from './iam-policy.js';
import type { IdentityStore } from './identities.js';

/** One authorisation question and its answer, as the operation log keeps it. */
export interface IamCheck {
  action: string;
  resource: string;
  allowed: boolean;
  /** 'unrestricted': the caller has no policy, so nothing was evaluated. */
  decision: 'unrestricted' | Decision;
}

/** Where a role's policies come from (IAM's state). */
export interface RoleDirectory {
  /** The role's policy documents (inline and attached); undefined when there is no such role. */
  policiesOf(roleArn: string): PolicyDocument[] | undefined;
  /** The ARN of a role by account and name (an assumed-role ARN names no path). */
  roleArn(accountId: string, roleName: string): string | undefined;
}

/** Facts of the request that global condition keys carry. */
export interface RequestFacts {
  region: string;
  /** Whether the request came over TLS (aws:SecureTransport). */
  secure: boolean;
  /** Request time, ms since the epoch (aws:CurrentTime, aws:EpochTime). */
  now: number;
}

export interface AccessOutcome {
  checks: IamCheck[];
  /** The first request denied, with AWS's message for it. */
  denied?: { request: AuthorizationRequest; decision: Exclude<Decision, 'allow'>; message: string };
}

/** What is evaluated for a caller; undefined: nothing (unrestricted). */
interface CallerPolicies {
  identity: PolicyDocument[];
  session?: PolicyDocument;
  roleArn?: string;
}

const ASSUMED_ROLE_ARN = /^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/;

export class AccessControl {
  private roles: RoleDirectory = { policiesOf: () => undefined, roleArn: () => undefined };

  constructor(private readonly identities: IdentityStore) {}

  /** Plugs in IAM's roles (the IAM module is built after the server). */
  useRoles(roles: RoleDirectory): void {
    this.roles = roles;
  }

  /** The role a session belongs to, or undefined for a caller that is not a role session. */
  roleOf(identity: Identity): string | undefined {
    const key = this.identities.policiesOf(identity.accessKeyId);
    if (key) return key.roleArn;
    // A key no longer held (a registry token outlives it): its ARN names the role.
    const m = ASSUMED_ROLE_ARN.exec(identity.arn);
    return m ? this.roles.roleArn(m[1]!, m[2]!) : undefined;
  }

  private callerPolicies(identity: Identity): CallerPolicies | undefined {
    const key = this.identities.policiesOf(identity.accessKeyId);
    const roleArn = this.roleOf(identity);
    if (roleArn !== undefined) {
      return {
        identity: [...(this.roles.policiesOf(roleArn) ?? []), ...(key?.policy ? [key.policy] : [])],
        ...(key?.sessionPolicy ? { session: key.sessionPolicy } : {}),
        roleArn,
      };
    }
    // A session of a role that no longer exists may do nothing.
    if (ASSUMED_ROLE_ARN.test(identity.arn) && key === undefined) return { identity: [] };
    if (!key?.policy) return undefined;
    return { identity: [key.policy] };
  }

  /** Whether IAM evaluates anything for this caller (false: a key without a policy). */
  restricted(identity: Identity): boolean {
    return this.callerPolicies(identity) !== undefined;
  }

  /** The global condition keys of a request by this caller. */
  globalContext(identity: Identity, facts: RequestFacts): Record<string, ContextValue> {
    const roleArn = this.roleOf(identity);
    const type =
      roleArn !== undefined || ASSUMED_ROLE_ARN.test(identity.arn)
        ? 'AssumedRole'
        : identity.arn.endsWith(':root')
          ? 'Account'
          : 'User';
    const context: Record<string, ContextValue> = {
      'aws:RequestedRegion': facts.region,
      'aws:SecureTransport': facts.secure,
      'aws:CurrentTime': new Date(facts.now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      'aws:EpochTime': String(Math.floor(facts.now / 1000)),
      'aws:PrincipalArn': roleArn ?? identity.arn,
      'aws:PrincipalAccount': identity.accountId,
      'aws:PrincipalType': type,
      'aws:userid': identity.userId,
    };
    const user = /^arn:aws:iam::\d{12}:user\/(?:.*\/)?([^/]+)$/.exec(identity.arn);
    if (user) context['aws:username'] = user[1]!;
    return context;
  }

  /**
   * The ARNs a trust policy's `"AWS": …` principal may name for this caller: the session and its
   * role (or the user), and the account root.
   */
  principalOf(identity: Identity): RequestPrincipal {
    const roleArn = this.roleOf(identity);
    return {
      aws: [identity.arn, ...(roleArn ? [roleArn] : []), `arn:aws:iam::${identity.accountId}:root`],
    };
  }

  /** Evaluates one request for the caller's identity-based (and session) policies. */
  evaluateFor(
    identity: Identity,
    request: AuthorizationRequest,
    facts: RequestFacts,
  ): { decision: 'unrestricted' | Decision; policyType: 'identity-based' | 'session' } {
    const policies = this.callerPolicies(identity);
    if (!policies) return { decision: 'unrestricted', policyType: 'identity-based' };
    const withContext: AuthorizationRequest = {
      ...request,
      context: { ...this.globalContext(identity, facts), ...request.context },
    };
    const fromIdentity = evaluate(policies.identity, withContext).decision;
    if (!policies.session || fromIdentity === 'explicit-deny')
      return { decision: fromIdentity, policyType: 'identity-based' };
    const fromSession = evaluate([policies.session], withContext).decision;
    if (fromSession === 'explicit-deny') return { decision: fromSession, policyType: 'session' };
    if (fromIdentity !== 'allow') return { decision: fromIdentity, policyType: 'identity-based' };
    return { decision: fromSession, policyType: 'session' };
  }

  /**
   * What a role's own policies (inline and attached) decide for one request: the question ECS's
   * agent asks with the execution role (may it read this secret?) and SimulatePrincipalPolicy
   * answers. 'no-such-role' when IAM has no such role.
   */
  evaluateRole(
    roleArn: string,
    request: AuthorizationRequest,
    facts: RequestFacts,
  ): Decision | 'no-such-role' {
    const policies = this.roles.policiesOf(roleArn);
    if (policies === undefined) return 'no-such-role';
    const accountId = /^arn:aws:iam::(\d{12}):/.exec(roleArn)?.[1] ?? '';
    const context: Record<string, ContextValue> = {
      'aws:RequestedRegion': facts.region,
      'aws:SecureTransport': facts.secure,
      'aws:CurrentTime': new Date(facts.now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      'aws:EpochTime': String(Math.floor(facts.now / 1000)),
      'aws:PrincipalArn': roleArn,
      'aws:PrincipalAccount': accountId,
      'aws:PrincipalType': 'AssumedRole',
    };
    return evaluate(policies, { ...request, context: { ...context, ...request.context } }).decision;
  }

  /** Evaluates the requests in order, stopping at the first denied. */
  check(identity: Identity, requests: readonly AuthorizationRequest[], facts: RequestFacts): AccessOutcome {
    const checks: IamCheck[] = [];
    for (const request of requests) {
      const { decision, policyType } = this.evaluateFor(identity, request, facts);
      const allowed = decision === 'unrestricted' || decision === 'allow';
      checks.push({ action: request.action, resource: request.resource, allowed, decision });
      if (!allowed) {
        const denial = decision as Exclude<Decision, 'allow'>;
        return {
          checks,
          denied: {
            request,
            decision: denial,
            message: accessDeniedMessage(identity.arn, request, denial, policyType),
          },
        };
      }
    }
    return { checks };
  }
}
