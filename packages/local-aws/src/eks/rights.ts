// What EKS's access policies let a Kubernetes user do, as the Kubernetes roles they stand for:
// AmazonEKSClusterAdminPolicy is cluster-admin (everything), AmazonEKSAdminPolicy is `admin`
// (everything on namespaced resources, and reading namespaces), AmazonEKSEditPolicy is `edit`
// (read, and write workloads, pods, services, configmaps, secrets… — never RBAC, namespaces or
// nodes), AmazonEKSViewPolicy is `view` (read those, never secrets). A namespace-scoped
// association only answers requests in its namespaces (`dev*` matches by prefix, as EKS allows).
// RBAC objects (Roles, RoleBindings) are not simulated: groups other than system:masters give
// nothing.
import type { AccessRequest } from '@aws-containers/local-kubernetes';
import { accessPolicyName, type AssociatedPolicy } from './model.js';

const READ = new Set(['get', 'list', 'watch']);
const WRITE = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

/** `group/resource` a `view` user reads (kube's aggregated view role, the parts simulated here). */
const VIEWABLE = new Set([
  '/pods',
  '/pods/log',
  '/pods/status',
  '/services',
  '/services/status',
  '/endpoints',
  '/configmaps',
  '/serviceaccounts',
  '/persistentvolumeclaims',
  '/replicationcontrollers',
  '/events',
  '/limitranges',
  '/resourcequotas',
  '/namespaces',
  '/namespaces/status',
  'apps/deployments',
  'apps/deployments/status',
  'apps/deployments/scale',
  'apps/replicasets',
  'apps/replicasets/status',
  'apps/replicasets/scale',
  'apps/statefulsets',
  'apps/statefulsets/status',
  'apps/statefulsets/scale',
  'apps/daemonsets',
  'apps/daemonsets/status',
  'apps/controllerrevisions',
  'batch/jobs',
  'batch/jobs/status',
  'batch/cronjobs',
  'autoscaling/horizontalpodautoscalers',
  'networking.k8s.io/ingresses',
  'networking.k8s.io/networkpolicies',
  'policy/poddisruptionbudgets',
  'events.k8s.io/events',
  'discovery.k8s.io/endpointslices',
]);

/** What `edit` may write (kube's edit role): workloads and their scale, pods, services, config. */
const EDITABLE = new Set([
  '/pods',
  '/pods/exec',
  '/pods/attach',
  '/pods/portforward',
  '/pods/eviction',
  '/services',
  '/endpoints',
  '/configmaps',
  '/secrets',
  '/serviceaccounts',
  '/persistentvolumeclaims',
  '/replicationcontrollers',
  'apps/deployments',
  'apps/deployments/scale',
  'apps/deployments/rollback',
  'apps/replicasets',
  'apps/replicasets/scale',
  'apps/statefulsets',
  'apps/statefulsets/scale',
  'apps/daemonsets',
  'batch/jobs',
  'batch/cronjobs',
  'autoscaling/horizontalpodautoscalers',
  'networking.k8s.io/ingresses',
  'networking.k8s.io/networkpolicies',
  'policy/poddisruptionbudgets',
]);

const keyOf = (r: AccessRequest) => `${r.group}/${r.resource}${r.subresource ? `/${r.subresource}` : ''}`;

/**
 * Whether a namespace-scoped association covers the request's namespace. A namespace object's
 * namespace is its own name, as the apiserver's request info has it (so a binding in `prod` may
 * read the namespace `prod`).
 */
function inScope(policy: AssociatedPolicy, request: AccessRequest): boolean {
  if (policy.accessScope.type === 'cluster') return true;
  const namespace =
    request.namespace ??
    (request.group === '' && request.resource === 'namespaces' ? request.name : undefined);
  if (namespace === undefined) return false;
  return policy.accessScope.namespaces.some((pattern) =>
    pattern.endsWith('*') ? namespace.startsWith(pattern.slice(0, -1)) : pattern === namespace,
  );
}

/** Whether one associated access policy allows the request; `namespaced`: the resource type is. */
export function policyAllows(policy: AssociatedPolicy, request: AccessRequest, namespaced: boolean): boolean {
  if (!inScope(policy, request)) return false;
  const name = accessPolicyName(policy.policyArn);
  const key = keyOf(request);
  switch (name) {
    case 'AmazonEKSClusterAdminPolicy':
      return true;
    case 'AmazonEKSAdminPolicy':
      if (namespaced) return true;
      return request.group === '' && request.resource === 'namespaces' && READ.has(request.verb);
    case 'AmazonEKSEditPolicy':
      if (READ.has(request.verb)) return VIEWABLE.has(key) || key === '/secrets';
      return WRITE.has(request.verb) && EDITABLE.has(key);
    case 'AmazonEKSViewPolicy':
      return READ.has(request.verb) && VIEWABLE.has(key);
    default:
      return false;
  }
}

/** Requests every authenticated user may make (system:basic-user, system:discovery). */
export function everyoneMay(request: AccessRequest): boolean {
  if (request.resource === '') return true;
  return (
    request.group === 'authorization.k8s.io' &&
    (request.resource === 'selfsubjectaccessreviews' || request.resource === 'selfsubjectrulesreviews') &&
    request.verb === 'create'
  );
}
