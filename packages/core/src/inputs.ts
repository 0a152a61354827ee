// Reading action inputs. An action's getInputs() reads every input through one InputReader,
// which collects every problem instead of stopping at the first, then calls finish(): the user
// sees all bad inputs at once, and nothing reaches AWS until they are all valid.
//
//   const r = new InputReader();
//   const inputs = { cluster: r.string('cluster', { required: true }), timeout: r.duration('timeout') };
//   r.exactlyOneOf(['image', 'task-definition']);
//   return r.finish(inputs); // throws InputErrors if anything was wrong
import { InputError, InputErrors } from './errors.js';
import {
  ACCOUNT_ID_EXPECTED,
  DURATION_EXPECTED,
  JSON_OR_YAML_EXPECTED,
  KEY_VALUES_EXPECTED,
  ParseError,
  REGION_EXPECTED,
  arnExpected,
  formatDuration,
  parseAccountId,
  parseArn,
  parseDuration,
  parseJsonOrYaml,
  parseKeyValues,
  parseList,
  parseRegion,
} from './parse.js';
import type { Arn, ArnOptions, KeyValueOptions } from './parse.js';
import { IMAGE_REFERENCE_EXPECTED, parseImageReference } from './image-ref.js';
import type { ParsedImageReference } from './image-ref.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** The environment variable the runner sets for an input, the rule of @actions/core getInput. */
export function inputEnvName(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

/**
 * The environment the runner gives a step for these inputs (name → value), for an InputReader in
 * tests or a child process run as the runner runs it.
 */
export function inputsEnv(inputs: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(inputs).map(([name, value]) => [inputEnvName(name), value]));
}

export interface ReadOptions<T> {
  /** An empty or unset input is an error. */
  required?: boolean;
  /**
   * Used when the input is empty or unset. Defaults belong in action.yml, which the runner
   * passes as INPUT_ variables; this is a fallback for tests and local runs.
   */
  default?: T;
  /** Never put the value in an error message. (Masking it in logs is the caller's job.) */
  secret?: boolean;
}

/** T when the options make a value certain (required, or a default), otherwise T | undefined. */
export type Read<T, O> = O extends { required: true } ? T : O extends { default: T } ? T : T | undefined;

export interface StringOptions extends ReadOptions<string> {
  /** The value must match this. */
  pattern?: RegExp;
  /** What the pattern means, for the error: "a cluster name (letters, digits, - and _)". */
  expected?: string;
}

export interface IntOptions extends ReadOptions<number> {
  min?: number;
  max?: number;
}

export interface DurationOptions extends ReadOptions<number> {
  /** Milliseconds. */
  min?: number;
  /** Milliseconds. */
  max?: number;
}

export interface ListReadOptions extends ReadOptions<string[]> {
  /** Also split on commas (default true). */
  commas?: boolean;
  /** Each item must pass this test... */
  itemTest?: (item: string) => boolean;
  /** ...described so: "image tags (letters, digits, _ . -, up to 128)". */
  itemExpected?: string;
  /** At most this many items: a longer list is one error saying the limit, not an error per item. */
  maxItems?: number;
  /** An item given twice is an error (a list of services to deploy, say). */
  unique?: boolean;
}

export type KeyValuesOptions = ReadOptions<Map<string, string>> & KeyValueOptions;

export interface JsonOrYamlReadOptions extends ReadOptions<unknown> {
  /** The parsed value must be a mapping (object) or a sequence (array). */
  shape?: 'object' | 'array';
  /** Relative paths are resolved against this; default process.cwd(). */
  cwd?: string;
}

export interface ImageRefOptions extends ReadOptions<ParsedImageReference> {
  /** The reference must carry a tag or a digest (no implicit `latest`). */
  requireTagOrDigest?: boolean;
}

/** The YAML 1.2 core schema booleans that @actions/core getBooleanInput accepts. */
const TRUE_WORDS = ['true', 'True', 'TRUE'];
const FALSE_WORDS = ['false', 'False', 'FALSE'];
const BOOLEAN_EXPECTED = 'true or false (also True, TRUE, False, FALSE)';
const REQUIRED_HINT = 'It is required but was empty or not set';
const SECRET_HINT = 'The value is not shown because the input is secret';
/** Bad items of a list reported one by one before the rest are counted. */
const MAX_ITEM_ERRORS = 10;

export class InputReader {
  private readonly collected: InputError[] = [];

  /** `env` is injectable so that tests need no process.env. */
  constructor(private readonly env: Env = process.env) {}

  /** The raw value as @actions/core getInput returns it: trimmed, "" when unset. */
  raw(name: string): string {
    return (this.env[inputEnvName(name)] ?? '').trim();
  }

  /** True when the input is set to something other than whitespace. */
  has(name: string): boolean {
    return this.raw(name) !== '';
  }

  /** The errors collected so far. */
  get errors(): readonly InputError[] {
    return this.collected;
  }

  /** Records a problem found by a rule of the action's own. */
  addError(input: string, expected: string, given: string | undefined, hint?: string): void {
    this.collected.push(new InputError(input, expected, given, hint));
  }

  /** Throws InputErrors with every problem collected; otherwise returns `result`. */
  finish<T>(result: T): T;
  finish(): void;
  finish<T>(result?: T): T | undefined {
    if (this.collected.length > 0) throw new InputErrors([...this.collected]);
    return result;
  }

  string<O extends StringOptions>(name: string, options?: O): Read<string, O> {
    return this.read(name, options, options?.expected ?? 'a value', (value) => {
      if (options?.pattern && !options.pattern.test(value)) {
        throw new ParseError(options.expected ?? `a value matching ${options.pattern}`, value);
      }
      return value;
    });
  }

  /** One of `values`, matched exactly (case-sensitive, like action.yml documents them). */
  enum<const V extends string, O extends ReadOptions<V>>(
    name: string,
    values: readonly V[],
    options?: O,
  ): Read<V, O> {
    const expected = `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`;
    return this.read(name, options, expected, (value) => {
      if ((values as readonly string[]).includes(value)) return value as V;
      const near = values.find((v) => v.toLowerCase() === value.toLowerCase());
      throw new ParseError(
        expected,
        value,
        near ? `Did you mean "${near}"? Values are case-sensitive` : undefined,
      );
    });
  }

  /** A whole number, optionally within [min, max]. */
  int<O extends IntOptions>(name: string, options?: O): Read<number, O> {
    const min = options?.min;
    const max = options?.max;
    const expected =
      min !== undefined && max !== undefined
        ? `an integer from ${min} to ${max}`
        : min !== undefined
          ? `an integer of at least ${min}`
          : max !== undefined
            ? `an integer of at most ${max}`
            : 'an integer';
    return this.read(name, options, expected, (value) => {
      if (!/^[+-]?\d+$/.test(value)) throw new ParseError(expected, value);
      const n = Number(value);
      if (!Number.isSafeInteger(n) || (min !== undefined && n < min) || (max !== undefined && n > max)) {
        throw new ParseError(expected, value);
      }
      return n;
    });
  }

  /** true|True|TRUE|false|False|FALSE, exactly as @actions/core getBooleanInput. */
  boolean<O extends ReadOptions<boolean>>(name: string, options?: O): Read<boolean, O> {
    return this.read(name, options, BOOLEAN_EXPECTED, (value) => {
      if (TRUE_WORDS.includes(value)) return true;
      if (FALSE_WORDS.includes(value)) return false;
      const hint = /^(?:yes|no|on|off|y|n|1|0)$/i.test(value)
        ? 'Action inputs follow YAML 1.2, where only true and false are booleans'
        : undefined;
      throw new ParseError(BOOLEAN_EXPECTED, value, hint);
    });
  }

  /** A duration (see parseDuration: `90s`, `10m`, `1h30m`, `500ms`) in milliseconds, optionally within [min, max]. */
  duration<O extends DurationOptions>(name: string, options?: O): Read<number, O> {
    const min = options?.min;
    const max = options?.max;
    const range =
      min !== undefined && max !== undefined
        ? ` from ${formatDuration(min)} to ${formatDuration(max)}`
        : min !== undefined
          ? ` of at least ${formatDuration(min)}`
          : max !== undefined
            ? ` of at most ${formatDuration(max)}`
            : '';
    const expected = DURATION_EXPECTED + range;
    return this.read(name, options, expected, (value) => {
      let ms: number;
      try {
        ms = parseDuration(value);
      } catch (error) {
        if (error instanceof ParseError) throw new ParseError(expected, error.given, error.hint);
        throw error;
      }
      if ((min !== undefined && ms < min) || (max !== undefined && ms > max)) {
        throw new ParseError(expected, value, `That is ${formatDuration(ms)}`);
      }
      return ms;
    });
  }

  /** Items separated by newlines (and commas unless `commas: false`), trimmed, empty ones dropped. */
  list<O extends ListReadOptions>(name: string, options?: O): Read<string[], O> {
    const itemExpected = options?.itemExpected ?? 'valid items';
    const expected = `a list of ${itemExpected}, separated by ${options?.commas === false ? 'newlines' : 'commas or newlines'}`;
    const result = this.read(name, options, expected, (value) => {
      const items = parseList(value, { commas: options?.commas });
      if (items.length === 0 && options?.required) throw new ParseError(expected, value, 'It has no items');
      return items;
    });
    if (!Array.isArray(result) || !this.has(name)) return result;
    const max = options?.maxItems;
    if (max !== undefined && result.length > max) {
      this.addError(name, `at most ${max} items`, undefined, `It has ${result.length}`);
      return undefined as Read<string[], O>;
    }
    // Each bad item is its own error, so a user fixes them all in one go (the first few of them).
    const test = options?.itemTest;
    const bad = test ? result.filter((item) => !test(item)) : [];
    for (const item of bad.slice(0, MAX_ITEM_ERRORS)) {
      this.addError(name, itemExpected, options?.secret ? undefined : item);
    }
    if (bad.length > MAX_ITEM_ERRORS) {
      this.addError(
        name,
        itemExpected,
        undefined,
        `${bad.length - MAX_ITEM_ERRORS} more items are not valid`,
      );
    }
    const twice = options?.unique ? [...new Set(result.filter((item, i) => result.indexOf(item) !== i))] : [];
    for (const item of twice.slice(0, MAX_ITEM_ERRORS)) {
      this.addError(
        name,
        'each item once',
        options?.secret ? undefined : item,
        'It is listed more than once',
      );
    }
    if (bad.length > 0 || twice.length > 0) return undefined as Read<string[], O>;
    return result;
  }

  /** `KEY=VALUE` lines (see parseKeyValues): newline-separated only, split at the first `=`. */
  keyValues<O extends KeyValuesOptions>(name: string, options?: O): Read<Map<string, string>, O> {
    return this.read(name, options, KEY_VALUES_EXPECTED, (value) => parseKeyValues(value, options));
  }

  /** Inline JSON/YAML or a path to a file (see parseJsonOrYaml), parsed. */
  jsonOrYaml<O extends JsonOrYamlReadOptions>(name: string, options?: O): Read<unknown, O> {
    return this.read(name, options, JSON_OR_YAML_EXPECTED, (value) => {
      const { value: parsed, file } = parseJsonOrYaml(value, { cwd: options?.cwd });
      const shape = options?.shape;
      const actual = parsed === null ? 'null' : Array.isArray(parsed) ? 'array' : typeof parsed;
      if (shape !== undefined && actual !== shape) {
        const what = shape === 'object' ? 'a mapping (JSON object)' : 'a sequence (JSON array)';
        // A file is named by its path; an inline document is not quoted.
        throw new ParseError(
          `${what} as JSON or YAML, inline or in a file`,
          file === undefined ? undefined : value,
          `It parsed to ${describe(actual)}`,
        );
      }
      return parsed;
    });
  }

  region<O extends ReadOptions<string>>(name: string, options?: O): Read<string, O> {
    return this.read(name, options, REGION_EXPECTED, parseRegion);
  }

  accountId<O extends ReadOptions<string>>(name: string, options?: O): Read<string, O> {
    return this.read(name, options, ACCOUNT_ID_EXPECTED, parseAccountId);
  }

  /** An ARN, optionally of a given service and resource type (`{ service: 'iam', resourceType: 'role' }`). */
  arn<O extends ReadOptions<Arn> & ArnOptions>(name: string, options?: O): Read<Arn, O> {
    return this.read(name, options, arnExpected(options), (value) => parseArn(value, options));
  }

  /** A container image reference (see parseImageReference). */
  imageRef<O extends ImageRefOptions>(name: string, options?: O): Read<ParsedImageReference, O> {
    return this.read(name, options, IMAGE_REFERENCE_EXPECTED, (value) => {
      const ref = parseImageReference(value);
      if (options?.requireTagOrDigest && !ref.tag && !ref.digest) {
        throw new ParseError(
          IMAGE_REFERENCE_EXPECTED,
          value,
          'Give a tag or a digest; "latest" is not assumed',
        );
      }
      return ref;
    });
  }

  /** A value for the action's own parser, which throws ParseError (expected, given, hint) when it is bad. */
  parsed<T, O extends ReadOptions<T>>(
    name: string,
    expected: string,
    parse: (value: string) => T,
    options?: O,
  ): Read<T, O> {
    return this.read(name, options, expected, parse);
  }

  // ----- rules across inputs. They look at raw values: an input with a default in action.yml
  // is always set, so use them only for inputs without one.

  /** Exactly one of `names` must be set. */
  exactlyOneOf(names: readonly string[]): void {
    const set = names.filter((n) => this.has(n));
    if (set.length === 1) return;
    this.addError(
      names.join(', '),
      `exactly one of ${quoteAll(names)} to be set`,
      undefined,
      set.length === 0 ? 'None is set' : `${quoteAll(set)} are all set; keep one`,
    );
  }

  /** At most one of `names` may be set (mutually exclusive inputs). */
  atMostOneOf(names: readonly string[]): void {
    const set = names.filter((n) => this.has(n));
    if (set.length <= 1) return;
    this.addError(
      set.join(', '),
      `at most one of ${quoteAll(names)} to be set`,
      undefined,
      `${quoteAll(set)} are all set; keep one`,
    );
  }

  /** `name` must be set when any of `others` is set: requiredWith('role-session-name', ['role-to-assume']). */
  requiredWith(name: string, others: readonly string[]): void {
    if (this.has(name)) return;
    const set = others.filter((n) => this.has(n));
    if (set.length === 0) return;
    this.addError(name, `a value when ${quoteAll(set)} ${set.length === 1 ? 'is' : 'are'} set`, undefined);
  }

  // ----- the common path of every reader

  private read<T, O>(
    name: string,
    options: (O & ReadOptions<T>) | undefined,
    expected: string,
    parse: (value: string) => T,
  ): Read<T, O> {
    return this.readValue(name, options, expected, parse) as Read<T, O>;
  }

  private readValue<T>(
    name: string,
    options: ReadOptions<T> | undefined,
    expected: string,
    parse: (value: string) => T,
  ): T | undefined {
    const value = this.raw(name);
    if (value === '') {
      if (options?.default !== undefined) return options.default;
      if (options?.required) this.addError(name, expected, undefined, REQUIRED_HINT);
      return undefined;
    }
    try {
      return parse(value);
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      // A hint may quote part of the value (a key, a tag), so a secret input gets neither.
      if (options?.secret) this.addError(name, error.expected, undefined, SECRET_HINT);
      else this.addError(name, error.expected, error.given, error.hint);
      return undefined;
    }
  }
}

function quoteAll(names: readonly string[]): string {
  return names.map((n) => JSON.stringify(n)).join(', ');
}

function describe(kind: string): string {
  return kind === 'null'
    ? 'null (empty)'
    : kind === 'array'
      ? 'a sequence'
      : kind === 'object'
        ? 'a mapping'
        : `a ${kind}`;
}
