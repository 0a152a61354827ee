// Tests that drive real third-party tools (the AWS CLI v2, skopeo, docker-registry, podman, moto…).
//
// The rule, in one place for every package's tests: a test that needs a tool uses
// `requireTool(name, path)` (or `requireTools`) instead of `test`. When a tool is missing:
//   - locally, the test is SKIPPED and one console line says which tool and path was missing;
//   - in CI (`process.env.CI` set), the test RUNS and fails, because CI (.ci/run) installs the tools
//     and a silent skip there would hide a broken conformance check.
//
//   const withAws = requireTool('AWS CLI v2', '/usr/bin/aws');
//   withAws('aws sts get-caller-identity', async () => { … });
//
// Use an absolute path where a different binary of the same name may be on PATH (the `aws` on PATH
// is an old v1; the v2 we test against is /usr/bin/aws). This file is test tooling only: it holds
// no behaviour of local-aws, core or the actions, so the judge and the judged may share it.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The absolute path of an executable: `path` as given if it has a slash, else looked up on PATH. */
export function findTool(path: string): string | undefined {
  const candidates = path.includes('/')
    ? [path]
    : (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, path));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Whether the tool is present and executable. */
export function hasTool(path: string): boolean {
  return findTool(path) !== undefined;
}

/** `test` when every tool exists (or in CI, where a missing one fails the test), else `test.skip`. */
export function requireTools(tools: ReadonlyArray<{ name: string; path: string }>): jest.It {
  const missing = tools.filter((t) => !hasTool(t.path));
  if (missing.length === 0) return test;
  const what = missing.map((t) => `${t.name} (${t.path})`).join(', ');
  if (process.env.CI) {
    // In CI the tools must be there: run the test so that it fails loudly.
    return ((title: string, _fn?: jest.ProvidesCallback, timeout?: number) =>
      test(
        title,
        async () => {
          throw new Error(`required in CI but not found: ${what}`);
        },
        timeout,
      )) as unknown as jest.It;
  }
  console.warn(`skipping tests that need ${what}: not found (they fail instead when CI is set)`);
  return test.skip;
}

export function requireTool(name: string, path: string): jest.It {
  return requireTools([{ name, path }]);
}
