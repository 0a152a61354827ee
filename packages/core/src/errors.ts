// Errors are values with a message for a person: what happened, to which input or resource,
// and what to do next. formatError (format.ts) turns any of them into the ::error:: text.
import { cut } from './log.js';

/**
 * One input that failed validation. `given` is omitted for secret inputs and for values that may
 * hold one (environment, secrets, build arguments, labels: the key and line are named instead);
 * otherwise it is cut to 80 characters.
 */
export class InputError extends Error {
  constructor(
    readonly input: string,
    readonly expected: string,
    readonly given: string | undefined,
    readonly hint?: string,
  ) {
    super(
      `Input "${input}": expected ${expected}` +
        (given === undefined ? '' : `, got ${JSON.stringify(cut(given))}`) +
        (hint ? `. ${hint}` : ''),
    );
    this.name = 'InputError';
  }
}

/** Every invalid input of one getInputs() call, reported together before any AWS call. */
export class InputErrors extends Error {
  constructor(readonly errors: readonly InputError[]) {
    super(errors.map((e) => e.message).join('\n'));
    this.name = 'InputErrors';
  }
}

/** A failure the action understands, with what to do next. */
export class ActionError extends Error {
  readonly hint: string | undefined;
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ActionError';
    this.hint = options.hint;
  }
}

/**
 * The step failed and has already said why, as it happened (an ::error:: annotation at the moment
 * the failure was decidable): run() ends the step with exit code 1 and prints this message as a
 * plain closing line, without a second annotation for the same failure.
 */
export class FailureReported extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FailureReported';
  }
}
