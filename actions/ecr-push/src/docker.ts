// The docker CLI, behind a small interface: every command is spawned without a shell, with its
// arguments as an array, and the one secret it ever gets (a registry password) goes on stdin.
// Every user value that docker takes as a positional argument (an image, a reference, a context, a
// host) comes after `--`, so a value such as `--help` is never read as an option; values of
// options (`--tag`, `--build-arg`…) are checked inputs that cannot start with `-`.
//
// Why our own spawn and not @actions/exec (3.0.0): exec takes no AbortSignal and gives no handle on
// the child, so a cancelled step could not stop a running `docker build` or `docker push`. Measured with a stand-in docker whose push
// sleeps 3 s (actions/ecr-push/test/docker-cancel.test.ts): ours stops the CLI 6 ms after the
// abort, under exec it ran its whole push, 3011 ms. The `[command]` line is echoed as exec echoes
// it, with each build-argument value shown as *** (a value may be a token the runner does not
// know to mask).
//
// All commands run with DOCKER_CONFIG set to a job-scoped folder (jobDockerConfig): a login lands
// there, and a logout removes it only from there, so two jobs on one self-hosted runner cannot log
// each other out (amazon-ecr-login #77, #623) and the machine's ~/.docker/config.json is never
// rewritten.
import { spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ActionError } from '@aws-containers/core';

export type ProbeResult =
  { ok: true; serverVersion: string; buildx: boolean } | { ok: false; reason: string };

export interface BuildOptions {
  /** A local folder, or a remote context (git or https URL) that docker fetches itself. */
  context: string;
  /** Relative to the working directory, as `docker build -f` takes it; default `<context>/Dockerfile`. */
  dockerfile?: string;
  buildArgs: ReadonlyMap<string, string> | Readonly<Record<string, string>>;
  target?: string;
  /** Needs buildx. More than one needs `push: true`: docker's image store holds one platform. */
  platforms: string[];
  labels: ReadonlyMap<string, string> | Readonly<Record<string, string>>;
  /** Full references (`<registry>/<repository>:<tag>`); the first names the image afterwards. */
  tags: string[];
  /**
   * buildx only: push every tag from the builder (`--push`) instead of loading the image into
   * docker (`--load`). Required for multi-platform builds, whose index docker cannot store; the
   * caller logs in first, and skips its own `push`. Provenance attestations are turned off so the
   * pushed digest is the image (or its platforms' index) and no untagged attestation manifests
   * land in the repository.
   */
  push?: boolean;
}

export interface BuildResult {
  /** The image's id (its config digest) as docker reports it, `sha256:…`. */
  imageId: string;
  /** The pushed manifest (or index) digest; only when `push` was set. */
  digest?: string;
}

export interface DockerCli {
  /** The CLI on PATH and an engine that answers (`docker version`), plus whether `docker buildx` works. */
  probe(): Promise<ProbeResult>;
  /** `docker login --username U --password-stdin HOST` into the job-scoped config. */
  login(registryHost: string, username: string, password: string): Promise<void>;
  /** `docker logout HOST`, acting on the job-scoped config only. */
  logout(registryHost: string): Promise<void>;
  build(options: BuildOptions): Promise<BuildResult>;
  tag(source: string, target: string): Promise<void>;
  /** Pushes one reference and returns the digest docker printed for it. */
  push(ref: string): Promise<{ digest: string }>;
  /** Whether the local engine holds an image under this reference. */
  imageExists(ref: string): Promise<boolean>;
}

export interface DockerCliOptions {
  /** The DOCKER_CONFIG folder every command uses (see jobDockerConfig). */
  dockerConfig: string;
  /** The environment of the CLI; default process.env. DOCKER_CONFIG is always replaced. */
  env?: NodeJS.ProcessEnv;
  /**
   * Receives each command line (`[command]docker …`, built from the very array given to spawn)
   * and each line the CLI prints while building, pushing, tagging or logging in/out.
   */
  log?: (line: string) => void;
  /** Aborting kills the running command; its promise rejects with the AbortError. */
  signal?: AbortSignal;
}

/** The folder name under RUNNER_TEMP; recognised when DOCKER_CONFIG already points at it. */
const JOB_CONFIG_DIR = 'aws-containers-docker-config';
/** How many of the CLI's last lines an error carries. */
const TAIL_LINES = 25;

/**
 * The job-scoped DOCKER_CONFIG folder: `$RUNNER_TEMP/aws-containers-docker-config`. RUNNER_TEMP is
 * one job's own folder on GitHub's runners (emptied before each job on self-hosted ones, distinct
 * per runner process), so credentials stored there are this job's alone and go away with it.
 *
 * Created the first time (later steps of the job, and the post step, find it): `config.json` is
 * copied from the current config (`$DOCKER_CONFIG` or `~/.docker`) so other logins, credHelpers,
 * proxies and the current context keep working; every other entry (cli-plugins, buildx builders,
 * contexts) is linked, not copied, so a buildx installed or a builder created by an earlier step
 * is still the one used. When DOCKER_CONFIG already is this folder (an earlier step exported it),
 * it is returned as it is. The caller exports the result with core.exportVariable('DOCKER_CONFIG').
 * Outside a runner (no RUNNER_TEMP) the folder sits in the system temp folder, shared by that
 * machine's runs.
 */
export function jobDockerConfig(env: NodeJS.ProcessEnv): string {
  const target = resolve(env.RUNNER_TEMP || tmpdir(), JOB_CONFIG_DIR);
  const source = resolve(env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker'));
  if (source === target || existsSync(target)) {
    mkdirSync(target, { recursive: true, mode: 0o700 });
    return target;
  }
  mkdirSync(dirname(target), { recursive: true });
  // Filled aside and renamed into place, so a step that dies halfway leaves no half-made folder.
  const staging = mkdtempSync(`${target}.tmp-`);
  try {
    for (const entry of existsSync(source) ? readdirSync(source) : []) {
      const from = join(source, entry);
      const to = join(staging, entry);
      if (entry === 'config.json') copyFileSync(from, to);
      else if (statSync(from).isDirectory()) symlinkSync(from, to, 'junction');
      else copyFileSync(from, to);
    }
    renameSync(staging, target);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(target)) {
      throw new ActionError(`Could not prepare the job's docker config folder ${target}`, {
        cause: err,
        hint: `It is made from ${source}; check that RUNNER_TEMP is writable.`,
      });
    }
  }
  return target;
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The last lines of stdout and stderr, in the order they arrived. */
  tail: string[];
}

interface RunOptions {
  stdin?: string;
  /** Send each output line to log (long-running, user-visible commands). */
  stream?: boolean;
  extraEnv?: Record<string, string>;
}

/** A spawn failure before docker ran at all (ENOENT: no docker on PATH). */
class SpawnError extends Error {
  constructor(
    readonly code: string | undefined,
    cause: unknown,
  ) {
    super(`could not start docker: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

function entries(values: ReadonlyMap<string, string> | Readonly<Record<string, string>>): [string, string][] {
  return values instanceof Map ? [...values.entries()] : Object.entries(values);
}

/**
 * The command line as the log shows it (`[command]docker …`): arguments with spaces or quotes are
 * JSON-quoted, and the value of each `--build-arg KEY=VALUE` is shown as *** (a build argument may
 * carry a token the runner does not know to mask).
 */
export function echoedCommand(args: readonly string[]): string {
  const shown = args.map((a, i) => (args[i - 1] === '--build-arg' ? a.replace(/=[\s\S]*$/, '=***') : a));
  return ['docker', ...shown].map((a) => (a === '' || /[\s"'\\]/.test(a) ? JSON.stringify(a) : a)).join(' ');
}

function failure(what: string, result: RunResult, hint: string): ActionError {
  const lines = result.tail.length > 0 ? `:\n${result.tail.map((l) => `  ${l}`).join('\n')}` : '';
  return new ActionError(`${what} failed (exit code ${result.code ?? 'none: killed'})${lines}`, { hint });
}

/** A git or https URL (or git@host:…), which docker fetches itself, rather than a local folder. */
export function isRemoteContext(context: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(context) || context.startsWith('git@');
}

/** The digest docker prints when a push ends: `<tag>: digest: sha256:… size: N`. */
export function parsePushDigest(output: string): string | undefined {
  const matches = [...output.matchAll(/digest: (sha256:[0-9a-f]{64})\b/g)];
  return matches.at(-1)?.[1];
}

/** Docker writes `sha256:<hex>`; podman's engine writes the bare hex. */
function normaliseImageId(id: string): string {
  const trimmed = id.trim();
  return /^[0-9a-f]{64}$/.test(trimmed) ? `sha256:${trimmed}` : trimmed;
}

const PUSH_HINTS: [RegExp, string][] = [
  [
    /tag invalid|cannot be overwritten|immutable/i,
    'The tag already exists in an IMMUTABLE repository: push a new tag, or change the repository to MUTABLE.',
  ],
  [
    /unauthorized|authentication required|no basic auth credentials|denied/i,
    'The registry refused the credentials: log in to it first (this action does), and check that the role may call ecr:InitiateLayerUpload, ecr:UploadLayerPart, ecr:CompleteLayerUpload and ecr:PutImage on the repository.',
  ],
  [
    /name unknown|repository .*(does not exist|not found)|RepositoryNotFound/i,
    'The repository does not exist: create it, or set create-repository: true.',
  ],
  [
    /x509|certificate|tls:/i,
    "The engine does not trust the registry's TLS certificate: add its CA to the docker engine's certs.d folder.",
  ],
];

const BUILD_HINTS: [RegExp, string][] = [
  [
    /multiple platforms feature is currently not supported|does not currently support exporting manifest lists|multi-platform/i,
    'Multi-platform builds need a buildx builder that supports them: add docker/setup-qemu-action and docker/setup-buildx-action before this step.',
  ],
  [
    /BuildKit is enabled but the buildx component is missing/i,
    'Install buildx (docker/setup-buildx-action), or set DOCKER_BUILDKIT=0 to use the classic builder.',
  ],
];

export function createDockerCli(options: DockerCliOptions): DockerCli {
  const { dockerConfig, signal } = options;
  const baseEnv = options.env ?? process.env;
  const log = options.log ?? (() => {});
  let buildxAnswer: Promise<boolean> | undefined;

  function run(args: string[], runOptions: RunOptions = {}): Promise<RunResult> {
    log(`[command]${echoedCommand(args)}`);
    return new Promise((resolvePromise, reject) => {
      let child;
      try {
        child = spawn('docker', args, {
          env: { ...baseEnv, ...runOptions.extraEnv, DOCKER_CONFIG: dockerConfig },
          stdio: ['pipe', 'pipe', 'pipe'],
          signal,
        });
      } catch (err) {
        reject(err);
        return;
      }
      const stdout: string[] = [];
      const stderr: string[] = [];
      const tail: string[] = [];
      const lineReader = (into: string[]) => {
        let pending = '';
        const emit = (line: string) => {
          if (line === '') return;
          tail.push(line);
          if (tail.length > TAIL_LINES) tail.shift();
          if (runOptions.stream) log(line);
        };
        return {
          data(chunk: Buffer) {
            const text = chunk.toString('utf8');
            into.push(text);
            const parts = (pending + text).split(/\r\n|\r|\n/);
            pending = parts.pop() ?? '';
            parts.forEach(emit);
          },
          end() {
            emit(pending);
            pending = '';
          },
        };
      };
      const out = lineReader(stdout);
      const err = lineReader(stderr);
      child.stdout.on('data', out.data);
      child.stderr.on('data', err.data);
      // docker may exit before reading stdin (a bad flag): the broken pipe is its exit code's story.
      child.stdin.on('error', () => {});
      child.stdin.end(runOptions.stdin ?? '');
      child.on('error', (error: NodeJS.ErrnoException) => {
        if (error.name === 'AbortError') reject(error);
        else reject(new SpawnError(error.code, error));
      });
      child.on('close', (code) => {
        out.end();
        err.end();
        resolvePromise({ code, stdout: stdout.join(''), stderr: stderr.join(''), tail });
      });
    });
  }

  /** Runs docker, turning "no docker on PATH" into an error a person can act on. */
  async function runOrExplain(args: string[], runOptions: RunOptions = {}): Promise<RunResult> {
    try {
      return await run(args, runOptions);
    } catch (err) {
      if (err instanceof SpawnError) {
        throw new ActionError(`The docker CLI could not be started (${err.code ?? err.message})`, {
          cause: err,
          hint: 'Install docker on the runner, or push without an engine: oci-layout, docker-archive or promote-from.',
        });
      }
      throw err;
    }
  }

  function buildx(): Promise<boolean> {
    // DOCKER_BUILDKIT=0 asks for the classic builder (engines without BuildKit, such as podman's).
    buildxAnswer ??=
      baseEnv.DOCKER_BUILDKIT === '0'
        ? Promise.resolve(false)
        : run(['buildx', 'version']).then(
            (r) => r.code === 0,
            () => false,
          );
    return buildxAnswer;
  }

  /** Credentials of hosts we log in to go to our config.json, never to a machine-wide store. */
  function editConfig(edit: (config: Record<string, unknown>) => boolean): void {
    const file = join(dockerConfig, 'config.json');
    let config: Record<string, unknown> = {};
    if (existsSync(file)) {
      try {
        config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      } catch (err) {
        throw new ActionError(`The docker config ${file} is not valid JSON`, {
          cause: err,
          hint: 'Fix or delete it; it was copied from the runner user’s docker config.',
        });
      }
    }
    if (edit(config)) writeFileSync(file, `${JSON.stringify(config, null, '\t')}\n`, { mode: 0o600 });
  }

  return {
    async probe() {
      let result: RunResult;
      try {
        result = await run(['version', '--format', '{{json .}}']);
      } catch (err) {
        if (err instanceof SpawnError) {
          return {
            ok: false,
            reason:
              err.code === 'ENOENT'
                ? 'the docker CLI is not installed (no `docker` on PATH)'
                : `the docker CLI could not be started: ${err.message}`,
          };
        }
        throw err;
      }
      let server: { Version?: unknown } | null | undefined;
      try {
        server = (
          JSON.parse(result.stdout.trim().split('\n')[0] ?? '') as { Server?: { Version?: unknown } | null }
        ).Server;
      } catch {
        server = undefined;
      }
      if (result.code !== 0 || !server || typeof server.Version !== 'string') {
        const where = baseEnv.DOCKER_HOST
          ? `DOCKER_HOST=${baseEnv.DOCKER_HOST}`
          : baseEnv.DOCKER_CONTEXT
            ? `docker context "${baseEnv.DOCKER_CONTEXT}"`
            : 'the default socket (unix:///var/run/docker.sock, or the current docker context)';
        const said = result.stderr.trim().split('\n').filter(Boolean).at(-1);
        return {
          ok: false,
          reason: `no docker engine answers at ${where}${said ? `: ${said}` : ''}`,
        };
      }
      return { ok: true, serverVersion: server.Version, buildx: await buildx() };
    },

    async login(registryHost, username, password) {
      mkdirSync(dockerConfig, { recursive: true, mode: 0o700 });
      // An empty credHelpers entry makes the CLI use the file store for this host even when
      // config.json names a credsStore (osxkeychain, wincred…) or a helper for it: the login stays
      // in this job's folder, and a Windows credential store cannot fail it (ecr-login #106, #694).
      editConfig((config) => {
        const helpers = (config.credHelpers ?? {}) as Record<string, string>;
        if (config.credsStore === undefined && helpers[registryHost] === undefined) return false;
        if (helpers[registryHost] === '') return false;
        config.credHelpers = { ...helpers, [registryHost]: '' };
        return true;
      });
      const result = await runOrExplain(
        ['login', '--username', username, '--password-stdin', '--', registryHost],
        {
          stdin: password,
          stream: true,
        },
      );
      if (result.code !== 0) {
        throw failure(
          `docker login to ${registryHost}`,
          result,
          'Check that the registry is reachable from the runner and that the credentials are for this registry and region.',
        );
      }
    },

    async logout(registryHost) {
      const result = await runOrExplain(['logout', '--', registryHost], { stream: true });
      if (result.code !== 0) {
        throw failure(
          `docker logout from ${registryHost}`,
          result,
          `The credentials stay in ${dockerConfig} until the job ends.`,
        );
      }
      editConfig((config) => {
        const helpers = config.credHelpers as Record<string, string> | undefined;
        if (helpers?.[registryHost] !== '') return false;
        delete helpers[registryHost];
        if (Object.keys(helpers).length === 0) delete config.credHelpers;
        return true;
      });
    },

    async build(build) {
      const local = !isRemoteContext(build.context);
      const context = local ? resolve(build.context) : build.context;
      if (local && !(existsSync(context) && statSync(context).isDirectory())) {
        throw new ActionError(`Input "context": the folder ${build.context} does not exist`, {
          hint: `It is resolved from the working directory (${process.cwd()}); check out the repository first (actions/checkout).`,
        });
      }
      let dockerfile: string | undefined;
      if (build.dockerfile !== undefined) {
        dockerfile = resolve(build.dockerfile);
        if (!existsSync(dockerfile)) {
          throw new ActionError(`Input "dockerfile": the file ${build.dockerfile} does not exist`, {
            hint: `It is resolved from the working directory (${process.cwd()}), not from the context.`,
          });
        }
      } else if (local) {
        dockerfile = ['Dockerfile', 'dockerfile']
          .map((name) => join(context, name))
          .find((p) => existsSync(p));
        if (dockerfile === undefined) {
          throw new ActionError(`Input "context": ${build.context} has no Dockerfile`, {
            hint: 'Add one, or name it with the dockerfile input.',
          });
        }
      }
      if (build.tags.length === 0) throw new ActionError('docker build was given no tags');
      const useBuildx = await buildx();
      if (build.platforms.length > 0 && !useBuildx) {
        throw new ActionError(`Input "platforms" needs docker buildx, which is not available here`, {
          hint: 'Add docker/setup-buildx-action before this step (with docker/setup-qemu-action for other architectures), or leave platforms empty to build for the engine’s own.',
        });
      }
      if (build.platforms.length > 1 && !build.push) {
        throw new ActionError(
          'A multi-platform build must be pushed by the builder (push: true): docker cannot load it',
        );
      }
      if (build.push && !useBuildx) {
        throw new ActionError('Pushing from the builder needs docker buildx, which is not available here');
      }

      const scratch = mkdtempSync(join(baseEnv.RUNNER_TEMP || tmpdir(), 'docker-build-'));
      try {
        const iidFile = join(scratch, 'iid');
        const metadataFile = join(scratch, 'metadata.json');
        const args = useBuildx ? ['buildx', 'build', '--progress=plain'] : ['build'];
        args.push('--iidfile', iidFile);
        if (useBuildx) {
          if (build.push) args.push('--push', '--provenance=false', '--metadata-file', metadataFile);
          else args.push('--load');
          if (build.platforms.length > 0) args.push('--platform', build.platforms.join(','));
        }
        if (dockerfile !== undefined) args.push('--file', dockerfile);
        if (build.target !== undefined) args.push('--target', build.target);
        for (const [key, value] of entries(build.buildArgs)) args.push('--build-arg', `${key}=${value}`);
        for (const [key, value] of entries(build.labels)) args.push('--label', `${key}=${value}`);
        for (const tag of build.tags) args.push('--tag', tag);
        args.push('--', context);

        const result = await runOrExplain(args, {
          stream: true,
          extraEnv: useBuildx ? {} : { DOCKER_BUILDKIT: '0' },
        });
        if (result.code !== 0) {
          const output = result.tail.join('\n');
          const hint =
            BUILD_HINTS.find(([pattern]) => pattern.test(output))?.[1] ??
            'The end of the build output is above; fix the Dockerfile or the build inputs (context, dockerfile, build-args, target).';
          throw failure(useBuildx ? 'docker buildx build' : 'docker build', result, hint);
        }

        let imageId = existsSync(iidFile) ? normaliseImageId(readFileSync(iidFile, 'utf8')) : '';
        let digest: string | undefined;
        if (build.push && existsSync(metadataFile)) {
          const metadata = JSON.parse(readFileSync(metadataFile, 'utf8')) as Record<string, unknown>;
          if (typeof metadata['containerimage.digest'] === 'string')
            digest = metadata['containerimage.digest'];
          if (typeof metadata['containerimage.config.digest'] === 'string') {
            imageId = metadata['containerimage.config.digest'];
          }
        }
        if (!imageId && !build.push) {
          const inspect = await run([
            'image',
            'inspect',
            '--format',
            '{{.Id}}',
            '--',
            build.tags[0] as string,
          ]);
          if (inspect.code === 0) imageId = normaliseImageId(inspect.stdout);
        }
        if (!imageId) throw new ActionError('docker build succeeded but reported no image id');
        if (build.push && !digest) {
          throw new ActionError('docker buildx build --push succeeded but reported no digest', {
            hint: 'Update buildx (docker/setup-buildx-action): its --metadata-file names the pushed digest.',
          });
        }
        return digest === undefined ? { imageId } : { imageId, digest };
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    },

    async tag(source, target) {
      const result = await runOrExplain(['tag', '--', source, target], { stream: true });
      if (result.code !== 0) {
        throw failure(
          `docker tag ${source} ${target}`,
          result,
          `Input "image" must name an image in the local docker engine (see docker image ls).`,
        );
      }
    },

    async push(ref) {
      const result = await runOrExplain(['push', '--', ref], { stream: true });
      if (result.code !== 0) {
        const output = result.tail.join('\n');
        const hint =
          PUSH_HINTS.find(([pattern]) => pattern.test(output))?.[1] ??
          'The end of the push output is above; check that the registry is reachable from the runner.';
        throw failure(`docker push ${ref}`, result, hint);
      }
      const digest = parsePushDigest(result.stdout + result.stderr);
      if (!digest) {
        throw new ActionError(`docker push ${ref} succeeded but printed no digest`, {
          hint: 'Expected a line "<tag>: digest: sha256:… size: …" in its output.',
        });
      }
      return { digest };
    },

    async imageExists(ref) {
      const result = await runOrExplain(['image', 'inspect', '--format', '{{.Id}}', '--', ref]);
      if (result.code === 0) return true;
      if (/no such image|image not known|not found/i.test(result.stderr)) return false;
      throw failure(`docker image inspect ${ref}`, result, 'Check that the docker engine is running.');
    },
  };
}
