// Tests that drive real third-party tools (the AWS CLI v2, skopeo, docker-registry, docker…).
//
// The rule, in one place: a test that needs a tool uses `requireTool(name, path)` instead of
// `test`. When the tool is missing:
//   - locally, the test is SKIPPED and one console line says which tool and path was missing;
//   - in CI (`process.env.CI` set), the test RUNS and fails, because CI (.ci/run) installs the tools
//     and a silent skip there would hide a broken conformance check.
//
//   import { requireTool } from './helpers/tools.js';
//   const withAws = requireTool('AWS CLI v2', '/usr/bin/aws');
//   withAws('aws sts get-caller-identity', async () => { … });
//
// Use an absolute path where a different binary of the same name may be on PATH (the `aws` on PATH
// is an old v1; the v2 we test against is /usr/bin/aws).
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The absolute path of an executable: `path` as given if absolute, else looked up on PATH. */
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

/**
 * `test` when the tool at `path` exists (or when running in CI, so that a missing tool fails),
 * otherwise `test.skip`, after printing why.
 */
export function requireTool(name: string, path: string): jest.It {
  if (hasTool(path)) return test;
  if (process.env.CI) {
    // In CI the tool must be there: run the test so that it fails loudly.
    return ((title: string, fn?: jest.ProvidesCallback, timeout?: number) =>
      test(
        title,
        async () => {
          throw new Error(`${name} is required in CI but was not found at ${path}`);
        },
        timeout,
      )) as unknown as jest.It;
  }
  console.warn(`skipping tests that need ${name}: not found at ${path} (they fail instead when CI is set)`);
  return test.skip;
}
