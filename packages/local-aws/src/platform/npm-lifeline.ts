// When npm starts local-aws (`npm run local-aws`, `npx local-aws`), a user stops it by stopping
// npm: `kill <pid of npm>`, or Ctrl-C. npm passes the signal to the shell it ran the script with,
// not to us, and Debian's sh (dash) dies of it and leaves its children running, so the server
// would go on listening with nobody to stop it. A CLI started by npm therefore watches the
// processes between npm and itself (the shell, tsx) and stops, as on SIGTERM, when one of them is
// gone or has been handed to another parent.
import { existsSync, readFileSync } from 'node:fs';

interface Link {
  pid: number;
  ppid: number;
}

/** The parent of a process, from /proc (Linux); undefined when it is gone. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read after the last ')'.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** Whether npm started the process (npm puts npm_lifecycle_event in a script's environment). */
function startedByNpm(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .some((entry) => entry.startsWith('npm_lifecycle_event='));
  } catch {
    return false;
  }
}

/** This process and its ancestors up to npm (not included). */
function chainToNpm(): Link[] {
  const chain: Link[] = [{ pid: process.pid, ppid: process.ppid }];
  if (!existsSync('/proc/self/stat')) return chain;
  let pid = process.ppid;
  while (pid > 1 && chain.length < 8 && startedByNpm(pid)) {
    const ppid = parentOf(pid);
    if (ppid === undefined) break;
    chain.push({ pid, ppid });
    pid = ppid;
  }
  return chain;
}

/**
 * Calls `stop` once, when the chain from npm to this process breaks. Does nothing unless npm
 * started this process. The timer does not keep the process alive.
 */
export function stopWhenNpmStops(stop: (reason: string) => void, intervalMs = 250): void {
  if (process.env.npm_lifecycle_event === undefined) return;
  const chain = chainToNpm();
  const timer = setInterval(() => {
    const broken = chain.find(
      (link) => (link.pid === process.pid ? process.ppid : parentOf(link.pid)) !== link.ppid,
    );
    if (!broken) return;
    clearInterval(timer);
    stop(`npm stopped (process ${broken.pid}, between npm and local-aws, is gone)`);
  }, intervalMs);
  timer.unref();
}
