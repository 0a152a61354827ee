// The job-scoped docker config and the checks made before any docker command runs. No engine
// needed: the probe failures are the real CLI's (or its absence).
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActionError } from '@aws-containers/core';
import { createDockerCli, jobDockerConfig, parsePushDigest } from '../src/docker.js';
import { requireTool } from '../../../test/helpers/tools.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'docker-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function homeWithConfig(config: object): string {
  const home = join(dir, 'home');
  mkdirSync(join(home, '.docker', 'cli-plugins'), { recursive: true });
  writeFileSync(join(home, '.docker', 'config.json'), JSON.stringify(config));
  writeFileSync(join(home, '.docker', 'cli-plugins', 'docker-buildx'), '#!/bin/sh\n');
  return home;
}

describe('jobDockerConfig', () => {
  test('copies ~/.docker/config.json under RUNNER_TEMP and links the other entries', () => {
    const config = { auths: { 'ghcr.io': { auth: 'eDp5' } }, credHelpers: { 'gcr.io': 'gcloud' } };
    const home = homeWithConfig(config);
    const runnerTemp = join(dir, 'runner-temp');
    const folder = jobDockerConfig({ RUNNER_TEMP: runnerTemp, HOME: home });
    expect(folder).toBe(join(runnerTemp, 'aws-containers-docker-config'));
    expect(JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8'))).toEqual(config);
    expect(lstatSync(join(folder, 'config.json')).isSymbolicLink()).toBe(false);
    // buildx installed by setup-buildx-action into ~/.docker/cli-plugins keeps working.
    expect(readlinkSync(join(folder, 'cli-plugins'))).toBe(join(home, '.docker', 'cli-plugins'));
  });

  test('prefers $DOCKER_CONFIG over ~/.docker, and works with no config at all', () => {
    const home = homeWithConfig({ auths: { home: {} } });
    const custom = join(dir, 'custom');
    mkdirSync(custom);
    writeFileSync(join(custom, 'config.json'), '{"auths":{"custom":{}}}');
    const a = jobDockerConfig({ RUNNER_TEMP: join(dir, 'a'), HOME: home, DOCKER_CONFIG: custom });
    expect(readFileSync(join(a, 'config.json'), 'utf8')).toBe('{"auths":{"custom":{}}}');

    const b = jobDockerConfig({ RUNNER_TEMP: join(dir, 'b'), HOME: join(dir, 'nobody') });
    expect(existsSync(b)).toBe(true);
    expect(existsSync(join(b, 'config.json'))).toBe(false);
  });

  test('a later step (DOCKER_CONFIG already exported) and a second call reuse the folder as it is', () => {
    const home = homeWithConfig({ auths: {} });
    const runnerTemp = join(dir, 'runner-temp');
    const folder = jobDockerConfig({ RUNNER_TEMP: runnerTemp, HOME: home });
    writeFileSync(join(folder, 'config.json'), '{"auths":{"logged-in-by-step-1":{}}}');
    expect(jobDockerConfig({ RUNNER_TEMP: runnerTemp, HOME: home })).toBe(folder);
    expect(jobDockerConfig({ RUNNER_TEMP: runnerTemp, HOME: home, DOCKER_CONFIG: folder })).toBe(folder);
    expect(readFileSync(join(folder, 'config.json'), 'utf8')).toContain('logged-in-by-step-1');
  });
});

describe('before docker runs', () => {
  // PATH without docker: any check that ran docker would fail with "could not be started" instead.
  const noDocker = () =>
    createDockerCli({ dockerConfig: join(dir, 'cfg'), env: { PATH: join(dir, 'empty') } });
  const build = { buildArgs: new Map<string, string>(), platforms: [], labels: {}, tags: ['r/x:1'] };

  test('a missing context names the context input', async () => {
    const err = await noDocker()
      .build({ ...build, context: join(dir, 'nope') })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ActionError);
    expect((err as Error).message).toMatch(/^Input "context": the folder .*nope does not exist/);
  });

  test('a missing Dockerfile names the dockerfile input, or the context when none is given', async () => {
    const given = await noDocker()
      .build({ ...build, context: dir, dockerfile: join(dir, 'Containerfile') })
      .catch((e: unknown) => e);
    expect((given as Error).message).toMatch(/^Input "dockerfile": the file .*Containerfile does not exist/);
    const implied = await noDocker()
      .build({ ...build, context: dir })
      .catch((e: unknown) => e);
    expect((implied as Error).message).toMatch(/^Input "context": .* has no Dockerfile/);
  });

  test('platforms without buildx is an error that says what to add', async () => {
    writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\n');
    const cli = createDockerCli({
      dockerConfig: join(dir, 'cfg'),
      env: { PATH: join(dir, 'empty'), DOCKER_BUILDKIT: '0' },
    });
    const err = await cli
      .build({ ...build, context: dir, platforms: ['linux/arm64'] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ActionError);
    expect((err as Error).message).toBe('Input "platforms" needs docker buildx, which is not available here');
    expect((err as ActionError).hint).toMatch(/setup-buildx-action/);
  });
});

describe('probe', () => {
  test('no docker CLI on PATH', async () => {
    const result = await createDockerCli({
      dockerConfig: join(dir, 'cfg'),
      env: { PATH: join(dir, 'empty') },
    }).probe();
    expect(result).toEqual({ ok: false, reason: 'the docker CLI is not installed (no `docker` on PATH)' });
  });

  const withDocker = requireTool('the docker CLI', 'docker');
  withDocker('an engine that does not answer: names DOCKER_HOST and what the CLI said', async () => {
    const dockerHost = `unix://${join(dir, 'nobody-listens.sock')}`;
    const result = await createDockerCli({
      dockerConfig: join(dir, 'cfg'),
      env: { ...process.env, DOCKER_HOST: dockerHost },
    }).probe();
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(
      new RegExp(
        `^no docker engine answers at DOCKER_HOST=${dockerHost.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .+`,
      ),
    );
  });
});

test.each([
  ['1: digest: sha256:' + 'a'.repeat(64) + ' size: 420', 'sha256:' + 'a'.repeat(64)],
  [
    'The push refers to repository [r/x]\nabc: Pushed\nv1: digest: sha256:' + 'b'.repeat(64) + ' size: 528\n',
    'sha256:' + 'b'.repeat(64),
  ],
  ['nothing pushed', undefined],
])('parsePushDigest %#', (output, digest) => {
  expect(parsePushDigest(output)).toBe(digest);
});
