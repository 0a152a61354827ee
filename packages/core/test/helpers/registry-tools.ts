// The tool rule of packages/local-aws/test/helpers/tools.ts, restated for core (core may not
// import from local-aws — eslint no-restricted-imports keeps the judge and the judged apart).
// A test that needs a tool uses `requireTool(name, path)` instead of `test`. When the tool is
// missing, the test is SKIPPED locally with one console line, and FAILS when process.env.CI is
// set, because CI installs the tools and a silent skip there would hide a broken check.
import { accessSync, constants } from 'node:fs';

export function hasTool(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `test` when every tool exists (or in CI, where a missing one fails the test), else `test.skip`. */
export function requireTools(tools: ReadonlyArray<{ name: string; path: string }>): jest.It {
  const missing = tools.filter((t) => !hasTool(t.path));
  if (missing.length === 0) return test;
  const what = missing.map((t) => `${t.name} (${t.path})`).join(', ');
  if (process.env.CI) {
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
