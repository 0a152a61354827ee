// Printing to the step's log. Text from outside the workflow (service events, stop reasons, task
// definitions of the account, scan findings, registry and AWS error bodies, build output, pod
// logs) is untrusted: a line of it must never become a workflow command. fence() is the one place
// that makes such text inert, and info() prints through it, so nothing an action logs can set an
// output, add a mask, stop command processing or write an annotation.
import * as core from '@actions/core';

/**
 * The runner reads its children's output line by line (StreamReader.ReadLine: \r\n, \r and \n each
 * end a line) and treats a line as a command in two forms (actions/runner ActionCommand.cs):
 * - v2: `::name ...::data` once .NET's TrimStart has removed leading whitespace;
 * - v1: `##[name ...]data` anywhere in the line.
 * Command names are case-insensitive. A zero-width space between the two characters that open
 * either form keeps the text readable and stops both parsers (.NET does not count U+200B as
 * whitespace, so TrimStart leaves it in place).
 */
const LINE_BREAK = /\r\n|\r|\n/;
// \s plus U+0085 (NEL), which .NET's Char.IsWhiteSpace counts and JavaScript's \s does not.
const V2_COMMAND = /^([\s\u0085]*):(?=:)/;
const V1_COMMAND = /#(?=#\[)/g;
const ZERO_WIDTH_SPACE = '\u200B';

/** Outside text made safe to print: the same lines (joined by \n), none of them a workflow command. */
export function fence(text: string): string {
  return text.split(LINE_BREAK).map(fenceLine).join('\n');
}

function fenceLine(line: string): string {
  return line
    .replace(V2_COMMAND, (_, space: string) => `${space}:${ZERO_WIDTH_SPACE}`)
    .replace(V1_COMMAND, `#${ZERO_WIDTH_SPACE}`);
}

/**
 * Whether the runner would take this line as a workflow command (either form). For tests and leak
 * scans of a step's output; a line of fence()'d text never is one.
 */
export function isWorkflowCommand(line: string): boolean {
  return /^[\s\u0085]*::.*?::/.test(line) || /##\[[^\]]*\]/.test(line);
}

/** Prints to the step's log, fenced: the one way an action prints a line. */
export function info(text: string): void {
  core.info(fence(text));
}

/**
 * A value cut to `max` characters with "…", for echoing a user's or AWS's value in a message: an
 * error names what was wrong without pasting a whole document (or a 64k-entry list) into the log.
 */
export function cut(text: string, max = 80): string {
  const chars = [...text];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : text;
}
