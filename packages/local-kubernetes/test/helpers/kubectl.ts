// Runs the real kubectl 1.32 (/usr/bin/kubectl) against a test's server: its own HOME and
// KUBECACHEDIR (discovery is cached 6 h per host:port), a static token, a timeout, optional stdin.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const KUBECTL = '/usr/bin/kubectl';

export interface KubectlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Kubectl {
  (args: string[], options?: { stdin?: string; timeoutMs?: number }): Promise<KubectlResult>;
  /** Starts kubectl and returns at once (for `get -w`): its output so far, and a way to stop it. */
  start(args: string[]): { output(): string; closed: Promise<KubectlResult>; stop(): Promise<KubectlResult> };
  cleanup(): void;
}

export function kubectlFor(url: string, token = 'admin-token'): Kubectl {
  const home = mkdtempSync(join(tmpdir(), 'kubectl-home-'));
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    KUBECACHEDIR: join(home, 'cache'),
    KUBECONFIG: join(home, 'no-config'),
  };
  const base = ['--server', url, '--token', token, '--insecure-skip-tls-verify=true'];
  const spawnIt = (args: string[]) =>
    spawn(KUBECTL, [...base, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const run = (args: string[], options: { stdin?: string; timeoutMs?: number } = {}) =>
    new Promise<KubectlResult>((resolve) => {
      const child = spawnIt(args);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
      child.stdin.end(options.stdin ?? '');
    });
  const kubectl = run as Kubectl;
  kubectl.start = (args) => {
    const child = spawnIt(args);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end();
    const closed = new Promise<KubectlResult>((resolve) =>
      child.on('close', (code) => resolve({ code, stdout, stderr })),
    );
    return {
      output: () => stdout,
      closed,
      stop: () => {
        child.kill('SIGTERM');
        return closed;
      },
    };
  };
  kubectl.cleanup = () => rmSync(home, { recursive: true, force: true });
  return kubectl;
}

/** Waits (real time) until `check` is true, or fails after `timeoutMs`. */
export async function eventually(
  check: () => boolean,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
