// Pure parsers for action input values. Each one either returns the parsed value or throws a
// ParseError that says what was expected; InputReader (inputs.ts) wraps it into an InputError
// that also names the input. They are usable on their own, e.g. for values read from files.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { cut } from './log.js';

/** Where in a JSON or YAML text (or file) a parse error is. Line and column are 1-based. */
export interface SourceLocation {
  file?: string;
  line: number;
  column: number;
}

/**
 * A value that does not parse. `given` is the offending part (a line, an item), not always the
 * whole text; undefined when the text may hold a secret (a KEY=VALUE line, a line of an inline
 * document), which the hint then points at by line number instead.
 */
export class ParseError extends Error {
  constructor(
    readonly expected: string,
    readonly given: string | undefined,
    readonly hint?: string,
    readonly location?: SourceLocation,
  ) {
    super(
      `Expected ${expected}` +
        (given === undefined ? '' : `, got ${JSON.stringify(cut(given))}`) +
        (hint ? `. ${hint}` : ''),
    );
    this.name = 'ParseError';
  }
}

// ---------------------------------------------------------------------------------------------
// Durations

export const DURATION_EXPECTED = 'a duration such as 90s, 10m, 1h30m or 500ms';

const DURATION_UNIT_MS = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const;
const DURATION_SHAPE = /^(?:\d+(?:ms|h|m|s))+$/;
const DURATION_PART = /(\d+)(ms|h|m|s)/g;

/**
 * Parses `90s`, `10m`, `1h30m`, `500ms`, `2h` (whole numbers, units h, m, s, ms, combined in any
 * order) into milliseconds. A bare number is rejected, except `0`: `timeout: 30` could mean
 * seconds or minutes, and guessing wrong either waits too long or fails too early.
 */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (s === '0') return 0;
  if (/^\d+$/.test(s)) {
    throw new ParseError(DURATION_EXPECTED, text, `Add a unit: ${s}s, ${s}m or ${s}ms`);
  }
  if (!DURATION_SHAPE.test(s)) {
    const hint = /\d\.\d/.test(s)
      ? 'Use whole numbers, e.g. 1m30s instead of 1.5m'
      : /^-/.test(s)
        ? 'A duration cannot be negative'
        : /[A-Z]/.test(s)
          ? 'Units are lowercase: h, m, s, ms'
          : undefined;
    throw new ParseError(DURATION_EXPECTED, text, hint);
  }
  let ms = 0;
  for (const [, amount, unit] of s.matchAll(DURATION_PART)) {
    ms += Number(amount) * DURATION_UNIT_MS[unit as keyof typeof DURATION_UNIT_MS];
  }
  if (!Number.isSafeInteger(ms)) throw new ParseError(DURATION_EXPECTED, text, 'The duration is too long');
  return ms;
}

/** Formats milliseconds the way parseDuration reads them: 5400000 -> "1h30m", 1500 -> "1s500ms". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = Math.round(ms);
  let out = '';
  for (const [unit, size] of Object.entries(DURATION_UNIT_MS)) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Lists and KEY=VALUE lists

export interface ListOptions {
  /** Also split on commas (default true). Turn off when items may contain commas. */
  commas?: boolean;
}

/** Splits on newlines (and commas unless `commas: false`), trims each item, drops empty ones. */
export function parseList(text: string, options: ListOptions = {}): string[] {
  const separator = options.commas === false ? /\r?\n/ : /\r?\n|,/;
  return text
    .split(separator)
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

export interface KeyValueOptions {
  /** Which keys are valid. Default: environment variable names, `[A-Za-z_][A-Za-z0-9_]*`. */
  keyPattern?: RegExp;
  /** How to describe keyPattern to a person. */
  keyExpected?: string;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ENV_NAME_EXPECTED = 'letters, digits and _, not starting with a digit';
export const KEY_VALUES_EXPECTED = 'KEY=VALUE lines';

/**
 * Parses one `KEY=VALUE` per line. Only newlines separate entries: values may contain commas
 * (and `=`: the line is split at its first `=`). Keys and values are trimmed; blank lines are
 * skipped; an empty value (`KEY=`) is kept as "". A key given twice is an error rather than a
 * silent override, because it is almost always a copy-paste mistake.
 *
 * Errors name the line number and the key, never a value or the whole line: these inputs carry
 * database URLs, tokens and build secrets (`DB-URL=postgres://app:pw@db` has a bad key, and its
 * line must still not be echoed).
 */
export function parseKeyValues(text: string, options: KeyValueOptions = {}): Map<string, string> {
  const keyPattern = options.keyPattern ?? ENV_NAME;
  const keyExpected = options.keyExpected ?? ENV_NAME_EXPECTED;
  const result = new Map<string, string>();
  const lineOf = new Map<string, number>();
  text.split(/\r\n|\r|\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    const lineNumber = index + 1;
    const eq = line.indexOf('=');
    if (eq < 0) {
      throw new ParseError(
        KEY_VALUES_EXPECTED,
        undefined,
        `Line ${lineNumber} has no "=" (one KEY=VALUE per line; a value cannot continue on the next line)`,
      );
    }
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (!keyPattern.test(key)) {
      const what = key === '' ? 'an empty key' : `the key ${JSON.stringify(cut(key, 40))}`;
      throw new ParseError(
        KEY_VALUES_EXPECTED,
        undefined,
        `Line ${lineNumber} has ${what}; keys are ${keyExpected}`,
      );
    }
    const first = lineOf.get(key);
    if (first !== undefined) {
      throw new ParseError(
        KEY_VALUES_EXPECTED,
        undefined,
        `The key ${JSON.stringify(cut(key, 40))} is set twice, on lines ${first} and ${lineNumber}`,
      );
    }
    lineOf.set(key, lineNumber);
    result.set(key, value);
  });
  return result;
}

// ---------------------------------------------------------------------------------------------
// JSON or YAML, inline or from a file

export interface JsonOrYamlOptions {
  /** Directory that relative paths are resolved against. Default: process.cwd() (the workspace in Actions). */
  cwd?: string;
}

export interface JsonOrYaml {
  value: unknown;
  /** The absolute path that was read, or undefined when the text was inline. */
  file?: string;
}

export const JSON_OR_YAML_EXPECTED = 'inline JSON or YAML, or the path to a .json, .yaml or .yml file';

/**
 * Parses inline JSON/YAML, or reads and parses a file. The value is inline when it starts with
 * `{` or `[` or spans several lines; otherwise it is a path (so a one-line YAML mapping such as
 * `a: 1` must be written on several lines). Text that starts with `{` or `[` is JSON, strictly:
 * YAML would read the broken JSON `{"a": }` as {a: null}. `.yaml`/`.yml` files are YAML 1.2;
 * `.json` files and files whose content starts with `{`/`[` are JSON. Errors carry the file, line
 * and column.
 */
export function parseJsonOrYaml(textOrPath: string, options: JsonOrYamlOptions = {}): JsonOrYaml {
  const trimmed = textOrPath.trim();
  if (trimmed === '') throw new ParseError(JSON_OR_YAML_EXPECTED, textOrPath, 'The value is empty');
  const inline = /^[{[]/.test(trimmed) || trimmed.includes('\n');
  if (inline) return { value: parseText(textOrPath, undefined, /^[{[]/.test(trimmed)) };

  const file = resolve(options.cwd ?? process.cwd(), trimmed);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? `No file at ${file}`
        : code === 'EISDIR'
          ? `${file} is a directory`
          : `Cannot read ${file}: ${(error as Error).message}`;
    throw new ParseError(
      JSON_OR_YAML_EXPECTED,
      trimmed,
      `${why}. Inline JSON must start with { or [; inline YAML must span several lines`,
    );
  }
  const json = !/\.ya?ml$/i.test(file) && (/\.json$/i.test(file) || /^\s*[{[]/.test(text));
  return { value: parseText(text, { path: trimmed, absolute: file }, json), file };
}

function parseText(
  text: string,
  file: { path: string; absolute: string } | undefined,
  json: boolean,
): unknown {
  // A file is named by its path; a line of an inline document is never quoted (it may hold a
  // secret): the hint points at it by line and column.
  const given = file?.path;
  const at = (location: SourceLocation) =>
    `${file ? `${file.path}:` : 'line '}${location.line}${file ? ':' : ', column '}${location.column}`;

  if (json) {
    try {
      return JSON.parse(text);
    } catch (error) {
      const location: SourceLocation = { ...lineColumn(text, jsonErrorOffset(text)), file: file?.absolute };
      // No silent fallback to YAML, which reads the broken JSON `{"a": }` as {a: null}; but text
      // without a single quoted string was probably meant as YAML flow style, `{a: 1}`.
      const yamlHint =
        !text.includes('"') && parseDocument(text).errors.length === 0
          ? ' (YAML must be written in block style, one key: value per line)'
          : '';
      throw new ParseError(
        'valid JSON',
        given,
        `${at(location)}: ${jsonMessage((error as Error).message)}${yamlHint}`,
        location,
      );
    }
  }
  const doc = parseDocument(text, { prettyErrors: true });
  const first = doc.errors[0];
  if (first) {
    const pos = first.linePos?.[0] ?? { line: 1, col: 1 };
    const location: SourceLocation = { line: pos.line, column: pos.col, file: file?.absolute };
    const message = first.message.split(/ at line \d+, column \d+/)[0] ?? first.message;
    throw new ParseError('valid YAML', given, `${at(location)}: ${message}`, location);
  }
  try {
    return doc.toJS();
  } catch (error) {
    // The yaml library refuses documents whose aliases expand without bound ("billion laughs")
    // with a ReferenceError: say which input, not just the library's words.
    throw new ParseError(
      'valid YAML',
      given,
      `It cannot be expanded: ${(error as Error).message} (an alias is used more than 100 times)`,
    );
  }
}

// V8 messages: `Unexpected token '}', "{"a": }" is not valid JSON`, with a long text cut as
// `..."b": 2 }" is not valid JSON`, or `Expected ',' or '}' after property value in JSON at
// position 6 (line 1 column 7)`. The quoted text is dropped: it may hold a secret.
function jsonMessage(message: string): string {
  return message
    .replace(/,\s*(?:\.\.\.)?".*?(?:\.\.\.)?" is not valid JSON$/s, '')
    .replace(/^"[^]*" is not valid JSON$/, 'It is not valid JSON')
    .replace(/ in JSON at position \d+.*$/s, '');
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split(/\r?\n/);
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}

// JSON.parse does not always report where it failed (V8 omits the position for an unexpected
// token), so find the first offending offset with a small scanner. It only runs after a failure.
function jsonErrorOffset(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail();
  };
  const string = () => {
    i++; // opening quote
    while (i < text.length) {
      const c = text[i]!;
      if (c === '"') return void i++;
      if (c < ' ') fail();
      if (c === '\\') {
        i++;
        const e = text[i];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail();
          i += 5;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i++;
        else fail();
      } else i++;
    }
    fail();
  };
  const number = () => {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m) fail();
    i += m![0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        string();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else fail();
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else fail();
      }
    } else if (c === '"') string();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else number();
  };
  try {
    value();
    ws();
    if (i < text.length) fail();
    return text.length;
  } catch (offset) {
    return Math.min(offset as number, text.length);
  }
}

// ---------------------------------------------------------------------------------------------
// AWS identifiers

export const REGION_EXPECTED = 'an AWS region such as us-east-1';
const DIRECTIONS = 'central|north|south|east|west|northeast|northwest|southeast|southwest';
// Partition prefixes as in the SDK's partitions.json: aws (any two letters, so a new country
// prefix such as mx- needs no release), aws-us-gov, the ISO partitions, aws-cn, aws-eusc.
const REGION = new RegExp(
  `^(?:[a-z]{2}(?:-(?:gov|iso|isob|isoe|isof))?|eusc-[a-z]{2})-(?:${DIRECTIONS})-\\d{1,2}$`,
);

/** True for region names such as us-east-1, cn-north-1, us-gov-west-1, eusc-de-east-1. Pattern-based. */
export function isRegion(text: string): boolean {
  return REGION.test(text);
}

/** Returns the region, or throws with a hint for the usual mistakes (an AZ, uppercase, a display name). */
export function parseRegion(text: string): string {
  if (isRegion(text)) return text;
  const hint = isRegion(text.toLowerCase())
    ? `Region names are lowercase: ${text.toLowerCase()}`
    : isRegion(text.replace(/[a-z]$/, ''))
      ? `That is an availability zone; its region is ${text.replace(/[a-z]$/, '')}`
      : undefined;
  throw new ParseError(REGION_EXPECTED, text, hint);
}

/** The partition a region belongs to ('aws', 'aws-cn', 'aws-us-gov', ...), for ARNs and endpoints. */
export function partitionOfRegion(region: string): string {
  const prefixes: [RegExp, string][] = [
    [/^cn-/, 'aws-cn'],
    [/^us-gov-/, 'aws-us-gov'],
    [/^us-iso-/, 'aws-iso'],
    [/^us-isob-/, 'aws-iso-b'],
    [/^eu-isoe-/, 'aws-iso-e'],
    [/^us-isof-/, 'aws-iso-f'],
    [/^eusc-/, 'aws-eusc'],
  ];
  return prefixes.find(([re]) => re.test(region))?.[1] ?? 'aws';
}

export const ACCOUNT_ID_EXPECTED = 'a 12-digit AWS account ID';

export function isAccountId(text: string): boolean {
  return /^\d{12}$/.test(text);
}

export function parseAccountId(text: string): string {
  if (isAccountId(text)) return text;
  const digits = text.replace(/[-\s]/g, '');
  const hint = isAccountId(digits)
    ? `Write it without dashes or spaces: ${digits}`
    : /^\d+$/.test(text)
      ? `It has ${text.length} digits; account IDs have 12, including leading zeros`
      : undefined;
  throw new ParseError(ACCOUNT_ID_EXPECTED, text, hint);
}

export interface Arn {
  partition: string;
  service: string;
  /** Empty for global services (IAM, S3 buckets). */
  region: string;
  /** Empty for S3 buckets; "aws" for AWS managed IAM policies. */
  accountId: string;
  /** Everything after the fifth colon, e.g. `role/path/name` or `secret:name-AbCdEf`. */
  resource: string;
  /** The part of `resource` before the first `/` or `:` (`role`, `cluster`), if it has one. */
  resourceType?: string;
  /** The part of `resource` after the type (`path/name`), or the whole resource when there is no type. */
  resourceId: string;
}

export interface ArnOptions {
  /** The service the ARN must be for, e.g. `iam` or `ecs`. */
  service?: string;
  /** The resource type it must have, e.g. `role` or `cluster`. */
  resourceType?: string;
}

/** What parseArn expects, for messages: "an iam role ARN, arn:<partition>:iam:<region>:<account>:role/<name>". */
export function arnExpected(options: ArnOptions = {}): string {
  const kind = [options.service, options.resourceType].filter(Boolean).join(' ');
  if (!kind) return 'an ARN, arn:<partition>:<service>:<region>:<account>:<resource>';
  const article = /^[aeiou]/i.test(kind) ? 'an' : 'a';
  const resource = options.resourceType ? `${options.resourceType}/<name>` : '<resource>';
  return `${article} ${kind} ARN, arn:<partition>:${options.service ?? '<service>'}:<region>:<account>:${resource}`;
}

/** Parses `arn:partition:service:region:account:resource` and checks the service and type if asked. */
export function parseArn(text: string, options: ArnOptions = {}): Arn {
  const expected = arnExpected(options);
  const parts = text.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') {
    const hint =
      parts[0] === 'arn' ? 'An ARN has at least six parts separated by ":"' : 'An ARN starts with "arn:"';
    throw new ParseError(expected, text, hint);
  }
  const [, partition = '', service = '', region = '', accountId = ''] = parts;
  const resource = parts.slice(5).join(':');
  const problem = !/^aws(?:-[a-z]+)*$/.test(partition)
    ? `The partition ${JSON.stringify(partition)} is not one of aws, aws-cn, aws-us-gov, ...`
    : !/^[a-z0-9-]+$/.test(service)
      ? `The service ${JSON.stringify(service)} is not a service name`
      : region !== '' && !isRegion(region)
        ? `The region ${JSON.stringify(region)} is not a region`
        : accountId !== '' && accountId !== 'aws' && !isAccountId(accountId)
          ? `The account ${JSON.stringify(accountId)} is not a 12-digit account ID`
          : resource === ''
            ? 'The resource part is empty'
            : undefined;
  if (problem) throw new ParseError(expected, text, problem);

  const split = /[/:]/.exec(resource);
  const resourceType = split ? resource.slice(0, split.index) : undefined;
  const resourceId = split ? resource.slice(split.index + 1) : resource;
  if (options.service !== undefined && service !== options.service) {
    throw new ParseError(
      expected,
      text,
      `This is an ARN for the service "${service}", not "${options.service}"`,
    );
  }
  if (options.resourceType !== undefined && resourceType !== options.resourceType) {
    throw new ParseError(
      expected,
      text,
      resourceType === undefined
        ? `The resource has no type; expected "${options.resourceType}/..."`
        : `This ARN is for a ${resourceType}, not a ${options.resourceType}`,
    );
  }
  return { partition, service, region, accountId, resource, resourceType, resourceId };
}
