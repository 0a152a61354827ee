// IAM: the Query API (api.ts), the roles the server's access control reads policies from, and the
// OIDC providers STS trusts. IAM is global: requests signed for any region reach the same state.
import type { QueryService, ServiceFactory, ServiceModule } from '../service.js';
import type { RoleDirectory } from '../platform/access.js';
import type { IdentityStore } from '../platform/identities.js';
import { createIamOperations, iamAuthorization, type UserPolicies } from './api.js';
import { AWS_MANAGED_POLICIES } from './managed-policies.js';
import { loadState, providerKey, roleByArn, rolePolicies, type IamState } from './model.js';

export type { IamState, OidcProviderState, RoleState } from './model.js';

export const IAM_VERSION = '2010-05-08';

/** Test hooks for IAM, exposed on the handle startLocalAws() returns. */
export interface IamAdmin {
  /**
   * Where the discovery document of an issuer that is not on loopback is fetched from: tokens with
   * `iss` https://token.actions.githubusercontent.com, verified against a stand-in of GitHub's
   * token service listening on 127.0.0.1 (`baseUrl` serves /.well-known/openid-configuration).
   * undefined takes the route away.
   */
  routeIssuer(issuer: string, baseUrl: string | undefined): void;
  /** A deep copy of IAM's state (roles, policies, providers, issuer routes), for assertions. */
  snapshot(): IamState;
  /** The ARNs of the AWS managed policies AttachRolePolicy accepts. */
  awsManagedPolicies(): string[];
}

/** IAM's module, with its state (STS reads roles and providers from it, the server the policies). */
export type IamModule = ServiceModule<IamAdmin> & { iam: IamState };

/**
 * `identities`: the configured keys, whose user ARNs SimulatePrincipalPolicy may name (a key's
 * policy is its user's policy).
 */
export function createIam(
  env: Parameters<ServiceFactory>[0],
  options: { identities?: IdentityStore } = {},
): IamModule {
  const iam = loadState(env.state);
  const save = () => env.state.save();
  const users: UserPolicies = {
    policyOf(userArn) {
      const key = options.identities?.summaries().find((s) => s.arn === userArn && s.roleArn === undefined);
      return key && (key.policy ? { document: key.policy } : {});
    },
  };
  const service: QueryService = {
    protocol: 'query',
    signingName: 'iam',
    version: IAM_VERSION,
    xmlNamespace: `https://iam.amazonaws.com/doc/${IAM_VERSION}/`,
    operations: createIamOperations(iam, save, users),
    authorization: iamAuthorization(iam),
  };
  return {
    iam,
    services: [service],
    routes: [],
    admin: {
      routeIssuer(issuer, baseUrl) {
        if (baseUrl === undefined) delete iam.discovery[providerKey(issuer)];
        else iam.discovery[providerKey(issuer)] = baseUrl.replace(/\/+$/, '');
        save();
      },
      snapshot: () => structuredClone(iam),
      awsManagedPolicies: () => AWS_MANAGED_POLICIES.map((p) => p.arn),
    },
  };
}

/** The roles of an IAM state, as the access control reads them. */
export function roleDirectory(iam: IamState): RoleDirectory {
  return {
    policiesOf(roleArn) {
      const role = roleByArn(iam, roleArn);
      return role ? rolePolicies(iam, role) : undefined;
    },
    roleArn(accountId, roleName) {
      return iam.accounts[accountId]?.roles[roleName.toLowerCase()]?.arn;
    },
  };
}
