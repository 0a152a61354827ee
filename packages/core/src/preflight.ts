// Preflight findings, reported one way by every action: each on a line (a warning in `warn` mode),
// and in `on` mode a stop with all of them when one is an error — before anything has changed.
import * as core from '@actions/core';
import { ActionError } from './errors.js';
import { fence, info } from './log.js';

export type PreflightMode = 'on' | 'warn' | 'off';

/** One problem found, for a person: where it is and what to do. */
export interface PreflightFinding {
  /** `container app, secrets[0] (DB_PASSWORD)`, `executionRoleArn`, `namespace shop`. */
  where: string;
  problem: string;
  fix: string;
  /** `unchecked`: preflight could not read it (no permission, another registry); never stops the step. */
  severity: 'error' | 'unchecked';
}

/** Whether the findings stop the step in this mode (pure): `on` and an error among them. */
export function preflightStops(mode: PreflightMode, findings: readonly PreflightFinding[]): boolean {
  return mode === 'on' && findings.some((f) => f.severity === 'error');
}

/**
 * Prints every finding (outside text inside: fenced), as a warning when `warn` lets the step go on,
 * and throws an ActionError naming them all when they stop it.
 */
export function reportPreflight(mode: PreflightMode, findings: readonly PreflightFinding[]): void {
  const errors = findings.filter((f) => f.severity === 'error');
  for (const f of findings) {
    const line = `${f.where}: ${f.problem} — ${f.fix}`;
    if (f.severity === 'error' && mode === 'warn') core.warning(fence(line));
    else info(`${f.severity === 'error' ? 'problem' : 'note'}: ${line}`);
  }
  if (findings.length === 0) info('preflight: nothing to report');
  if (!preflightStops(mode, findings)) return;
  throw new ActionError(
    `Preflight found ${errors.length} problem${errors.length === 1 ? '' : 's'}; nothing was changed:\n${errors
      .map((f) => `- ${f.where}: ${f.problem} — ${f.fix}`)
      .join('\n')}`,
    { hint: 'Fix them and run again, or set preflight: warn to go on anyway.' },
  );
}
