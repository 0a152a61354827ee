// Rendering: a base task definition (a file, a registered revision, raw describe-task-definition
// output) plus the step's changes -> the RegisterTaskDefinition request. Pure: no AWS call, so
// every rule is a table test, and every problem is reported before anything is registered.
import { InputError, InputErrors, ParseError } from '@aws-containers/core';
import type {
  ContainerDefinition,
  KeyValuePair,
  LogConfiguration,
  RegisterTaskDefinitionCommandInput,
  Secret,
  Tag,
} from '@aws-sdk/client-ecs';

/**
 * A RegisterTaskDefinition request. Members this version does not know (added to the ECS API
 * after it was released) are carried along untouched rather than rejected.
 */
export type RenderedTaskDefinition = RegisterTaskDefinitionCommandInput & {
  containerDefinitions: ContainerDefinition[];
  [member: string]: unknown;
};

/** Members that DescribeTaskDefinition returns but RegisterTaskDefinition does not take. */
export const READ_ONLY_MEMBERS = [
  'taskDefinitionArn',
  'revision',
  'status',
  'requiresAttributes',
  'compatibilities',
  'registeredAt',
  'registeredBy',
  'deregisteredAt',
  'deleteRequestedAt',
] as const;

export const TASK_DEFINITION_EXPECTED =
  'a task definition (JSON or YAML) with "family" and "containerDefinitions", as written for register-task-definition or printed by describe-task-definition';

/** The log configuration to set: awslogs with defaults, or one given in full. */
export type LogConfigurationChange =
  { kind: 'awslogs'; group: string | undefined } | { kind: 'custom'; configuration: LogConfiguration };

export interface TaskDefinitionChanges {
  /** The container the bare `image` and the per-container changes apply to. */
  containerName?: string | undefined;
  /** The bare `image` input: for `containerName`, or the only container. */
  image?: string | undefined;
  /** `container=image` pairs. */
  images?: ReadonlyMap<string, string> | undefined;
  environment?: ReadonlyMap<string, string> | undefined;
  /** Name -> valueFrom (a Secrets Manager or SSM Parameter Store ARN or name). */
  secrets?: ReadonlyMap<string, string> | undefined;
  command?: readonly string[] | undefined;
  logConfiguration?: LogConfigurationChange | undefined;
  dockerLabels?: ReadonlyMap<string, string> | undefined;
  /** Task CPU units, e.g. "512" (or "0.5 vCPU"). */
  cpu?: string | undefined;
  /** Task memory in MiB, e.g. "1024" (or "1 GB"). */
  memory?: string | undefined;
  taskRoleArn?: string | undefined;
  executionRoleArn?: string | undefined;
  /** Tags for the new revision, merged over the base's. */
  tags?: ReadonlyMap<string, string> | undefined;
  /** The region of the step, for the awslogs defaults. */
  region?: string | undefined;
  /** The input the base came from, named in errors about it. Default `task-definition`. */
  source?: string | undefined;
}

// ---------------------------------------------------------------------------------------------
// The base

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The register-shaped task definition in a document: a task definition as written for
 * register-task-definition, or DescribeTaskDefinition output (`{ "taskDefinition": {...}, "tags":
 * [...] }`). Read-only members are dropped; unknown members are kept. Throws ParseError.
 */
export function taskDefinitionFromDocument(document: unknown): RenderedTaskDefinition {
  if (!isObject(document)) {
    throw new ParseError(TASK_DEFINITION_EXPECTED, summarize(document), 'It is not a mapping');
  }
  let definition = document;
  let tags: unknown;
  if (isObject(document.taskDefinition) && document.containerDefinitions === undefined) {
    definition = document.taskDefinition;
    tags = document.tags;
  }
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(definition)) {
    if (!(READ_ONLY_MEMBERS as readonly string[]).includes(key)) copy[key] = structuredClone(value);
  }
  if (Array.isArray(tags) && tags.length > 0 && copy.tags === undefined) copy.tags = structuredClone(tags);

  const containers = copy.containerDefinitions;
  if (!Array.isArray(containers) || containers.length === 0) {
    throw new ParseError(
      TASK_DEFINITION_EXPECTED,
      summarize(definition),
      containers === undefined
        ? 'It has no "containerDefinitions"'
        : '"containerDefinitions" must be a non-empty list',
    );
  }
  containers.forEach((container, index) => {
    if (!isObject(container) || typeof container.name !== 'string' || container.name === '') {
      throw new ParseError(
        TASK_DEFINITION_EXPECTED,
        summarize(container),
        `containerDefinitions[${index}] has no "name"`,
      );
    }
  });
  const names = containers.map((c) => (c as { name: string }).name);
  const twice = names.find((name, i) => names.indexOf(name) !== i);
  if (twice !== undefined) {
    throw new ParseError(
      TASK_DEFINITION_EXPECTED,
      twice,
      `Two containers are named ${JSON.stringify(twice)}`,
    );
  }
  if (typeof copy.family !== 'string' || copy.family === '') {
    throw new ParseError(TASK_DEFINITION_EXPECTED, summarize(definition), 'It has no "family"');
  }
  for (const member of ['cpu', 'memory'] as const) {
    if (typeof copy[member] === 'number') copy[member] = String(copy[member]);
  }
  return copy as RenderedTaskDefinition;
}

function summarize(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

// ---------------------------------------------------------------------------------------------
// Fargate sizes

export const FARGATE_CPU_EXPECTED =
  'task CPU units (256, 512, 1024, 2048, 4096, 8192, 16384) or vCPUs ("0.25 vCPU")';
export const FARGATE_MEMORY_EXPECTED = 'task memory in MiB (512, 1024, …) or GB ("2 GB")';

/** Fargate's task sizes: for each CPU value, the memory values in MiB it allows. */
export const FARGATE_SIZES: ReadonlyMap<number, readonly number[]> = new Map([
  [256, [512, 1024, 2048]],
  [512, range(1024, 4096, 1024)],
  [1024, range(2048, 8192, 1024)],
  [2048, range(4096, 16384, 1024)],
  [4096, range(8192, 30720, 1024)],
  [8192, range(16384, 61440, 4096)],
  [16384, range(32768, 122880, 8192)],
]);

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let n = from; n <= to; n += step) out.push(n);
  return out;
}

/** "512", "0.5 vCPU", "1vcpu" -> "512" (CPU units, as ECS stores them). Throws ParseError. */
export function parseTaskCpu(text: string): string {
  const s = text.trim();
  const vcpu = /^(\d+(?:\.\d+)?)\s*vcpu$/i.exec(s);
  const units = vcpu ? Number(vcpu[1]) * 1024 : /^\d+$/.test(s) ? Number(s) : NaN;
  if (!Number.isInteger(units) || units <= 0) throw new ParseError(FARGATE_CPU_EXPECTED, text);
  return String(units);
}

/** "1024", "1 GB", "0.5GB" -> "1024" (MiB, as ECS stores it). Throws ParseError. */
export function parseTaskMemory(text: string): string {
  const s = text.trim();
  const gb = /^(\d+(?:\.\d+)?)\s*gb$/i.exec(s);
  const mib = gb ? Number(gb[1]) * 1024 : /^\d+$/.test(s) ? Number(s) : NaN;
  if (!Number.isInteger(mib) || mib <= 0) {
    throw new ParseError(
      FARGATE_MEMORY_EXPECTED,
      text,
      /mib|mb|gib/i.test(s) ? 'Write MiB as a bare number (1024) or GB with "GB" (1 GB)' : undefined,
    );
  }
  return String(mib);
}

/** Why a task size does not run on Fargate, or undefined when it does. Values in units and MiB. */
export function fargateSizeProblem(cpu: string, memory: string): string | undefined {
  const allowed = FARGATE_SIZES.get(Number(cpu));
  if (allowed === undefined) {
    return `Fargate has no CPU value ${cpu}; it offers ${[...FARGATE_SIZES.keys()].join(', ')}`;
  }
  if (allowed.includes(Number(memory))) return undefined;
  return `Fargate runs ${cpu} CPU units with ${describeMemory(allowed)} MiB of memory, not ${memory}`;
}

function describeMemory(values: readonly number[]): string {
  if (values.length <= 4) return values.join(', ');
  const step = values[1]! - values[0]!;
  return `${values[0]} to ${values.at(-1)} in steps of ${step}`;
}

// ---------------------------------------------------------------------------------------------
// Rendering

/**
 * Applies the changes to the base and checks the result can run on Fargate. Throws InputErrors
 * with every problem found (a container that does not exist, an invalid size, a network mode
 * other than awsvpc), each naming the input to fix.
 */
export function renderTaskDefinition(
  base: unknown,
  changes: TaskDefinitionChanges = {},
): RenderedTaskDefinition {
  const source = changes.source ?? 'task-definition';
  let definition: RenderedTaskDefinition;
  try {
    definition = taskDefinitionFromDocument(base);
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    throw new InputErrors([new InputError(source, error.expected, error.given, error.hint)]);
  }
  const errors: InputError[] = [];
  const containers = definition.containerDefinitions;
  const names = containers.map((c) => c.name!);
  const listed = names.map((n) => JSON.stringify(n)).join(', ');
  const byName = (name: string) => containers.find((c) => c.name === name);

  // The container of `container-name`, or the only one; undefined (with an error) otherwise.
  const target = (input: string): ContainerDefinition | undefined => {
    if (changes.containerName !== undefined) {
      const found = byName(changes.containerName);
      if (!found) return undefined; // reported once, below
      return found;
    }
    if (containers.length === 1) return containers[0];
    errors.push(
      new InputError(
        'container-name',
        `the container that "${input}" applies to, because the task definition has ${containers.length} containers: ${listed}`,
        undefined,
        input === 'image'
          ? 'Or give each container its image with "images" (container=image lines)'
          : undefined,
      ),
    );
    return undefined;
  };

  if (changes.containerName !== undefined && !byName(changes.containerName)) {
    errors.push(
      new InputError(
        'container-name',
        `a container of the task definition: ${listed}`,
        changes.containerName,
        nearName(changes.containerName, names),
      ),
    );
  }

  for (const [name, image] of changes.images ?? []) {
    const container = byName(name);
    if (container) container.image = image;
    else {
      errors.push(
        new InputError(
          'images',
          `container names of the task definition: ${listed}`,
          name,
          nearName(name, names),
        ),
      );
    }
  }
  if (changes.image !== undefined) {
    const container = target('image');
    if (container) container.image = changes.image;
  }
  if (changes.environment !== undefined && changes.environment.size > 0) {
    const container = target('environment');
    if (container)
      container.environment = mergeByName<KeyValuePair>(
        container.environment,
        changes.environment,
        (name, value) => ({ name, value }),
      );
  }
  if (changes.secrets !== undefined && changes.secrets.size > 0) {
    const container = target('secrets');
    if (container)
      container.secrets = mergeByName<Secret>(container.secrets, changes.secrets, (name, valueFrom) => ({
        name,
        valueFrom,
      }));
  }
  if (changes.command !== undefined) {
    const container = target('command');
    if (container) container.command = [...changes.command];
  }
  if (changes.dockerLabels !== undefined && changes.dockerLabels.size > 0) {
    const container = target('docker-labels');
    if (container)
      container.dockerLabels = { ...container.dockerLabels, ...Object.fromEntries(changes.dockerLabels) };
  }
  if (changes.logConfiguration !== undefined) {
    const container = target('log-configuration');
    if (container) {
      if (changes.logConfiguration.kind === 'custom') {
        container.logConfiguration = structuredClone(changes.logConfiguration.configuration);
      } else if (changes.region === undefined) {
        errors.push(
          new InputError(
            'region',
            'the region of the step, for the awslogs log configuration',
            undefined,
            'Set region or AWS_REGION',
          ),
        );
      } else {
        container.logConfiguration = {
          logDriver: 'awslogs',
          options: {
            'awslogs-group': changes.logConfiguration.group ?? `/ecs/${definition.family}`,
            'awslogs-region': changes.region,
            'awslogs-stream-prefix': 'ecs',
            'awslogs-create-group': 'true',
          },
        };
      }
    }
  }

  if (changes.taskRoleArn !== undefined) definition.taskRoleArn = changes.taskRoleArn;
  if (changes.executionRoleArn !== undefined) definition.executionRoleArn = changes.executionRoleArn;
  if (changes.tags !== undefined && changes.tags.size > 0) {
    definition.tags = mergeTags(definition.tags, changes.tags);
  }

  // Fargate: awsvpc networking, FARGATE among the compatibilities, a size from Fargate's table.
  if (definition.networkMode === undefined) definition.networkMode = 'awsvpc';
  else if (definition.networkMode !== 'awsvpc') {
    errors.push(
      new InputError(
        source,
        'a task definition with networkMode "awsvpc" (the only one Fargate runs)',
        String(definition.networkMode),
        'Remove networkMode or set it to awsvpc',
      ),
    );
  }
  const compatibilities = definition.requiresCompatibilities;
  if (compatibilities === undefined || compatibilities.length === 0)
    definition.requiresCompatibilities = ['FARGATE'];
  else if (!compatibilities.includes('FARGATE')) {
    errors.push(
      new InputError(
        source,
        'a task definition whose requiresCompatibilities include "FARGATE"',
        JSON.stringify(compatibilities),
        'Add FARGATE to requiresCompatibilities, or remove the member',
      ),
    );
  }

  const before = errors.length;
  const cpu = size('cpu', changes.cpu, definition.cpu, parseTaskCpu, errors, source);
  const memory = size('memory', changes.memory, definition.memory, parseTaskMemory, errors, source);
  if (cpu !== undefined) definition.cpu = cpu;
  if (memory !== undefined) definition.memory = memory;
  if (cpu !== undefined && memory !== undefined) {
    const problem = fargateSizeProblem(cpu, memory);
    if (problem) {
      const input = changes.cpu !== undefined ? 'cpu' : changes.memory !== undefined ? 'memory' : source;
      errors.push(
        new InputError(
          input,
          'a CPU and memory pair that Fargate offers',
          `cpu ${cpu}, memory ${memory}`,
          problem,
        ),
      );
    }
  } else if (errors.length === before) {
    const missing = [
      cpu === undefined ? 'cpu' : undefined,
      memory === undefined ? 'memory' : undefined,
    ].filter(Boolean);
    errors.push(
      new InputError(
        missing[0]!,
        'a task-level CPU and memory, which Fargate requires',
        undefined,
        `Neither the input nor the task definition sets ${missing.join(' or ')}`,
      ),
    );
  }

  if (errors.length > 0) throw new InputErrors(errors);
  return definition;
}

/** The normalised value of a task size member: from the input, else from the base. */
function size(
  member: 'cpu' | 'memory',
  fromInput: string | undefined,
  fromBase: unknown,
  parse: (text: string) => string,
  errors: InputError[],
  source: string,
): string | undefined {
  const [input, text] = fromInput !== undefined ? [member, fromInput] : [source, fromBase];
  if (text === undefined || text === null || text === '') return undefined;
  try {
    return parse(String(text));
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    errors.push(
      new InputError(
        input,
        error.expected,
        input === member ? error.given : `${member}: ${error.given}`,
        error.hint,
      ),
    );
    return undefined;
  }
}

/** Entries replaced in place by name, new ones appended: the order of the base is kept. */
function mergeByName<E extends { name?: string | undefined }>(
  existing: E[] | undefined,
  changes: ReadonlyMap<string, string>,
  entry: (name: string, value: string) => E,
): E[] {
  const merged = (existing ?? []).map((e) => ({ ...e }));
  for (const [name, value] of changes) {
    const index = merged.findIndex((e) => e.name === name);
    if (index >= 0) merged[index] = { ...merged[index]!, ...entry(name, value) };
    else merged.push(entry(name, value));
  }
  return merged;
}

function mergeTags(existing: Tag[] | undefined, changes: ReadonlyMap<string, string>): Tag[] {
  const merged = (existing ?? []).filter((tag) => tag.key === undefined || !changes.has(tag.key));
  for (const [key, value] of changes) merged.push({ key, value });
  return merged;
}

/** "Did you mean" for a name that differs only in case or by one typo-like edit. */
function nearName(given: string, names: readonly string[]): string | undefined {
  const near =
    names.find((n) => n.toLowerCase() === given.toLowerCase()) ??
    names.find((n) => editDistance(n, given) <= 2);
  return near === undefined ? undefined : `Did you mean ${JSON.stringify(near)}?`;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

// ---------------------------------------------------------------------------------------------
// Load balancers of a created service

export interface LoadBalancerInput {
  targetGroupArn: string;
  /** Default: `container-name`, or the only container. */
  containerName: string | undefined;
  /** Default: the container's only port mapping. */
  containerPort: number | undefined;
}

export interface ResolvedLoadBalancer {
  targetGroupArn: string;
  containerName: string;
  containerPort: number;
}

/** Fills in each load balancer's container and port from the rendered definition. Throws InputErrors. */
export function resolveLoadBalancers(
  loadBalancers: readonly LoadBalancerInput[],
  definition: RenderedTaskDefinition,
  containerName?: string,
): ResolvedLoadBalancer[] {
  const errors: InputError[] = [];
  const names = definition.containerDefinitions.map((c) => c.name!);
  const resolved = loadBalancers.flatMap((lb): ResolvedLoadBalancer[] => {
    const name = lb.containerName ?? containerName ?? (names.length === 1 ? names[0] : undefined);
    if (name === undefined) {
      errors.push(
        new InputError(
          'load-balancer',
          `a container for the target group, because the task definition has several: ${names.join(', ')}`,
          lb.targetGroupArn,
          'Write "<target group ARN> <container>:<port>"',
        ),
      );
      return [];
    }
    const container = definition.containerDefinitions.find((c) => c.name === name);
    if (!container) {
      errors.push(
        new InputError(
          'load-balancer',
          `a container of the task definition: ${names.join(', ')}`,
          name,
          nearName(name, names),
        ),
      );
      return [];
    }
    const ports = (container.portMappings ?? [])
      .map((p) => p.containerPort)
      .filter((p): p is number => p !== undefined);
    const port = lb.containerPort ?? (ports.length === 1 ? ports[0] : undefined);
    if (port === undefined) {
      errors.push(
        new InputError(
          'load-balancer',
          `a container port for the target group: container "${name}" has ${ports.length === 0 ? 'no port mappings' : `the port mappings ${ports.join(', ')}`}`,
          lb.targetGroupArn,
          `Write "<target group ARN> ${name}:<port>"`,
        ),
      );
      return [];
    }
    if (!ports.includes(port)) {
      errors.push(
        new InputError(
          'load-balancer',
          `a port that container "${name}" maps (${ports.join(', ') || 'none'})`,
          String(port),
          "Add the port to the container's portMappings",
        ),
      );
      return [];
    }
    return [{ targetGroupArn: lb.targetGroupArn, containerName: name, containerPort: port }];
  });
  if (errors.length > 0) throw new InputErrors(errors);
  return resolved;
}
