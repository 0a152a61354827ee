import type { KubeObject } from '@aws-containers/core';
import { containerLine, diagnosisText, podFailure, type ContainerStatus } from '../src/diagnose.js';

function pod(statuses: ContainerStatus[], init: ContainerStatus[] = []): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-abc' },
    status: { containerStatuses: statuses, initContainerStatuses: init },
  };
}
const NOT_FOUND =
  'rpc error: code = NotFound desc = failed to pull and unpack image "x:9": failed to resolve reference "x:9": x:9: not found';

describe('podFailure', () => {
  test.each<[string, ContainerStatus, string | undefined]>([
    [
      'pull error: not found',
      { name: 'web', image: 'x:9', state: { waiting: { reason: 'ErrImagePull', message: NOT_FOUND } } },
      'ErrImagePull',
    ],
    [
      'pull error: access denied',
      { name: 'web', state: { waiting: { reason: 'ErrImagePull', message: 'pull access denied for x' } } },
      'ErrImagePull',
    ],
    [
      'pull error that may pass (timeout)',
      { name: 'web', state: { waiting: { reason: 'ErrImagePull', message: 'i/o timeout' } } },
      undefined,
    ],
    [
      'back-off without a reason',
      {
        name: 'web',
        state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "x"' } },
      },
      undefined,
    ],
    [
      'invalid image name',
      { name: 'web', state: { waiting: { reason: 'InvalidImageName' } } },
      'InvalidImageName',
    ],
    [
      'config error',
      {
        name: 'web',
        state: {
          waiting: {
            reason: 'CreateContainerConfigError',
            message: "couldn't find key db in ConfigMap default/app",
          },
        },
      },
      'CreateContainerConfigError',
    ],
    [
      'crash loop at max-restarts',
      { name: 'web', restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } } },
      undefined,
    ],
    [
      'crash loop past max-restarts',
      {
        name: 'web',
        restartCount: 4,
        state: { waiting: { reason: 'CrashLoopBackOff' } },
        lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } },
      },
      'CrashLoopBackOff',
    ],
    ['creating', { name: 'web', state: { waiting: { reason: 'ContainerCreating' } } }, undefined],
    ['running', { name: 'web', state: { running: {} } }, undefined],
  ])('%s', (_, status, reason) => {
    expect(podFailure(pod([status]), 3)?.reason).toBe(reason);
  });

  test('a back-off after a decisive pull error stays decisive', () => {
    const seen = new Set<string>();
    podFailure(
      pod([{ name: 'web', state: { waiting: { reason: 'ErrImagePull', message: NOT_FOUND } } }]),
      3,
      seen,
    );
    expect(
      podFailure(
        pod([{ name: 'web', state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off' } } }]),
        3,
        seen,
      )?.reason,
    ).toBe('ImagePullBackOff');
  });

  test('init containers count', () => {
    const failure = podFailure(
      pod([], [{ name: 'migrate', restartCount: 9, state: { waiting: { reason: 'CrashLoopBackOff' } } }]),
      3,
    );
    expect(failure).toMatchObject({ container: 'migrate', crashed: true });
  });

  test('OOMKilled is named in the sentence', () => {
    const failure = podFailure(
      pod([
        {
          name: 'web',
          restartCount: 5,
          state: { waiting: { reason: 'CrashLoopBackOff' } },
          lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } },
        },
      ]),
      3,
    );
    expect(failure?.message).toBe(
      'container web keeps crashing: 5 restarts (more than max-restarts 3), last exit code 137 (OOMKilled)',
    );
  });
});

test('containerLine', () => {
  expect(
    containerLine({
      name: 'web',
      restartCount: 2,
      state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 20s' } },
      lastState: { terminated: { exitCode: 1, reason: 'Error' } },
    }),
  ).toBe('web: waiting CrashLoopBackOff: back-off 20s (restarts 2; last exit code 1 (Error))');
  expect(containerLine({ name: 'web', ready: true, state: { running: {} }, init: true })).toBe(
    'init web: running, ready (restarts 0)',
  );
});

test('diagnosisText', () => {
  expect(
    diagnosisText({
      workload: 'Deployment/default/web',
      containers: ['web-1 web: waiting X (restarts 0)'],
      events: ['Warning Failed (Pod/web-1): boom'],
      logs: [{ container: 'web-1/web', lines: 'a\nb' }],
    }),
  ).toBe(
    [
      'Diagnosis of Deployment/default/web:',
      '  Containers of the new pods:',
      '    web-1 web: waiting X (restarts 0)',
      '  Recent events:',
      '    Warning Failed (Pod/web-1): boom',
      '  Last log lines of web-1/web (previous run):',
      '    a',
      '    b',
    ].join('\n'),
  );
});
