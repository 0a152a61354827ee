// Text an attacker controls (a StopTask reason, a docker label, a scan finding, a registry error
// body) shaped to become workflow commands when printed. Every sink of outside text is run with
// these in the tests; the runner must see none of them as a command.
import { isWorkflowCommand } from '@aws-containers/core';

/** The word each payload carries, so a leak is easy to find in a step's output. */
export const PWNED = 'PWNED';

/** Payloads: every newline form the runner splits on, commands after whitespace, v1 and v2 forms. */
export const HOSTILE_TEXTS: readonly string[] = [
  `reason\n::add-mask::${PWNED}`,
  `reason\r\n::stop-commands::${PWNED}-token\n::warning::${PWNED} after stop\n::${PWNED}-token::`,
  `reason\r::set-output name=rolled-back::${PWNED}`,
  `reason%0A::error::${PWNED} encoded newline`,
  `   \t::warning file=x,line=1::${PWNED} indented`,
  `::ADD-MASK::${PWNED} upper case`,
  `reason\n\u0085::notice::${PWNED} after NEL`,
  `reason ##[set-output name=x;]${PWNED} v1 anywhere in a line`,
  `::stop-commands::nested\n::nested::\n::save-state name=isPost::${PWNED}`,
  `\n\n::group::${PWNED} group\n::endgroup::`,
];

/** All the payloads in one text (a sink that takes one value gets them all at once). */
export const HOSTILE_TEXT = HOSTILE_TEXTS.join('\n');

/**
 * The lines of a step's stdout that the runner would act on and that come from a payload: none
 * may exist. The runner splits on \r, \n and \r\n.
 */
export function leakedCommands(stdout: string): string[] {
  return stdout.split(/\r\n|\r|\n/).filter((line) => line.includes(PWNED) && isWorkflowCommand(line));
}
