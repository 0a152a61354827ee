// The runner protocol is tested the way the runner sees it: a real process under Node 24 with
// the GITHUB_* files, its stdout commands, files and exit code. @actions/core is not mocked.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { escapeHtml, escapeMarkdown, JobSummary, outputText, secretForms } from '../src/runner.js';

const root = resolve(import.meta.dirname, '../../..');
const node = join(root, 'node_modules/.bin/node');
const runnerModule = join(root, 'packages/core/src/runner.ts');
const errorsModule = join(root, 'packages/core/src/errors.ts');
const pollModule = join(root, 'packages/core/src/poll.ts');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'runner-test-'));
  // One bundle-like entry point; the scenario comes from argv.
  writeFileSync(
    join(dir, 'action.mts'),
    `
import * as runner from ${JSON.stringify(runnerModule)};
import { InputError, InputErrors, ActionError, FailureReported } from ${JSON.stringify(errorsModule)};
import { waitFor } from ${JSON.stringify(pollModule)};

const scenario = process.argv[2];
const main: runner.Step = async ({ phase, signal }) => {
  console.log('main ran as ' + phase);
  if (scenario === 'ok') {
    const answer = await runner.group('Deploy', async () => {
      console.log('inside the group');
      return 42;
    });
    runner.maskSecret('hunter2-password');
    console.log('the secret is hunter2-password');
    runner.setOutputs({ digest: 'sha256:abc', count: answer, pushed: true, tags: ['a', 'b'], skipped: undefined });
    await new runner.JobSummary()
      .heading('Pushed <app>')
      .table(['Tag', 'Digest'], [['v1', 'sha256:abc']])
      .details('Task definition', '{"a": "<b>"}', 'json')
      .write();
  }
  if (scenario === 'inputs') {
    throw new InputErrors([new InputError('region', 'a region', 'mars'), new InputError('timeout', 'a duration', 'x')]);
  }
  if (scenario === 'untrusted') {
    const value = await runner.withoutCommands(async () => {
      console.log('::error::injected by a build log');
      return 'kept';
    });
    console.log('returned ' + value);
  }
  if (scenario === 'action') throw new ActionError('Repository app is missing.', { hint: 'Create it first.' });
  if (scenario === 'reported') {
    console.log('::error::Deployment ecs-svc/1 failed: 3 tasks failed');
    throw new FailureReported('The service is back on web:6 (rollback COMPLETED).\\n::warning::not a command');
  }
  if (scenario === 'aws') {
    throw Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400, requestId: 'r-9', attempts: 5 },
    });
  }
  if (scenario === 'stray') {
    setTimeout(() => Promise.reject(new Error('stray rejection')), 0);
    await new Promise((r) => setTimeout(r, 200));
    console.log('not reached');
  }
  if (scenario === 'cancel') {
    // returns quietly when cancelled: run() must still fail the step
    const result = await waitFor({
      check: async () => 'IN_PROGRESS',
      until: () => false,
      intervalMs: 50,
      timeoutMs: 60_000,
      signal,
      onProgress: ({ attempt }) => attempt === 1 && console.log('waiting'),
    });
    console.log('wait ended: ' + result.status);
    // A handle still open when the step returns (a watch winding down, a socket): it must not keep
    // the cancelled step alive until the grace timer ends it with 143.
    if (process.argv[3] === 'lingering') setInterval(() => undefined, 1000);
  }
};
const post: runner.Step = async ({ phase }) => {
  console.log('post ran as ' + phase);
  if (scenario === 'post-fail') throw new ActionError('Cleanup failed.');
};
await runner.run(main, scenario === 'no-post' ? undefined : post);
`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  output: string;
  state: string;
  summary: string;
}

let runs = 0;
function runAction(
  scenario: string,
  env: Record<string, string> = {},
  onStdout?: (text: string) => void,
  args: readonly string[] = [],
) {
  runs += 1;
  const files = {
    GITHUB_OUTPUT: join(dir, `output-${runs}`),
    GITHUB_STATE: join(dir, `state-${runs}`),
    GITHUB_STEP_SUMMARY: join(dir, `summary-${runs}`),
  };
  for (const f of Object.values(files)) writeFileSync(f, '');
  const child = spawn(node, ['--import', 'tsx', join(dir, 'action.mts'), scenario, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...files, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    onStdout?.(stdout);
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Ran>((resolve) =>
    child.on('close', (code) =>
      resolve({
        code,
        stdout,
        stderr,
        output: readFileSync(files.GITHUB_OUTPUT, 'utf8'),
        state: readFileSync(files.GITHUB_STATE, 'utf8'),
        summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
      }),
    ),
  );
  return { child, done };
}

/** name=value pairs from a GITHUB_OUTPUT/GITHUB_STATE file (heredoc format). */
function fileCommands(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /^(.+?)<<(ghadelimiter_[\w-]+)\n([\s\S]*?)\n\2$/gm;
  for (const m of text.matchAll(re)) out[m[1] as string] = m[3] as string;
  return out;
}

function errorLines(stdout: string): string[] {
  return stdout.split('\n').filter((l) => l.startsWith('::error::'));
}

describe('run() in a real process', () => {
  test('main: outputs, masks, groups, summary, post state; exit 0', async () => {
    const ran = await runAction('ok').done;
    expect(ran.stderr).toBe('');
    expect(ran.code).toBe(0);
    expect(ran.stdout).toContain('main ran as main');
    expect(ran.stdout).toContain('::group::Deploy\ninside the group\n::endgroup::');
    // masked in every form it may be printed in
    for (const form of secretForms('hunter2-password')) expect(ran.stdout).toContain(`::add-mask::${form}`);
    expect(ran.stdout).toContain(`::add-mask::${Buffer.from('AWS:hunter2-password').toString('base64')}`);
    expect(fileCommands(ran.output)).toEqual({
      digest: 'sha256:abc',
      count: '42',
      pushed: 'true',
      tags: '["a","b"]',
    });
    expect(fileCommands(ran.state)).toEqual({ isPost: 'true' });
    expect(ran.summary).toBe(
      '<h2>Pushed &lt;app&gt;</h2>\n' +
        '<table><tr><th>Tag</th><th>Digest</th></tr><tr><td>v1</td><td>sha256:abc</td></tr></table>\n' +
        '<details><summary>Task definition</summary><pre lang="json"><code>{&quot;a&quot;: &quot;&lt;b&gt;&quot;}</code></pre></details>\n',
    );
    expect(errorLines(ran.stdout)).toEqual([]);
  });

  test('post: STATE_isPost runs the post function', async () => {
    const ran = await runAction('ok', { STATE_isPost: 'true' }).done;
    expect(ran.code).toBe(0);
    expect(ran.stdout).toContain('post ran as post');
    expect(ran.stdout).not.toContain('main ran');
    expect(ran.state).toBe('');
  });

  test('post without a post function does nothing, and main still saves state', async () => {
    const post = await runAction('no-post', { STATE_isPost: 'true' }).done;
    expect(post.code).toBe(0);
    expect(post.stdout).toBe('');
    const main = await runAction('no-post').done;
    expect(fileCommands(main.state)).toEqual({ isPost: 'true' });
  });

  test.each([
    [
      'inputs',
      {},
      '::error::Input "region": expected a region, got "mars"%0AInput "timeout": expected a duration, got "x"',
    ],
    ['action', {}, '::error::Repository app is missing.%0ACreate it first.'],
    [
      'aws',
      {},
      '::error::AWS request failed: ThrottlingException: Rate exceeded (HTTP 400, request id r-9, after 5 attempts)%0A' +
        'AWS kept throttling calls (5 attempts with adaptive retry each',
    ],
    ['stray', {}, '::error::stray rejection'],
    ['post-fail', { STATE_isPost: 'true' }, '::error::Cleanup failed.'],
  ])('a failure (%s) is one ::error:: line and exit code 1', async (scenario, env, expected) => {
    const ran = await runAction(scenario, env).done;
    expect(ran.code).toBe(1);
    const errors = errorLines(ran.stdout);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.startsWith(expected)).toBe(true);
    expect(ran.stdout).not.toContain('not reached');
    // the stack only in the debug log
    expect(ran.stdout).toMatch(/::debug::.*%0A {4}at /);
  });

  test('a failure already reported ends with exit code 1, one annotation, and a plain closing line', async () => {
    const ran = await runAction('reported').done;
    expect(ran.code).toBe(1);
    expect(errorLines(ran.stdout)).toEqual(['::error::Deployment ecs-svc/1 failed: 3 tasks failed']);
    expect(ran.stdout).toContain('The service is back on web:6 (rollback COMPLETED).\n');
    // the closing line is printed through the fence
    expect(ran.stdout).not.toMatch(/^::warning::/m);
  });

  test('the debug log holds the stack frames, not the message a second time', async () => {
    const ran = await runAction('action').done;
    const debug = ran.stdout.split('\n').filter((l) => l.startsWith('::debug::'));
    expect(debug.join('\n')).toMatch(/^::debug:: {4}at /m);
    expect(debug.join('\n')).not.toContain('Repository app is missing');
  });

  test.each(['SIGTERM', 'SIGINT'] as const)(
    '%s cancels main through the signal and fails once',
    async (sig) => {
      let sent = false;
      const { child, done } = runAction('cancel', {}, (stdout) => {
        if (!sent && stdout.includes('waiting')) {
          sent = true;
          child.kill(sig);
        }
      });
      const ran = await done;
      expect(ran.code).toBe(1);
      expect(ran.stdout).toContain('wait ended: cancelled');
      expect(errorLines(ran.stdout)).toEqual([
        `::error::Cancelled: received ${sig} (the run was cancelled, or the step or job timed out).`,
      ]);
    },
  );

  test('a cancelled step that leaves a handle open still ends at once with exit code 1, not 143', async () => {
    let sent = false;
    const { child, done } = runAction(
      'cancel',
      {},
      (stdout) => {
        if (!sent && stdout.includes('waiting')) {
          sent = true;
          child.kill('SIGTERM');
        }
      },
      ['lingering'],
    );
    const ran = await done;
    expect(ran.code).toBe(1);
    expect(ran.stdout).toContain('wait ended: cancelled');
  }, 20_000);
});

test('withoutCommands fences output we do not control between stop-commands and its token', async () => {
  const ran = await runAction('untrusted').done;
  expect(ran.code).toBe(0);
  const lines = ran.stdout.split('\n');
  const stop = lines.findIndex((l) => l.startsWith('::stop-commands::'));
  const token = lines[stop]?.slice('::stop-commands::'.length);
  const injected = lines.indexOf('::error::injected by a build log');
  const resume = lines.indexOf(`::${token}::`);
  expect(token).toMatch(/^[0-9a-f-]{36}$/);
  expect(stop).toBeLessThan(injected);
  expect(injected).toBeLessThan(resume);
  expect(lines).toContain('returned kept');
});

describe('outputText', () => {
  test.each([
    ['text', 'text'],
    ['', ''],
    [0, '0'],
    [1.5, '1.5'],
    [true, 'true'],
    [false, 'false'],
    [['a', 1], '["a",1]'],
    [{ a: { b: null } }, '{"a":{"b":null}}'],
    [null, undefined],
    [undefined, undefined],
  ])('%p -> %p', (value, expected) => {
    expect(outputText(value)).toBe(expected);
  });
});

describe('secretForms', () => {
  test('value, base64, docker auth, JSON-escaped and URL-encoded forms', () => {
    expect(secretForms('p@ss"word')).toEqual([
      'p@ss"word',
      Buffer.from('p@ss"word').toString('base64'),
      Buffer.from('AWS:p@ss"word').toString('base64'),
      'p@ss\\"word',
      'p%40ss%22word',
    ]);
  });

  test('each line of a multi-line secret', () => {
    const pem = '-----BEGIN KEY-----\nabc123\n-----END KEY-----\n';
    expect(secretForms(pem)).toEqual(
      expect.arrayContaining([
        pem,
        '-----BEGIN KEY-----',
        'abc123',
        '-----END KEY-----',
        JSON.stringify(pem).slice(1, -1),
      ]),
    );
  });
});

describe('escaping', () => {
  test.each([
    ['<img src=x onerror="a">', '&lt;img src=x onerror=&quot;a&quot;&gt;'],
    ["a & b's", 'a &amp; b&#39;s'],
  ])('escapeHtml %p', (text, expected) => {
    expect(escapeHtml(text)).toBe(expected);
  });

  test.each([
    ['*bold* _it_ `code`', '\\*bold\\* \\_it\\_ \\`code\\`'],
    ['[link](http://x) | # <b>', '\\[link\\]\\(http://x\\) \\| \\# \\<b\\>'],
    ['v1.2.3-rc', 'v1\\.2\\.3\\-rc'],
  ])('escapeMarkdown %p', (text, expected) => {
    expect(escapeMarkdown(text)).toBe(expected);
  });

  test('JobSummary renders lists, links, paragraphs and empty cells as escaped HTML', () => {
    const html = new JobSummary()
      .paragraph('a < b')
      .list(['x & y'])
      .link('run "1"', 'https://github.com/a?b=1&c=2')
      .table(['A', 'B'], [[null, 3]])
      .code('<x>')
      .toString();
    expect(html).toBe(
      '<p>a &lt; b</p>\n<ul><li>x &amp; y</li></ul>\n' +
        '<p><a href="https://github.com/a?b=1&amp;c=2">run &quot;1&quot;</a></p>\n' +
        '<table><tr><th>A</th><th>B</th></tr><tr><td></td><td>3</td></tr></table>\n<pre><code>&lt;x&gt;</code></pre>\n',
    );
  });

  test('facts: a table of labelled rows, no header row', () => {
    expect(
      new JobSummary()
        .facts([
          ['Image', 'app@sha256:<x>'],
          ['Size', 12],
          ['Empty', undefined],
        ])
        .toString(),
    ).toBe(
      '<table><tr><th>Image</th><td>app@sha256:&lt;x&gt;</td></tr><tr><th>Size</th><td>12</td></tr>' +
        '<tr><th>Empty</th><td></td></tr></table>\n',
    );
  });

  test('write() without GITHUB_STEP_SUMMARY returns false and writes nothing', async () => {
    const saved = process.env.GITHUB_STEP_SUMMARY;
    delete process.env.GITHUB_STEP_SUMMARY;
    try {
      await expect(new JobSummary().heading('x').write()).resolves.toBe(false);
    } finally {
      if (saved !== undefined) process.env.GITHUB_STEP_SUMMARY = saved;
    }
  });
});
