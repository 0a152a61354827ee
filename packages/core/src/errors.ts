// Errors are values with a message for a person: what happened, to which input or resource,
// and what to do next. formatError (format.ts) turns any of them into the ::error:: text.

/** One input that failed validation. `given` is omitted for secret inputs. */
export class InputError extends Error {
  constructor(
    readonly input: string,
    readonly expected: string,
    readonly given: string | undefined,
    readonly hint?: string,
  ) {
    super(
      `Input "${input}": expected ${expected}` +
        (given === undefined ? '' : `, got ${JSON.stringify(given)}`) +
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
