// Kubernetes for the actions (issue 13): EKS authentication, the API client, kubectl's rollout
// status rules and its undo.
export * from './types.js';
export * from './eks.js';
export * from './client.js';
export * from './rollout-status.js';
export * from './undo.js';
