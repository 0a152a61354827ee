// A small workflow runner for tests: a workflow is parsed with GitHub's own parser
// (@actions/workflow-parser) and its jobs are run step by step on this machine, as the runner would:
//
// - `uses:` of this suite (`<owner>/aws-containers/<ref>@v1`, resolved with suiteActionOf) runs
//   dist/<bundle>/index.js through runAction, with the action.yml defaults as INPUT_ variables (an
//   `${{ }}` in one, `${{ github.token }}`, evaluated as GitHub does), and its post step at the
//   end of the job (reverse order, `post-if`, the state the main step saved);
// - `uses:` of any other action is answered by a stand-in the caller supplies (./stand-ins.ts);
//   one without a stand-in fails the step, so no example silently skips what it cannot run;
// - `run:` steps run in bash (`bash -e {0}`, or `bash --noprofile --norc -eo pipefail {0}` with
//   `shell: bash`; `sh -e {0}`), with the job's environment and the step's `env:`;
// - GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH and GITHUB_STEP_SUMMARY are one fresh file per step,
//   read after it: outputs become `steps.<id>.outputs`, env and path reach the later steps;
// - `${{ }}` in `env:`, `with:`, `run:`, `if:` and `working-directory` is evaluated with
//   @actions/expressions over the contexts github, env, vars, secrets, steps, job, runner (plus empty
//   matrix, strategy, needs, inputs), and the status functions success(), failure(), always(),
//   cancelled(); the parser's own conversion of `if:` (`success() && (…)`) is what is evaluated,
//   for a job's `if:` (over github, needs, vars, inputs: a job whose `if:` is false is skipped)
//   as for a step's;
// - `github.token` is the caller's (the job's GITHUB_TOKEN: give it in `github.token`), masked;
// - `::add-mask::` lines and secrets are masked in the logs kept; every step has a deadline.
//
// Not supported (a workflow using them fails with a message saying so): matrix strategies,
// reusable workflows, containers and services, shells other than bash and sh.
//
// Every tool runs through an asynchronous spawn: local-aws usually answers from this very process,
// and a spawnSync would block the event loop that serves it.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Evaluator, Lexer, Parser, data } from '@actions/expressions';
import {
  convertWorkflowTemplate,
  isBasicExpression,
  isBoolean,
  isMapping,
  isNumber,
  isSequence,
  isString,
  NoOperationTraceWriter,
  parseWorkflow,
} from '@actions/workflow-parser';
import type { WorkflowTemplate } from '@actions/workflow-parser';
import type { MappingToken, TemplateToken } from '@actions/workflow-parser/templates/tokens/index';
import { parse as parseYaml } from 'yaml';
import { parseCommandFile, runAction } from './action-runner.js';
import { actionYmlPath, suiteActionOf, type SuiteAction } from './actions.js';

// --- Parsing ---------------------------------------------------------------------------------

export interface ParsedWorkflow {
  /** The parser's errors, `<file> (Line: l, Col: c): <message>`; none means GitHub accepts it. */
  errors: string[];
  template?: WorkflowTemplate;
  /** The parsed token tree: `with:` and a few step keys the template leaves out are read here. */
  root?: TemplateToken;
}

/** Parses and converts a workflow with GitHub's parser: the validation a push to GitHub gets. */
export async function parseWorkflowText(name: string, content: string): Promise<ParsedWorkflow> {
  const result = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  const errors = result.context.errors.getErrors().map((e) => e.message);
  if (errors.length > 0 || !result.value) return { errors };
  const template = await convertWorkflowTemplate(result.context, result.value);
  return {
    errors: (template.errors ?? []).map((e) => e.Message),
    template,
    root: result.value,
  };
}

/** A list of steps (a README snippet) as the steps of a one-job workflow, after `before` steps. */
export function wrapSteps(steps: string, before = ''): string {
  const indent = (text: string) =>
    text
      .split('\n')
      .map((line) => (line.trim() ? `      ${line}` : ''))
      .join('\n');
  return `on: push\njobs:\n  example:\n    runs-on: ubuntu-latest\n    steps:\n${indent(before)}\n${indent(steps)}\n`;
}

// --- Expressions ------------------------------------------------------------------------------

const CONTEXTS = [
  'github',
  'env',
  'vars',
  'secrets',
  'steps',
  'job',
  'runner',
  'matrix',
  'strategy',
  'needs',
  'inputs',
];
const STATUS_FUNCTIONS = ['success', 'failure', 'always', 'cancelled'];

type JobStatus = 'success' | 'failure' | 'cancelled';

/** Evaluates one expression (without `${{ }}`) over plain JSON contexts. */
export function evaluate(
  expression: string,
  contexts: Record<string, unknown>,
  status: JobStatus = 'success',
) {
  const lexed = new Lexer(expression).lex();
  const functions = STATUS_FUNCTIONS.map((name) => ({ name, minArgs: 0, maxArgs: 0 }));
  const tree = new Parser(lexed.tokens, CONTEXTS, functions).parse();
  const results: Record<string, boolean> = {
    success: status === 'success',
    failure: status === 'failure',
    always: true,
    cancelled: status === 'cancelled',
  };
  const implementations = new Map(
    STATUS_FUNCTIONS.map((name) => [
      name,
      { name, minArgs: 0, maxArgs: 0, call: () => new data.BooleanData(results[name] ?? false) },
    ]),
  );
  const context = JSON.parse(JSON.stringify(contexts), data.reviver) as data.Dictionary;
  return new Evaluator(tree, context, implementations).evaluate();
}

/** An expression's truth as `if:` takes it: GitHub's own falsy (false, 0, '', null). */
export function isTrue(expression: string, contexts: Record<string, unknown>, status: JobStatus): boolean {
  const negated = evaluate(`!(${expression})`, contexts, status);
  return negated.kind === data.Kind.Boolean && !(negated as data.BooleanData).value;
}

/** A token's value as a string: a literal as it is, an expression evaluated and coerced. */
function valueOf(token: TemplateToken | undefined, contexts: Record<string, unknown>): string {
  if (!token) return '';
  if (isString(token)) return token.value;
  if (isNumber(token) || isBoolean(token)) return String(token.value);
  if (isBasicExpression(token)) return evaluate(token.expression, contexts).coerceString();
  if (token.isLiteral) return '';
  throw new Error(`a ${token.typeName()} where a string was expected (line ${token.line ?? '?'})`);
}

function mappingOf(
  token: TemplateToken | undefined,
  contexts: Record<string, unknown>,
): Record<string, string> {
  const result: Record<string, string> = {};
  if (!token || !isMapping(token)) return result;
  for (const { key, value } of token) result[valueOf(key, contexts)] = valueOf(value, contexts);
  return result;
}

function find(token: TemplateToken | undefined, ...keys: string[]): TemplateToken | undefined {
  let at = token;
  for (const key of keys) at = at && isMapping(at) ? (at as MappingToken).find(key) : undefined;
  return at;
}

// --- Running ----------------------------------------------------------------------------------

/** What a stand-in gets: the step's evaluated `with:`, the job's environment and workspace. */
export interface StandInCall {
  uses: string;
  with: Record<string, string>;
  env: Record<string, string>;
  workspace: string;
  /** Prints a line to the step's log. */
  log(line: string): void;
}

/** What a stand-in did, as the runner sees an action: outputs, exported env, PATH entries, masks. */
export interface StandInResult {
  outputs?: Record<string, string>;
  env?: Record<string, string>;
  path?: string[];
  secrets?: string[];
}

/** Answers `uses: owner/name@ref` for an action that is not this suite's. */
export type StandIn = (call: StandInCall) => Promise<StandInResult>;

export interface WorkflowRunOptions {
  /** The runner machine's environment (PATH, what points SDKs at local-aws, DOCKER_HOST…). */
  machineEnv: Record<string, string>;
  /** The `github` context (event_name, ref, sha, repository, …); `event` is the webhook payload. */
  github: Record<string, unknown> & { event?: unknown };
  secrets?: Record<string, string>;
  vars?: Record<string, string>;
  /** Stand-ins by `owner/name` (lower case, without `@ref`). */
  standIns?: Record<string, StandIn>;
  /**
   * The runner's OIDC token request variables (ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN, from
   * test/helpers/oidc.ts): given to a job only when its permissions grant `id-token: write`, as
   * GitHub does.
   */
  idToken?: Record<string, string>;
  /** A step without `timeout-minutes` is stopped after this long (default 5 minutes). */
  stepTimeoutMs?: number;
  /** Called with each step as it ends (a test's progress log). */
  onStep?: (step: StepRun) => void;
}

export type Outcome = 'success' | 'failure' | 'skipped';

export interface StepRun {
  /** The step's `id`, or the parser's generated one (`__run`, `__actions_checkout`…). */
  id: string;
  /** `uses:` as written, or undefined for a `run:` step. */
  uses?: string;
  phase: 'main' | 'post';
  outcome: Outcome;
  /** As `steps.<id>.conclusion`: success when continue-on-error hid a failure. */
  conclusion: Outcome;
  /** The evaluated `with:` (action steps) with action.yml defaults for the suite's actions. */
  inputs: Record<string, string>;
  outputs: Record<string, string>;
  /** What the step printed (masked), or why it could not run. */
  log: string;
  durationMs: number;
}

export interface JobRun {
  id: string;
  result: Outcome;
  steps: StepRun[];
  /** Runner warnings: unexpected inputs, as GitHub annotates them. */
  warnings: string[];
}

export interface WorkflowRun {
  jobs: JobRun[];
}

interface StepDone {
  outputs: Record<string, string>;
  env: Record<string, string>;
  path: string[];
  secrets: string[];
  log: string;
  ok: boolean;
}

interface PostStep {
  id: string;
  uses: string;
  action: SuiteAction;
  inputs: Record<string, string>;
  state: Record<string, string>;
  postIf: string;
}

/** Runs every job of a parsed workflow, in order (a job whose `if:` is false, or whose `needs` failed, is skipped). */
export async function runWorkflow(parsed: ParsedWorkflow, options: WorkflowRunOptions): Promise<WorkflowRun> {
  if (!parsed.template || !parsed.root || parsed.errors.length > 0) {
    throw new Error(`the workflow does not parse:\n${parsed.errors.join('\n')}`);
  }
  const jobs: JobRun[] = [];
  const workflowEnvToken = find(parsed.root, 'env');
  for (const job of parsed.template.jobs) {
    const id = job.id.value;
    if (job.type !== 'job') throw new Error(`job ${id}: reusable workflows are not supported here`);
    const raw = find(parsed.root, 'jobs', id);
    for (const key of ['strategy', 'container', 'services']) {
      if (find(raw, key)) throw new Error(`job ${id}: \`${key}:\` is not supported by this runner`);
    }
    // The job's `if:` (the parser's `success() && (…)`, or `success()`), over what a job's `if:`
    // may read: github, needs, vars, inputs; success() is whether every job it needs succeeded.
    const needs = Object.fromEntries(
      (job.needs ?? []).map((n) => [
        n.value,
        { result: jobs.find((j) => j.id === n.value)?.result ?? 'skipped', outputs: {} },
      ]),
    );
    const needsStatus: JobStatus = Object.values(needs).every((n) => n.result === 'success')
      ? 'success'
      : 'failure';
    const ifContexts = { github: options.github, vars: options.vars ?? {}, needs, inputs: {} };
    if (!isTrue(job.if.expression, ifContexts, needsStatus)) {
      jobs.push({ id, result: 'skipped', steps: [], warnings: [] });
      continue;
    }
    jobs.push(await runJob(parsed, id, workflowEnvToken, options));
  }
  return { jobs };
}

async function runJob(
  parsed: ParsedWorkflow,
  jobId: string,
  workflowEnvToken: TemplateToken | undefined,
  options: WorkflowRunOptions,
): Promise<JobRun> {
  const job = parsed.template!.jobs.find((j) => j.id.value === jobId)!;
  if (job.type !== 'job') throw new Error('unreachable');
  const rawJob = find(parsed.root, 'jobs', jobId);
  const rawSteps = find(rawJob, 'steps');
  const dir = mkdtempSync(path.join(os.tmpdir(), `workflow-${jobId}-`));
  const workspace = path.join(dir, 'workspace');
  const runnerTemp = path.join(dir, 'temp');
  const home = path.join(dir, 'home');
  for (const d of [workspace, runnerTemp, home]) mkdirSync(d, { recursive: true });
  const eventPath = path.join(dir, 'event.json');
  writeFileSync(eventPath, JSON.stringify(options.github.event ?? {}));

  const github = { ...options.github, workspace, job: jobId, event_path: eventPath };
  const runner = {
    os: 'Linux',
    arch: 'X64',
    name: 'workflow-runner',
    temp: runnerTemp,
    tool_cache: runnerTemp,
  };
  const secrets = options.secrets ?? {};
  // The job's token is a secret too: GitHub masks it wherever it is printed.
  const token = typeof options.github.token === 'string' ? [options.github.token] : [];
  const masks = new Set([...Object.values(secrets), ...token].filter((s) => s.length > 0));
  const mask = (text: string) => {
    let out = text;
    for (const secret of [...masks].sort((a, b) => b.length - a.length)) out = out.split(secret).join('***');
    return out;
  };
  const steps: Record<string, { outputs: Record<string, string>; outcome: Outcome; conclusion: Outcome }> =
    {};
  const baseContexts = () => ({
    github,
    vars: options.vars ?? {},
    secrets,
    runner,
    matrix: {},
    strategy: {},
    needs: {},
    inputs: {},
  });
  // Workflow env may use github, secrets, vars, inputs; job env also needs, strategy, matrix.
  const workflowEnv = mappingOf(workflowEnvToken, baseContexts());
  const jobEnv = mappingOf(job.env, { ...baseContexts(), env: workflowEnv });
  const exported: Record<string, string> = {};
  const pathAdded: string[] = [];
  let status: JobStatus = 'success';
  const runs: StepRun[] = [];
  const posts: PostStep[] = [];
  const warnings: string[] = [];

  const envContext = () => ({ ...workflowEnv, ...jobEnv, ...exported });
  const idToken = grantsIdToken(find(rawJob, 'permissions') ?? find(parsed.root, 'permissions'))
    ? (options.idToken ?? {})
    : {};
  /** The environment a process of this job gets: the machine's, the runner's, the job's. */
  const processEnv = (stepEnv: Record<string, string>): Record<string, string> => {
    const machinePath = options.machineEnv.PATH ?? process.env.PATH ?? '/usr/bin:/bin';
    return {
      ...options.machineEnv,
      ...idToken,
      HOME: home,
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_WORKSPACE: workspace,
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_JOB: jobId,
      ...githubEnv(options.github),
      RUNNER_OS: runner.os,
      RUNNER_ARCH: runner.arch,
      RUNNER_TEMP: runnerTemp,
      RUNNER_TOOL_CACHE: runnerTemp,
      ...envContext(),
      ...stepEnv,
      PATH: [...[...pathAdded].reverse(), machinePath].join(path.delimiter),
    };
  };

  try {
    for (const [index, step] of job.steps.entries()) {
      const started = performance.now();
      const rawStep = rawSteps && isSequence(rawSteps) ? rawSteps.get(index) : undefined;
      if (!('if' in step) || !('env' in step || 'run' in step || 'uses' in step)) {
        throw new Error(`step ${step.id}: only \`run:\` and \`uses:\` steps are supported`);
      }
      const uses = 'uses' in step ? step.uses.value : undefined;
      const record = (outcome: Outcome, done: Partial<StepDone>, inputs: Record<string, string> = {}) => {
        const continueOnError = valueOf(find(rawStep, 'continue-on-error'), {
          ...baseContexts(),
          env: envContext(),
          steps,
        });
        const conclusion: Outcome = outcome === 'failure' && continueOnError === 'true' ? 'success' : outcome;
        const run: StepRun = {
          id: step.id,
          ...(uses ? { uses } : {}),
          phase: 'main',
          outcome,
          conclusion,
          inputs,
          outputs: done.outputs ?? {},
          log: mask(done.log ?? ''),
          durationMs: performance.now() - started,
        };
        steps[step.id] = { outputs: run.outputs, outcome, conclusion };
        if (conclusion === 'failure') status = 'failure';
        runs.push(run);
        options.onStep?.(run);
      };

      const ifContexts = { ...baseContexts(), env: envContext(), steps, job: { status } };
      if (!isTrue(step.if.expression, ifContexts, status)) {
        record('skipped', {});
        continue;
      }
      let stepEnv: Record<string, string> = {};
      let inputs: Record<string, string> = {};
      let done: StepDone;
      try {
        stepEnv = mappingOf(step.env, { ...baseContexts(), env: envContext(), steps, job: { status } });
        const contexts = { ...baseContexts(), env: { ...envContext(), ...stepEnv }, steps, job: { status } };
        const timeoutMinutes = valueOf(find(rawStep, 'timeout-minutes'), contexts);
        const timeoutMs = timeoutMinutes
          ? Number(timeoutMinutes) * 60_000
          : (options.stepTimeoutMs ?? 300_000);
        if ('run' in step) {
          const defaults = find(rawJob, 'defaults', 'run') ?? find(parsed.root, 'defaults', 'run');
          const shell = valueOf(find(rawStep, 'shell') ?? find(defaults, 'shell'), contexts);
          const dirToken = find(rawStep, 'working-directory') ?? find(defaults, 'working-directory');
          const cwd = path.resolve(workspace, valueOf(dirToken, contexts));
          const script = valueOf(step.run, contexts);
          done = await runScript(script, shell, cwd, processEnv(stepEnv), dir, timeoutMs);
        } else {
          inputs = mappingOf(find(rawStep, 'with'), contexts);
          const action = suiteActionOf(uses!);
          if (action) {
            const declared = actionInputs(action);
            const unexpected = Object.keys(inputs).filter((name) => !(name in declared.inputs));
            if (unexpected.length > 0) {
              warnings.push(
                `Unexpected input(s) '${unexpected.join("', '")}', valid inputs are ['${Object.keys(declared.inputs).join("', '")}']`,
              );
            }
            inputs = { ...withExpressions(declared.defaults, contexts), ...inputs };
            const run = await runAction(action.bundle, {
              inputs,
              env: actionEnv(processEnv(stepEnv)),
              event: options.github.event ?? {},
              cwd: workspace,
              timeoutMs,
            });
            done = {
              ok: run.exitCode === 0,
              outputs: run.outputs,
              env: run.env,
              path: [],
              secrets: masksIn(run.stdout),
              log: `${run.stdout}${run.stderr}`,
            };
            if (declared.post) {
              posts.push({
                id: step.id,
                uses: uses!,
                action,
                inputs,
                state: run.state,
                postIf: declared.postIf,
              });
            }
          } else {
            const name = (uses ?? '').split('@')[0]!.toLowerCase();
            const standIn = options.standIns?.[name];
            if (!standIn) {
              throw new Error(`no stand-in for \`uses: ${uses}\` (give one in standIns['${name}'])`);
            }
            const lines: string[] = [];
            const result = await withDeadline(
              standIn({
                uses: uses!,
                with: inputs,
                env: processEnv(stepEnv),
                workspace,
                log: (l) => lines.push(l),
              }),
              timeoutMs,
              `stand-in for ${name}`,
            );
            done = {
              ok: true,
              outputs: result.outputs ?? {},
              env: result.env ?? {},
              path: result.path ?? [],
              secrets: result.secrets ?? [],
              log: lines.join('\n'),
            };
          }
        }
      } catch (err) {
        done = {
          ok: false,
          outputs: {},
          env: {},
          path: [],
          secrets: [],
          log: err instanceof Error ? err.message : String(err),
        };
      }
      for (const secret of done.secrets) if (secret) masks.add(secret);
      Object.assign(exported, done.env);
      pathAdded.push(...done.path);
      record(done.ok ? 'success' : 'failure', done, inputs);
    }

    // Post steps: in reverse order, each under its post-if (default always()).
    for (const post of posts.reverse()) {
      const started = performance.now();
      const contexts = { ...baseContexts(), env: envContext(), steps, job: { status } };
      const base: Omit<StepRun, 'outcome' | 'conclusion' | 'log' | 'durationMs'> = {
        id: post.id,
        uses: post.uses,
        phase: 'post',
        inputs: post.inputs,
        outputs: {},
      };
      if (!isTrue(post.postIf, contexts, status)) {
        runs.push({ ...base, outcome: 'skipped', conclusion: 'skipped', log: '', durationMs: 0 });
        continue;
      }
      const run = await runAction(post.action.bundle, {
        inputs: post.inputs,
        env: actionEnv(processEnv({})),
        event: options.github.event ?? {},
        state: post.state,
        cwd: workspace,
        timeoutMs: options.stepTimeoutMs ?? 300_000,
      });
      const outcome: Outcome = run.exitCode === 0 ? 'success' : 'failure';
      if (outcome === 'failure') status = 'failure';
      const done: StepRun = {
        ...base,
        outcome,
        conclusion: outcome,
        log: mask(`${run.stdout}${run.stderr}`),
        durationMs: performance.now() - started,
      };
      runs.push(done);
      options.onStep?.(done);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { id: jobId, result: status === 'success' ? 'success' : 'failure', steps: runs, warnings };
}

/** Whether `permissions:` (the job's, else the workflow's) lets the job request an OIDC token. */
function grantsIdToken(permissions: TemplateToken | undefined): boolean {
  if (!permissions) return false;
  if (isString(permissions)) return permissions.value === 'write-all';
  const idToken = find(permissions, 'id-token');
  return idToken !== undefined && isString(idToken) && idToken.value === 'write';
}

/** The runner's GITHUB_* variables from the github context. */
function githubEnv(github: Record<string, unknown>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(github)) {
    if (key === 'event' || key === 'token' || typeof value === 'object') continue;
    env[`GITHUB_${key.toUpperCase()}`] = String(value);
  }
  return env;
}

/** runAction makes its own command files and event file: the job's must not replace them. */
function actionEnv(env: Record<string, string>): Record<string, string> {
  const rest = { ...env };
  for (const key of [
    'GITHUB_OUTPUT',
    'GITHUB_STATE',
    'GITHUB_ENV',
    'GITHUB_PATH',
    'GITHUB_STEP_SUMMARY',
    'GITHUB_EVENT_PATH',
  ]) {
    delete rest[key];
  }
  return rest;
}

interface DeclaredInputs {
  inputs: Record<string, unknown>;
  defaults: Record<string, string>;
  post: boolean;
  postIf: string;
}

/** The action.yml of a suite action: its inputs, the defaults the runner passes, its post step. */
function actionInputs(action: SuiteAction): DeclaredInputs {
  const yml = parseYaml(readFileSync(actionYmlPath(action), 'utf8')) as {
    inputs?: Record<string, { default?: unknown }>;
    runs: { post?: string; 'post-if'?: string };
  };
  const inputs = yml.inputs ?? {};
  const defaults: Record<string, string> = {};
  for (const [name, spec] of Object.entries(inputs)) {
    if (spec?.default !== undefined && spec.default !== null) defaults[name] = String(spec.default);
  }
  return {
    inputs,
    defaults,
    post: Boolean(yml.runs.post),
    postIf: (yml.runs['post-if'] ?? 'always()').replace(/^\$\{\{\s*|\s*\}\}$/g, ''),
  };
}

/** action.yml's defaults as the runner gives them: `${{ github.token }}` and the like evaluated. */
function withExpressions(
  defaults: Record<string, string>,
  contexts: Record<string, unknown>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(defaults).map(([name, value]) => [
      name,
      value.replace(/\$\{\{(.*?)\}\}/g, (_, expression: string) =>
        evaluate(expression, contexts).coerceString(),
      ),
    ]),
  );
}

function masksIn(stdout: string): string[] {
  return [...stdout.matchAll(/^::add-mask::(.*)$/gm)].map((m) => m[1] ?? '');
}

function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** One `run:` step: the script in a file, the shell GitHub uses, the step's command files. */
async function runScript(
  script: string,
  shell: string,
  cwd: string,
  env: Record<string, string>,
  jobDir: string,
  timeoutMs: number,
): Promise<StepDone> {
  const stepDir = mkdtempSync(path.join(jobDir, 'step-'));
  const files = {
    GITHUB_OUTPUT: path.join(stepDir, 'output'),
    GITHUB_ENV: path.join(stepDir, 'env'),
    GITHUB_PATH: path.join(stepDir, 'path'),
    GITHUB_STEP_SUMMARY: path.join(stepDir, 'summary'),
  };
  for (const file of Object.values(files)) writeFileSync(file, '');
  const scriptFile = path.join(stepDir, 'script.sh');
  writeFileSync(scriptFile, script);
  const argv =
    shell === ''
      ? ['bash', '-e', scriptFile]
      : shell === 'bash'
        ? ['bash', '--noprofile', '--norc', '-eo', 'pipefail', scriptFile]
        : shell === 'sh'
          ? ['sh', '-e', scriptFile]
          : undefined;
  if (!argv) throw new Error(`shell: ${shell} is not supported by this runner (bash or sh)`);
  if (!existsSync(cwd)) throw new Error(`working-directory ${cwd} does not exist`);
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd,
    env: { ...env, ...files },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const timer = setTimeout(() => {
    log += `\nThe step has timed out after ${timeoutMs} ms.`;
    child.kill('SIGKILL');
  }, timeoutMs);
  const code = await new Promise<number | null>((resolve) => {
    child.on('error', (err) => {
      log += err.message;
      resolve(null);
    });
    child.on('close', (c) => resolve(c));
  });
  clearTimeout(timer);
  const read = (file: string) => readFileSync(file, 'utf8');
  return {
    ok: code === 0,
    outputs: parseCommandFile(read(files.GITHUB_OUTPUT)),
    env: parseCommandFile(read(files.GITHUB_ENV)),
    path: read(files.GITHUB_PATH)
      .split('\n')
      .filter((l) => l.trim() !== ''),
    secrets: masksIn(log),
    log: code === 0 ? log : `${log}\nProcess completed with exit code ${code}.`,
  };
}

/** A run as a few lines a person can read in a failed test: each step, its outcome, a failure's log. */
export function describeRun(run: WorkflowRun): string {
  const lines: string[] = [];
  for (const job of run.jobs) {
    lines.push(`job ${job.id}: ${job.result}`);
    for (const w of job.warnings) lines.push(`  warning: ${w}`);
    for (const step of job.steps) {
      lines.push(
        `  ${step.phase === 'post' ? 'post ' : ''}${step.id} (${step.uses ?? 'run'}): ${step.outcome}`,
      );
      if (step.outcome === 'failure')
        lines.push(
          ...step.log
            .split('\n')
            .slice(-40)
            .map((l) => `    | ${l}`),
        );
    }
  }
  return lines.join('\n');
}
