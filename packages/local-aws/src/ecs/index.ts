// ECS on Fargate: the JSON 1.1 control plane (api.ts) over a simulation that runs on the server's
// one clock (sim.ts). Images in the local-aws registry are resolved through ECR's admin hook;
// tasks get their network interfaces from EC2 and sit behind ELBv2's target groups.
import type { Ec2Network } from '../ec2/index.js';
import type { ImageResolution } from '../ecr/index.js';
import type { Elbv2Integration } from '../elbv2/index.js';
import type { JsonService, ServiceFactory } from '../service.js';
import { createEcsOperations } from './api.js';
import { ecsAuthorization } from './authorization.js';
import { TaskLoadBalancing } from './load-balancing.js';
import {
  DEFAULT_TIMINGS,
  loadState,
  regionOf,
  type EcsState,
  type EcsTimings,
  type ResolvedImage,
} from './model.js';
import { EcsSimulation, type SchedulingClock } from './sim.js';
import { createTaskRuntime, type TaskInitDeps } from './task-init.js';

export type { EcsTimings } from './model.js';

export const ECS_TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113';

/** Test hooks for ECS, exposed on the handle startLocalAws() returns as admin.ecs. */
export interface EcsAdmin {
  /** Change phase durations (simulated ms); unspecified ones keep their value. Applies to new steps. */
  setTimings(timings: Partial<EcsTimings>): void;
  timings(): EcsTimings;
  /**
   * Images from other registries are pullable; make the ones matching `pattern` (a RegExp, or a
   * string matched as a prefix of the image URI) fail with CannotPullContainerError instead.
   */
  setUnpullable(pattern: RegExp | string): void;
  /** Forget every setUnpullable pattern. */
  clearUnpullable(): void;
  /** A deep copy of ECS's state (clusters, task definitions, services, tasks), for assertions. */
  snapshot(): EcsState;
  /**
   * Adds a service event with this message, as ECS would (newest first in DescribeServices). For
   * tests of clients that print events: ECS's wording can carry text from outside the workflow.
   */
  addServiceEvent(
    where: { accountId: string; region: string; cluster: string; service: string },
    message: string,
  ): void;
}

/** Looks an image up in the local-aws registry (EcrAdmin.resolveImage). */
export type RegistryLookup = (query: {
  accountId: string;
  region: string;
  repositoryName: string;
  reference: string;
}) => Promise<ImageResolution>;

/** What ECS uses of the other services: EC2's network, ELBv2, the registry hosts. */
export interface EcsDeps {
  /** Looks an image up in the local-aws registry (EcrAdmin.resolveImage). */
  lookup: RegistryLookup;
  network: Ec2Network;
  elbv2: Elbv2Integration;
  /**
   * The registry (account and region) a local-aws registry host serves — `127.0.0.1:<port>` or
   * `localhost:<port>` — or undefined for any other host.
   */
  registryAt(host: string): { accountId: string; region: string } | undefined;
  /**
   * What the agent uses before a task's containers start (task-init.ts): IAM to evaluate the
   * execution role, the secret resolver (Secrets Manager, SSM), CloudWatch Logs for awslogs.
   * Each is optional: without it, that check passes.
   */
  taskInit?: TaskInitDeps;
}

/** AWS's wording for an image that does not resolve (containerd's error as the Fargate agent reports it). */
export function cannotPull(ref: string): string {
  return `CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref ${ref}: ${ref}: not found`;
}

/** host, repository and reference (tag or digest) of an image URI; host undefined for Docker Hub. */
export function parseImageUri(image: string): { host?: string; repository: string; reference: string } {
  let rest = image.trim();
  let host: string | undefined;
  const slash = rest.indexOf('/');
  if (slash > 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      host = first;
      rest = rest.slice(slash + 1);
    }
  }
  let reference = 'latest';
  const at = rest.indexOf('@');
  if (at >= 0) {
    reference = rest.slice(at + 1);
    rest = rest.slice(0, at);
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon > rest.lastIndexOf('/')) {
      reference = rest.slice(colon + 1);
      rest = rest.slice(0, colon);
    }
  }
  return { ...(host !== undefined ? { host } : {}), repository: rest, reference };
}

export function createEcsFactory(deps: EcsDeps): ServiceFactory<EcsAdmin> {
  const { lookup, network, elbv2 } = deps;
  return ({ clock, state }) => {
    const s = loadState(state);
    const save = () => state.save();
    const scheduling = clock as unknown as Partial<SchedulingClock>;
    if (typeof scheduling.at !== 'function') throw new Error('ECS needs the server clock (with at()).');
    const sim = new EcsSimulation(s, scheduling as SchedulingClock, save, {
      network,
      loadBalancing: new TaskLoadBalancing(elbv2),
      runtime: createTaskRuntime(deps.taskInit ?? {}, () => clock.now()),
    });
    elbv2.setHealthPredicate((target) => sim.targetPasses(target));
    elbv2.onTargetHealthChange((change) => sim.targetHealthChanged(change));

    // An image on any local-aws registry host is looked up in the registry that host serves (its
    // account and region, whoever runs the task), as ECS pulls <account>.dkr.ecr.<region>…
    const resolveImage = async (image: string): Promise<ResolvedImage> => {
      const { host, repository, reference } = parseImageUri(image);
      const ref = `${host ?? 'docker.io'}/${host === undefined && !repository.includes('/') ? 'library/' : ''}${repository}${reference.includes(':') ? '@' : ':'}${reference}`;
      const registry = host === undefined ? undefined : deps.registryAt(host);
      if (registry) {
        const found = await lookup({
          accountId: registry.accountId,
          region: registry.region,
          repositoryName: repository,
          reference,
        });
        return found.found
          ? { pullable: true, digest: found.digest, labels: found.labels }
          : { pullable: false, error: cannotPull(ref) };
      }
      const unpullable = s.unpullable.some((p) => new RegExp(p).test(image));
      return unpullable ? { pullable: false, error: cannotPull(ref) } : { pullable: true, labels: {} };
    };

    const service: JsonService = {
      protocol: 'json1.1',
      signingName: 'ecs',
      targetPrefix: ECS_TARGET_PREFIX,
      operations: createEcsOperations(s, sim, resolveImage, save, { network, elbv2 }),
      authorization: ecsAuthorization(s),
    };
    sim.resume();
    return {
      services: [service],
      routes: [],
      admin: {
        setTimings(timings) {
          for (const [k, v] of Object.entries(timings))
            if (k in DEFAULT_TIMINGS && typeof v === 'number' && v >= 0) s.timings[k as keyof EcsTimings] = v;
          save();
        },
        timings: () => ({ ...s.timings }),
        setUnpullable(pattern) {
          s.unpullable.push(
            typeof pattern === 'string'
              ? '^' + pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
              : pattern.source,
          );
          save();
        },
        clearUnpullable() {
          s.unpullable = [];
          save();
        },
        snapshot: () => structuredClone(s),
        addServiceEvent(where, message) {
          const svc = regionOf(s, where.accountId, where.region).services[where.cluster]?.[where.service];
          if (!svc)
            throw new Error(
              `no service ${where.cluster}/${where.service} in ${where.accountId}/${where.region}`,
            );
          sim.event(svc, message);
          save();
        },
      },
    };
  };
}
