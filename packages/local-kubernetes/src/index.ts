// A Kubernetes API server and its controllers, simulated on a clock. local-aws's EKS mounts one per
// cluster; tests may run one alone. It imports nothing from local-aws, core or the actions.
export * from './errors.js';
export * from './host.js';
export * from './resources.js';
export * from './store.js';
export * from './logs.js';
export * from './cluster.js';
export * from './testing.js';
