// The resource types the controllers read and write, looked up once from the resource table.
import { findByPath, type ResourceType } from '../resources.js';

const must = (group: string, version: string, plural: string): ResourceType => {
  const type = findByPath(group, version, plural);
  if (!type) throw new Error(`local-kubernetes: no resource type ${group}/${version}/${plural}`);
  return type;
};

export const T = {
  nodes: must('', 'v1', 'nodes'),
  pods: must('', 'v1', 'pods'),
  events: must('', 'v1', 'events'),
  configmaps: must('', 'v1', 'configmaps'),
  secrets: must('', 'v1', 'secrets'),
  deployments: must('apps', 'v1', 'deployments'),
  replicasets: must('apps', 'v1', 'replicasets'),
  statefulsets: must('apps', 'v1', 'statefulsets'),
  daemonsets: must('apps', 'v1', 'daemonsets'),
  controllerrevisions: must('apps', 'v1', 'controllerrevisions'),
  jobs: must('batch', 'v1', 'jobs'),
};
