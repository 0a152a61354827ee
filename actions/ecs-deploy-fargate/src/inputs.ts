import {
  getGitHubContext,
  InputReader,
  type GitHubContext,
  ParseError,
  parseArn,
  parseImageReference,
  parseJsonOrYaml,
} from '@aws-containers/core';
import type { LogConfiguration } from '@aws-sdk/client-ecs';
import type { PreflightMode } from './preflight.js';
import type { PreviewInputs } from './preview.js';
import {
  FARGATE_CPU_EXPECTED,
  FARGATE_MEMORY_EXPECTED,
  FARGATE_SIZES,
  TASK_DEFINITION_EXPECTED,
  fargateSizeProblem,
  parseTaskCpu,
  parseTaskMemory,
  taskDefinitionFromDocument,
  type LoadBalancerInput,
  type LogConfigurationChange,
  type RenderedTaskDefinition,
} from './render.js';

/** Where the task definition to render comes from. */
export type TaskDefinitionSource =
  /** `task-definition`: a file (or inline JSON/YAML), already read and checked. */
  | { kind: 'file'; path: string | undefined; definition: RenderedTaskDefinition }
  /** `task-definition-family`: a family (its latest ACTIVE revision), `family:revision`, or an ARN. */
  | { kind: 'registered'; reference: string }
  /** Neither: the task definition the (first) service runs now. */
  | { kind: 'service' };

export interface CapacityProviderStrategyItem {
  capacityProvider: 'FARGATE' | 'FARGATE_SPOT';
  weight: number;
  base: number;
}

export type CircuitBreaker = 'rollback' | 'on' | 'off';
export type PropagateTags = 'TASK_DEFINITION' | 'SERVICE' | 'NONE';

/** Settings for a service this step creates (`create-service: true` and the service is missing). */
export interface CreateServiceSettings {
  subnets: string[];
  securityGroups: string[];
  assignPublicIp: boolean;
  /** Empty: the FARGATE launch type. */
  capacityProviderStrategy: CapacityProviderStrategyItem[];
  loadBalancers: LoadBalancerInput[];
  circuitBreaker: CircuitBreaker;
  enableExecuteCommand: boolean;
  propagateTags: PropagateTags;
  /** Tags of the created service (a preview's); none for an ordinary deploy. */
  serviceTags?: Map<string, string>;
}

/** Every input of ecs-deploy-fargate, parsed and checked; keys follow action.yml. */
export interface Inputs {
  cluster: string;
  /** The services to deploy to: `service`, or every entry of `services`. */
  services: string[];
  region: string | undefined;
  maxAttempts: number;

  taskDefinition: TaskDefinitionSource;
  containerName: string | undefined;
  image: string | undefined;
  images: Map<string, string>;
  environment: Map<string, string>;
  secrets: Map<string, string>;
  command: string[] | undefined;
  logConfiguration: LogConfigurationChange | undefined;
  dockerLabels: Map<string, string>;
  /** CPU units, normalised ("0.5 vCPU" -> "512"). */
  cpu: string | undefined;
  /** MiB, normalised ("1 GB" -> "1024"). */
  memory: string | undefined;
  taskRoleArn: string | undefined;
  executionRoleArn: string | undefined;
  /** Tags for a newly registered revision. */
  tags: Map<string, string>;
  /** Undefined: deregister nothing. */
  keepRevisions: number | undefined;

  /** Undefined: keep the service's count (1 for a created service). */
  desiredCount: number | undefined;
  forceNewDeployment: boolean;
  createService: boolean;
  createServiceSettings: CreateServiceSettings;

  timeoutMs: number;
  pollIntervalMs: number;
  maxFailedTasks: number;
  rollbackOnFailure: boolean;
  /** Follow a rollback (ECS's or ours) to its end before the step ends. */
  waitForRollback: boolean;
  /** The command of a one-off task of the new revision, run before the service is updated. */
  runTaskBeforeDeploy: string[] | undefined;
  runTaskTimeoutMs: number;
  dryRun: boolean;
  /** `preview` set: this step deploys, tears down or sweeps PR previews of a base service. */
  preview: PreviewInputs | undefined;
  /** Read what the task definition names before changing anything: stop (`on`), warn, or skip. */
  preflight: PreflightMode;
}

// ECS names: up to 255 letters, digits, hyphens and underscores; ARNs are accepted as given.
const ECS_NAME = /^(?:[A-Za-z0-9_-]{1,255}|arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:[a-z-]+\/.+)$/;
const CONTAINER_NAME = /^[A-Za-z0-9_-]{1,255}$/;
/** Services one step deploys to: one revision spread further is a release train, not a step. */
export const MAX_SERVICES = 100;
const CONTAINER_NAME_EXPECTED = 'a container name (up to 255 letters, digits, - and _)';

// ---------------------------------------------------------------------------------------------
// Parsers for this action's own value formats. Each throws ParseError.

export const COMMAND_EXPECTED =
  'a command: a JSON array of strings, or words separated by spaces with "double" or \'single\' quotes grouping';
const SHELL_OPERATORS = new Set(['&&', '||', '|', ';', '>', '>>', '<', '&']);

/**
 * A container command: a JSON array (`["npm", "run", "migrate"]`) or a shell-style string split
 * into words the way a POSIX shell splits them (quotes group and are removed, a backslash escapes
 * the next character outside single quotes), with no expansion, globbing or operators: the words
 * are exec'd as they are. An unquoted `&&`, `|`, `;`, `>`… is an error, because it would reach the
 * program as an argument; write ["sh", "-c", "…"] to run a shell.
 */
export function parseCommand(text: string): string[] {
  const s = text.trim();
  if (s.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(s);
    } catch {
      throw new ParseError(COMMAND_EXPECTED, text, 'It starts with [ but is not valid JSON');
    }
    if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((w) => typeof w === 'string')) {
      throw new ParseError(COMMAND_EXPECTED, text, 'A JSON command is a non-empty array of strings');
    }
    return parsed as string[];
  }
  const words = splitShellWords(s);
  if (words.length === 0) throw new ParseError(COMMAND_EXPECTED, text, 'It has no words');
  return words;
}

/** Splits a shell-style string into words. Exported for tests; use parseCommand. */
export function splitShellWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quoted = false; // the current word had quotes: an operator inside quotes is a plain word
  let i = 0;
  const finish = () => {
    if (!inWord) return;
    if (!quoted && SHELL_OPERATORS.has(word)) {
      throw new ParseError(
        COMMAND_EXPECTED,
        text,
        `"${word}" is a shell operator, but the command runs without a shell. Write ["sh", "-c", ${JSON.stringify(text)}] to run one, or quote it to pass it as an argument`,
      );
    }
    words.push(word);
    word = '';
    inWord = false;
    quoted = false;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      finish();
      i++;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0)
        throw new ParseError(COMMAND_EXPECTED, text, `The single quote at column ${i + 1} is not closed`);
      word += text.slice(i + 1, end);
      inWord = quoted = true;
      i = end + 1;
    } else if (c === '"') {
      let j = i + 1;
      for (;;) {
        if (j >= text.length) {
          throw new ParseError(COMMAND_EXPECTED, text, `The double quote at column ${i + 1} is not closed`);
        }
        const d = text[j]!;
        if (d === '"') break;
        // Inside double quotes a backslash escapes only \ " $ ` (and a newline), as in POSIX sh.
        if (d === '\\' && j + 1 < text.length && '\\"$`\n'.includes(text[j + 1]!)) {
          if (text[j + 1] !== '\n') word += text[j + 1];
          j += 2;
        } else {
          word += d;
          j++;
        }
      }
      inWord = quoted = true;
      i = j + 1;
    } else if (c === '\\') {
      if (i + 1 >= text.length) throw new ParseError(COMMAND_EXPECTED, text, 'It ends with a lone backslash');
      if (text[i + 1] !== '\n') {
        word += text[i + 1];
        inWord = quoted = true;
      }
      i += 2;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  finish();
  return words;
}

export const LOG_CONFIGURATION_EXPECTED =
  '"awslogs", "awslogs:<log group>", or a logConfiguration mapping ({logDriver, options}) as JSON or YAML, inline or in a file';

/** `awslogs`, `awslogs:<group>`, or a full LogConfiguration (inline JSON/YAML or a file). */
export function parseLogConfiguration(text: string, cwd?: string): LogConfigurationChange {
  const s = text.trim();
  if (s === 'awslogs') return { kind: 'awslogs', group: undefined };
  if (s.startsWith('awslogs:')) {
    const group = s.slice('awslogs:'.length).trim();
    if (!/^[A-Za-z0-9_\-/.#]{1,512}$/.test(group)) {
      throw new ParseError(
        LOG_CONFIGURATION_EXPECTED,
        text,
        'Log group names are up to 512 letters, digits and _ - / . #',
      );
    }
    return { kind: 'awslogs', group };
  }
  let value: unknown;
  try {
    value = parseJsonOrYaml(s, { cwd }).value;
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    throw new ParseError(LOG_CONFIGURATION_EXPECTED, error.given, error.hint);
  }
  const config = value as Record<string, unknown> | null;
  if (
    typeof config !== 'object' ||
    config === null ||
    Array.isArray(config) ||
    typeof config.logDriver !== 'string'
  ) {
    throw new ParseError(
      LOG_CONFIGURATION_EXPECTED,
      s.split('\n')[0]!,
      'A logConfiguration mapping needs "logDriver"',
    );
  }
  const options = config.options;
  if (
    options !== undefined &&
    (typeof options !== 'object' ||
      options === null ||
      Object.values(options).some((v) => typeof v !== 'string'))
  ) {
    throw new ParseError(
      LOG_CONFIGURATION_EXPECTED,
      s.split('\n')[0]!,
      '"options" must map names to strings (quote numbers and booleans)',
    );
  }
  return { kind: 'custom', configuration: config as unknown as LogConfiguration };
}

export const CAPACITY_PROVIDER_STRATEGY_EXPECTED =
  'capacity providers, one per line: FARGATE=<weight> or FARGATE_SPOT=<weight>, optionally followed by ",base=<tasks>"';

/** `FARGATE=1,base=2` / `FARGATE_SPOT=3` lines. */
export function parseCapacityProviderStrategy(text: string): CapacityProviderStrategyItem[] {
  const items: CapacityProviderStrategyItem[] = [];
  for (const line of text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)) {
    const m = /^(FARGATE|FARGATE_SPOT)\s*=\s*(\d+)\s*(?:,\s*base\s*=\s*(\d+))?$/.exec(line);
    if (!m) {
      const hint =
        /^fargate/i.test(line) && !/^FARGATE/.test(line) ? 'Provider names are uppercase' : undefined;
      throw new ParseError(CAPACITY_PROVIDER_STRATEGY_EXPECTED, line, hint);
    }
    const item = {
      capacityProvider: m[1] as 'FARGATE' | 'FARGATE_SPOT',
      weight: Number(m[2]),
      base: Number(m[3] ?? 0),
    };
    if (item.weight > 1000)
      throw new ParseError(CAPACITY_PROVIDER_STRATEGY_EXPECTED, line, 'A weight is 0 to 1000');
    if (item.base > 100000)
      throw new ParseError(CAPACITY_PROVIDER_STRATEGY_EXPECTED, line, 'A base is 0 to 100000');
    if (items.some((i) => i.capacityProvider === item.capacityProvider)) {
      throw new ParseError(
        CAPACITY_PROVIDER_STRATEGY_EXPECTED,
        line,
        `${item.capacityProvider} is listed twice`,
      );
    }
    items.push(item);
  }
  if (items.filter((i) => i.base > 0).length > 1) {
    throw new ParseError(CAPACITY_PROVIDER_STRATEGY_EXPECTED, text, 'Only one provider may have a base');
  }
  if (items.length > 0 && items.every((i) => i.weight === 0)) {
    throw new ParseError(
      CAPACITY_PROVIDER_STRATEGY_EXPECTED,
      text,
      'At least one provider needs a weight above 0',
    );
  }
  return items;
}

export const LOAD_BALANCER_EXPECTED =
  'target groups, one per line: "<target group ARN>" or "<target group ARN> <container>:<port>"';

/** `<target group ARN> [<container>][:<port>]` lines. */
export function parseLoadBalancers(text: string): LoadBalancerInput[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => {
      const [arn = '', where, ...rest] = line.split(/\s+/);
      try {
        parseArn(arn, { service: 'elasticloadbalancing', resourceType: 'targetgroup' });
      } catch (error) {
        if (!(error instanceof ParseError)) throw error;
        throw new ParseError(LOAD_BALANCER_EXPECTED, line, error.hint);
      }
      const m = where === undefined ? undefined : /^([A-Za-z0-9_-]{1,255})?(?::(\d{1,5}))?$/.exec(where);
      if (rest.length > 0 || (where !== undefined && (!m || (m[1] === undefined && m[2] === undefined)))) {
        throw new ParseError(LOAD_BALANCER_EXPECTED, line);
      }
      const port = m?.[2] === undefined ? undefined : Number(m[2]);
      if (port !== undefined && (port < 1 || port > 65535)) {
        throw new ParseError(LOAD_BALANCER_EXPECTED, line, 'A port is 1 to 65535');
      }
      return { targetGroupArn: arn, containerName: m?.[1], containerPort: port };
    });
}

export const TASK_DEFINITION_REFERENCE_EXPECTED =
  'a task definition family, family:revision, or task definition ARN';

export function parseTaskDefinitionReference(text: string): string {
  if (/^[A-Za-z0-9_-]{1,255}(?::\d+)?$/.test(text)) return text;
  if (text.startsWith('arn:')) {
    try {
      parseArn(text, { service: 'ecs', resourceType: 'task-definition' });
      return text;
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      throw new ParseError(TASK_DEFINITION_REFERENCE_EXPECTED, text, error.hint);
    }
  }
  throw new ParseError(
    TASK_DEFINITION_REFERENCE_EXPECTED,
    text,
    /\.(json|ya?ml)$/i.test(text) ? 'That looks like a file: give it as "task-definition"' : undefined,
  );
}

/** A task definition input: inline JSON/YAML or a file, holding a register- or describe-shaped definition. */
export function parseTaskDefinitionFile(
  text: string,
  cwd?: string,
): { path: string | undefined; definition: RenderedTaskDefinition } {
  const { value, file } = parseJsonOrYaml(text, { cwd });
  try {
    return { path: file, definition: taskDefinitionFromDocument(value) };
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    throw new ParseError(error.expected, file ? text.trim() : error.given, error.hint);
  }
}

function parseFargateCpu(text: string): string {
  const cpu = parseTaskCpu(text);
  if (!FARGATE_SIZES.has(Number(cpu))) {
    throw new ParseError(FARGATE_CPU_EXPECTED, text, fargateSizeProblem(cpu, '0'));
  }
  return cpu;
}

function parseFargateMemory(text: string): string {
  const memory = parseTaskMemory(text);
  if (![...FARGATE_SIZES.values()].some((values) => values.includes(Number(memory)))) {
    throw new ParseError(
      FARGATE_MEMORY_EXPECTED,
      text,
      `Fargate offers ${memory} MiB with no CPU value; see the Fargate task sizes (512 MiB to 120 GB)`,
    );
  }
  return memory;
}

function parseRoleArn(text: string): string {
  parseArn(text, { service: 'iam', resourceType: 'role' });
  return text;
}

function parseImage(text: string): string {
  parseImageReference(text);
  return text;
}

// ---------------------------------------------------------------------------------------------

export function getInputs(
  reader: InputReader = new InputReader(),
  github: Pick<GitHubContext, 'prNumber'> = getGitHubContext(),
): Inputs {
  const cluster = reader.string('cluster', {
    required: true,
    pattern: ECS_NAME,
    expected: 'an ECS cluster name or ARN',
  });
  const preview = readPreviewInputs(reader, github);
  if (preview) {
    // The preview's service is named from the base service and the PR.
    for (const name of ['service', 'services']) {
      if (reader.has(name)) {
        reader.addError(
          name,
          'no value when preview is set (the preview service is <preview-base-service>-pr-<pr-number>)',
          reader.raw(name),
        );
      }
    }
  } else reader.exactlyOneOf(['service', 'services']);
  const service = reader.string('service', { pattern: ECS_NAME, expected: 'an ECS service name or ARN' });
  const services = reader.list('services', {
    itemTest: (item) => ECS_NAME.test(item),
    itemExpected: 'ECS service names or ARNs',
    maxItems: MAX_SERVICES,
    unique: true,
  });
  const region = reader.region('region');
  const maxAttempts = reader.int('max-attempts', { min: 1, max: 20, default: 5 });

  // --- the task definition and what to change in it
  reader.atMostOneOf(['task-definition', 'task-definition-family']);
  const file = reader.parsed('task-definition', TASK_DEFINITION_EXPECTED, (value) =>
    parseTaskDefinitionFile(value),
  );
  const reference = reader.parsed(
    'task-definition-family',
    TASK_DEFINITION_REFERENCE_EXPECTED,
    parseTaskDefinitionReference,
  );
  const taskDefinition: TaskDefinitionSource = file
    ? { kind: 'file', ...file }
    : reference
      ? { kind: 'registered', reference }
      : { kind: 'service' };

  const containerName = reader.string('container-name', {
    pattern: CONTAINER_NAME,
    expected: CONTAINER_NAME_EXPECTED,
  });
  reader.atMostOneOf(['image', 'images']);
  const image = reader.parsed(
    'image',
    'an image reference such as 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app@sha256:…',
    parseImage,
  );
  const images =
    reader.keyValues('images', {
      keyPattern: CONTAINER_NAME,
      keyExpected: 'container names (letters, digits, - and _)',
    }) ?? new Map<string, string>();
  for (const [container, ref] of images) {
    try {
      parseImage(ref);
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      reader.addError('images', `an image reference for container "${container}"`, ref, error.hint);
    }
  }
  const environment = reader.keyValues('environment') ?? new Map<string, string>();
  const secrets = reader.keyValues('secrets') ?? new Map<string, string>();
  const command = reader.parsed('command', COMMAND_EXPECTED, parseCommand);
  const logConfiguration = reader.parsed('log-configuration', LOG_CONFIGURATION_EXPECTED, (v) =>
    parseLogConfiguration(v),
  );
  const dockerLabels =
    reader.keyValues('docker-labels', {
      keyPattern: /^[A-Za-z0-9][A-Za-z0-9._/-]*$/,
      keyExpected: 'a label key (letters, digits and . _ / -)',
    }) ?? new Map<string, string>();
  const cpu = reader.parsed('cpu', FARGATE_CPU_EXPECTED, parseFargateCpu);
  const memory = reader.parsed('memory', FARGATE_MEMORY_EXPECTED, parseFargateMemory);
  if (cpu !== undefined && memory !== undefined) {
    const problem = fargateSizeProblem(cpu, memory);
    if (problem)
      reader.addError(
        'cpu, memory',
        'a CPU and memory pair that Fargate offers',
        `cpu ${cpu}, memory ${memory}`,
        problem,
      );
  }
  const roleExpected = 'an IAM role ARN, arn:<partition>:iam::<account>:role/<name>';
  const taskRoleArn = reader.parsed('task-role-arn', roleExpected, parseRoleArn);
  const executionRoleArn = reader.parsed('execution-role-arn', roleExpected, parseRoleArn);
  const tags =
    reader.keyValues('tags', {
      keyPattern: /^(?!aws:)[\p{L}\p{Z}\p{N}_.:/=+@-]{1,128}$/iu,
      keyExpected:
        'a tag key (up to 128 letters, digits, spaces and _ . : / = + - @, not starting with aws:)',
    }) ?? new Map<string, string>();
  const keepRevisions = reader.int('keep-revisions', { min: 1, max: 1000 });

  // --- the service
  const desiredCount = reader.int('desired-count', { min: 0, max: 5000 });
  const forceNewDeployment = reader.boolean('force-new-deployment', { default: false });
  const createService = reader.boolean('create-service', { default: false });
  const subnets = reader.list('subnets', {
    itemTest: (item) => /^subnet-[0-9a-f]{8,17}$/.test(item),
    itemExpected: 'subnet IDs (subnet-…)',
  });
  const securityGroups = reader.list('security-groups', {
    itemTest: (item) => /^sg-[0-9a-f]{8,17}$/.test(item),
    itemExpected: 'security group IDs (sg-…)',
  });
  const assignPublicIp = reader.boolean('assign-public-ip', { default: false });
  const capacityProviderStrategy = reader.parsed(
    'capacity-provider-strategy',
    CAPACITY_PROVIDER_STRATEGY_EXPECTED,
    parseCapacityProviderStrategy,
  );
  const loadBalancers = reader.parsed('load-balancer', LOAD_BALANCER_EXPECTED, parseLoadBalancers);
  const circuitBreaker = reader.enum('circuit-breaker', ['rollback', 'on', 'off'], { default: 'rollback' });
  const enableExecuteCommand = reader.boolean('enable-execute-command', { default: false });
  const propagateTags = reader.enum('propagate-tags', ['TASK_DEFINITION', 'SERVICE', 'NONE'], {
    default: 'TASK_DEFINITION',
  });
  if (createService === false) {
    // Settings that only a created service uses would be silently ignored: say so instead.
    for (const name of ['subnets', 'security-groups', 'capacity-provider-strategy', 'load-balancer']) {
      if (reader.has(name)) {
        reader.addError(
          name,
          'no value unless create-service is true (it configures a created service)',
          reader.raw(name),
        );
      }
    }
  }
  if (createService === true && !reader.has('subnets')) {
    reader.addError(
      'subnets',
      'the subnets of the service when create-service is true (Fargate tasks need awsvpc subnets)',
      undefined,
    );
  }

  // --- following the rollout
  const timeoutMs = reader.duration('timeout', { min: 1000, default: 15 * 60_000 });
  const pollIntervalMs = reader.duration('poll-interval', { min: 100, max: 5 * 60_000, default: 5000 });
  if (timeoutMs !== undefined && pollIntervalMs !== undefined && pollIntervalMs > timeoutMs) {
    reader.addError(
      'poll-interval',
      `a duration shorter than timeout (${reader.raw('timeout') || '15m'})`,
      reader.raw('poll-interval'),
    );
  }
  const maxFailedTasks = reader.int('max-failed-tasks', { min: 1, max: 1000, default: 3 });
  const rollbackOnFailure = reader.boolean('rollback-on-failure', { default: true });
  const waitForRollback = reader.boolean('wait-for-rollback', { default: true });
  const runTaskBeforeDeploy = reader.parsed('run-task-before-deploy', COMMAND_EXPECTED, parseCommand);
  const runTaskTimeoutMs = reader.duration('run-task-timeout', { min: 1000, default: 10 * 60_000 });
  const dryRun = reader.boolean('dry-run', { default: false });
  const preflight = reader.enum('preflight', ['on', 'warn', 'off'], { default: 'on' });

  const inputs: Inputs = {
    cluster,
    services: service ? [service] : (services ?? []),
    region,
    maxAttempts,
    taskDefinition,
    containerName,
    image,
    images,
    environment,
    secrets,
    command,
    logConfiguration,
    dockerLabels,
    cpu,
    memory,
    taskRoleArn,
    executionRoleArn,
    tags,
    keepRevisions,
    desiredCount,
    forceNewDeployment,
    createService,
    createServiceSettings: {
      subnets: subnets ?? [],
      securityGroups: securityGroups ?? [],
      assignPublicIp,
      capacityProviderStrategy: capacityProviderStrategy ?? [],
      loadBalancers: loadBalancers ?? [],
      circuitBreaker,
      enableExecuteCommand,
      propagateTags,
    },
    timeoutMs,
    pollIntervalMs,
    maxFailedTasks,
    rollbackOnFailure,
    waitForRollback,
    runTaskBeforeDeploy,
    runTaskTimeoutMs,
    dryRun,
    preview,
    preflight,
  };
  return reader.finish(inputs);
}

const PREVIEW_ONLY_INPUTS = [
  'preview-base-service',
  'pr-number',
  'preview-routing',
  'listener-arn',
  'preview-domain',
] as const;
// A DNS name under which pr-<n>.<domain> is a host (an ALB host header is at most 128 characters).
const PREVIEW_DOMAIN = /^(?=.{1,110}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** The preview inputs, or undefined when `preview` is empty (then none of them may be set). */
function readPreviewInputs(
  reader: InputReader,
  github: Pick<GitHubContext, 'prNumber'>,
): PreviewInputs | undefined {
  const mode = reader.enum('preview', ['deploy', 'teardown', 'sweep']);
  // Read (and so checked) in every mode: action.yml gives these defaults.
  const githubToken = reader.string('github-token', { secret: true });
  const ttlMs = reader.duration('preview-ttl', { min: 60_000, default: 72 * 3_600_000 });
  const maxPreviews = reader.int('max-previews', { min: 1, max: 100, default: 10 });
  // preview-ttl and max-previews have defaults in action.yml, so only these say a preview was meant.
  if (mode === undefined) {
    for (const name of PREVIEW_ONLY_INPUTS) {
      if (reader.has(name)) {
        reader.addError(name, 'no value unless preview is deploy, teardown or sweep', reader.raw(name));
      }
    }
    return undefined;
  }
  const baseService = reader.string('preview-base-service', {
    required: true,
    pattern: /^[A-Za-z0-9_-]{1,240}$/,
    expected:
      'the name of the service a preview copies (letters, digits, - and _; at most 240, for the -pr-<n> suffix)',
  });
  const prNumber = reader.int('pr-number', { min: 1 }) ?? github.prNumber;
  if (prNumber === undefined && mode !== 'sweep') {
    reader.addError(
      'pr-number',
      `a pull request number (the event has none: preview ${mode} runs on pull_request events, or give pr-number)`,
      undefined,
    );
  }
  const listenerArn = reader.string('listener-arn', {
    pattern:
      /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener\/app\/[^/]+\/[0-9a-f]+\/[0-9a-f]+$/,
    expected:
      'an Application Load Balancer listener ARN (arn:aws:elasticloadbalancing:<region>:<account>:listener/app/<name>/<id>/<id>)',
  });
  const routing = reader.enum('preview-routing', ['alb', 'public-ip', 'none'], {
    default: listenerArn === undefined && !reader.has('listener-arn') ? 'none' : 'alb',
  });
  const domain = reader.string('preview-domain', {
    pattern: PREVIEW_DOMAIN,
    expected: 'a lowercase DNS name such as preview.example.com (previews are pr-<n>.<domain>)',
  });
  if (routing === 'alb' && mode === 'deploy') {
    if (!reader.has('listener-arn')) {
      reader.addError(
        'listener-arn',
        'the listener the preview rules go on, when preview-routing is alb',
        undefined,
      );
    }
    if (!reader.has('preview-domain')) {
      reader.addError(
        'preview-domain',
        'the domain of the preview hosts, when preview-routing is alb',
        undefined,
      );
    }
  }
  return {
    mode,
    baseService,
    prNumber,
    routing,
    listenerArn,
    domain,
    ttlMs,
    maxPreviews,
    githubToken,
  };
}
