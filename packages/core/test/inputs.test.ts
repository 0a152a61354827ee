import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as core from '@actions/core';
import { InputError, InputErrors } from '../src/errors.js';
import { InputReader, inputEnvName, inputsEnv } from '../src/inputs.js';
import { ParseError } from '../src/parse.js';
import type { Env } from '../src/inputs.js';

/** A reader over the given inputs, keyed by their action.yml names. */
function reader(inputs: Record<string, string>): InputReader {
  return new InputReader(inputsEnv(inputs));
}

/** Reads one input with `read` and returns [value, messages of the errors collected]. */
function readOne<T>(value: string | undefined, read: (r: InputReader) => T): [T, string[]] {
  const r = reader(value === undefined ? {} : { x: value });
  const result = read(r);
  return [result, r.errors.map((e) => e.message)];
}

describe('raw values follow @actions/core getInput', () => {
  test.each([
    ['cluster', 'INPUT_CLUSTER'],
    ['task-definition', 'INPUT_TASK-DEFINITION'],
    ['my input', 'INPUT_MY_INPUT'],
    ['wait_for_minutes', 'INPUT_WAIT_FOR_MINUTES'],
  ])('%s is read from %s', (name, variable) => {
    expect(inputEnvName(name)).toBe(variable);
  });

  test('inputsEnv gives every input its variable, values untouched', () => {
    expect(inputsEnv({ cluster: 'prod', 'my input': ' x\n', 'task-definition': '' })).toEqual({
      INPUT_CLUSTER: 'prod',
      INPUT_MY_INPUT: ' x\n',
      'INPUT_TASK-DEFINITION': '',
    });
    expect(inputsEnv({})).toEqual({});
  });

  test.each([
    ['  padded \n', 'padded'],
    ['', ''],
    [undefined, ''],
    ['a\nb', 'a\nb'],
  ])('%j reads as %j, like core.getInput', (value, expected) => {
    const variable = inputEnvName('some input');
    const saved = process.env[variable];
    if (value === undefined) delete process.env[variable];
    else process.env[variable] = value;
    try {
      expect(new InputReader().raw('some input')).toBe(expected);
      expect(core.getInput('some input')).toBe(expected);
    } finally {
      if (saved === undefined) delete process.env[variable];
      else process.env[variable] = saved;
    }
  });

  test('has() is false for unset and whitespace-only inputs', () => {
    const r = new InputReader({ INPUT_A: 'x', INPUT_B: '   ' } as Env);
    expect([r.has('a'), r.has('b'), r.has('c')]).toEqual([true, false, false]);
  });
});

describe('string', () => {
  test.each([
    ['value', {}, 'value', []],
    [undefined, {}, undefined, []],
    [undefined, { default: 'd' }, 'd', []],
    ['', { default: 'd' }, 'd', []],
    ['  given ', { default: 'd' }, 'given', []],
    [
      undefined,
      { required: true },
      undefined,
      ['Input "x": expected a value. It is required but was empty or not set'],
    ],
    [
      '   ',
      { required: true },
      undefined,
      ['Input "x": expected a value. It is required but was empty or not set'],
    ],
    ['prod-1', { pattern: /^[\w-]+$/, expected: 'a cluster name' }, 'prod-1', []],
    [
      'prod 1',
      { pattern: /^[\w-]+$/, expected: 'a cluster name' },
      undefined,
      ['Input "x": expected a cluster name, got "prod 1"'],
    ],
    [
      'prod 1',
      { pattern: /^[\w-]+$/ },
      undefined,
      ['Input "x": expected a value matching /^[\\w-]+$/, got "prod 1"'],
    ],
    [
      'hunter 2',
      { pattern: /^\S+$/, expected: 'a token', secret: true },
      undefined,
      ['Input "x": expected a token. The value is not shown because the input is secret'],
    ],
    [
      undefined,
      { required: true, expected: 'a cluster name' },
      undefined,
      ['Input "x": expected a cluster name. It is required but was empty or not set'],
    ],
  ])('%j %j', (value, options, expected, messages) => {
    expect(readOne(value, (r) => r.string('x', options))).toEqual([expected, messages]);
  });
});

describe('enum', () => {
  const values = ['private', 'public'] as const;
  test.each([
    ['private', {}, 'private', []],
    ['public', {}, 'public', []],
    [undefined, {}, undefined, []],
    [undefined, { default: 'public' as const }, 'public', []],
    [
      'Public',
      {},
      undefined,
      [
        'Input "x": expected one of "private", "public", got "Public". Did you mean "public"? Values are case-sensitive',
      ],
    ],
    ['both', {}, undefined, ['Input "x": expected one of "private", "public", got "both"']],
    [
      undefined,
      { required: true },
      undefined,
      ['Input "x": expected one of "private", "public". It is required but was empty or not set'],
    ],
  ])('%j %j', (value, options, expected, messages) => {
    expect(readOne(value, (r) => r.enum('x', values, options))).toEqual([expected, messages]);
  });
});

describe('int', () => {
  test.each([
    ['5', {}, 5, []],
    ['-3', {}, -3, []],
    ['+7', {}, 7, []],
    ['007', {}, 7, []],
    [undefined, { default: 10 }, 10, []],
    ['1', { min: 1, max: 10 }, 1, []],
    ['10', { min: 1, max: 10 }, 10, []],
    ['0', { min: 1, max: 10 }, undefined, ['Input "x": expected an integer from 1 to 10, got "0"']],
    ['11', { min: 1, max: 10 }, undefined, ['Input "x": expected an integer from 1 to 10, got "11"']],
    ['0', { min: 1 }, undefined, ['Input "x": expected an integer of at least 1, got "0"']],
    ['100', { max: 50 }, undefined, ['Input "x": expected an integer of at most 50, got "100"']],
    ['1.5', {}, undefined, ['Input "x": expected an integer, got "1.5"']],
    ['1e3', {}, undefined, ['Input "x": expected an integer, got "1e3"']],
    ['ten', {}, undefined, ['Input "x": expected an integer, got "ten"']],
    ['0x10', {}, undefined, ['Input "x": expected an integer, got "0x10"']],
    ['99999999999999999999', {}, undefined, ['Input "x": expected an integer, got "99999999999999999999"']],
    [
      undefined,
      { required: true, min: 0 },
      undefined,
      ['Input "x": expected an integer of at least 0. It is required but was empty or not set'],
    ],
  ])('%j %j', (value, options, expected, messages) => {
    expect(readOne(value, (r) => r.int('x', options))).toEqual([expected, messages]);
  });
});

describe('boolean', () => {
  test.each([
    ['true', true],
    ['True', true],
    ['TRUE', true],
    ['false', false],
    ['False', false],
    ['FALSE', false],
  ])('%s -> %s, like core.getBooleanInput', (value, expected) => {
    expect(readOne(value, (r) => r.boolean('x'))).toEqual([expected, []]);
    process.env.INPUT_BOOL_TEST = value;
    try {
      expect(core.getBooleanInput('bool test')).toBe(expected);
    } finally {
      delete process.env.INPUT_BOOL_TEST;
    }
  });

  const expected = 'Input "x": expected true or false (also True, TRUE, False, FALSE)';
  const yaml11 = 'Action inputs follow YAML 1.2, where only true and false are booleans';
  test.each([
    ['yes', `${expected}, got "yes". ${yaml11}`],
    ['off', `${expected}, got "off". ${yaml11}`],
    ['1', `${expected}, got "1". ${yaml11}`],
    ['tRUE', `${expected}, got "tRUE"`],
    ['truthy', `${expected}, got "truthy"`],
  ])('rejects %j, like core.getBooleanInput', (value, message) => {
    expect(readOne(value, (r) => r.boolean('x'))).toEqual([undefined, [message]]);
    process.env.INPUT_BOOL_TEST = value;
    try {
      expect(() => core.getBooleanInput('bool test')).toThrow(TypeError);
    } finally {
      delete process.env.INPUT_BOOL_TEST;
    }
  });

  test.each([
    [{}, undefined, []],
    [{ default: true }, true, []],
    [{ default: false }, false, []],
    [{ required: true }, undefined, [`${expected}. It is required but was empty or not set`]],
  ])('unset with %j', (options, value, messages) => {
    expect(readOne(undefined, (r) => r.boolean('x', options))).toEqual([value, messages]);
  });
});

describe('duration', () => {
  const d = 'a duration such as 90s, 10m, 1h30m or 500ms';
  test.each([
    ['90s', {}, 90_000, []],
    ['1h30m', {}, 5_400_000, []],
    [undefined, { default: 60_000 }, 60_000, []],
    ['10m', { min: 1000, max: 6 * 3_600_000 }, 600_000, []],
    [
      '7h',
      { min: 1000, max: 6 * 3_600_000 },
      undefined,
      [`Input "x": expected ${d} from 1s to 6h, got "7h". That is 7h`],
    ],
    [
      '500ms',
      { min: 1000 },
      undefined,
      [`Input "x": expected ${d} of at least 1s, got "500ms". That is 500ms`],
    ],
    [
      '90m',
      { max: 3_600_000 },
      undefined,
      [`Input "x": expected ${d} of at most 1h, got "90m". That is 1h30m`],
    ],
    ['30', {}, undefined, [`Input "x": expected ${d}, got "30". Add a unit: 30s, 30m or 30ms`]],
    [
      '30',
      { max: 3_600_000 },
      undefined,
      [`Input "x": expected ${d} of at most 1h, got "30". Add a unit: 30s, 30m or 30ms`],
    ],
    ['soon', {}, undefined, [`Input "x": expected ${d}, got "soon"`]],
    [
      undefined,
      { required: true },
      undefined,
      [`Input "x": expected ${d}. It is required but was empty or not set`],
    ],
  ])('%j %j', (value, options, expected, messages) => {
    expect(readOne(value, (r) => r.duration('x', options))).toEqual([expected, messages]);
  });
});

describe('list', () => {
  const tag = (t: string) => /^[\w][\w.-]{0,127}$/.test(t);
  test('a 64k-item list is one error that says the limit, not 64k errors', () => {
    const value = Array.from({ length: 65_536 }, (_, i) => `svc-${i}`).join('\n');
    expect(readOne(value, (r) => r.list('x', { maxItems: 100, itemTest: tag, unique: true }))).toEqual([
      undefined,
      ['Input "x": expected at most 100 items. It has 65536'],
    ]);
  });
  test.each([
    ['a,b\nc', {}, ['a', 'b', 'c'], []],
    [' a , ,b ', {}, ['a', 'b'], []],
    ['a,b\nc', { commas: false }, ['a,b', 'c'], []],
    [undefined, {}, undefined, []],
    [undefined, { default: ['latest'] }, ['latest'], []],
    [
      undefined,
      { required: true },
      undefined,
      [
        'Input "x": expected a list of valid items, separated by commas or newlines. It is required but was empty or not set',
      ],
    ],
    [' , \n ', {}, [], []],
    [
      ' , \n ',
      { required: true },
      undefined,
      [
        'Input "x": expected a list of valid items, separated by commas or newlines, got ",". It has no items',
      ],
    ],
    ['v1, latest', { itemTest: tag, itemExpected: 'image tags' }, ['v1', 'latest'], []],
    [
      'v1, -bad, also bad, ok',
      { itemTest: tag, itemExpected: 'image tags' },
      undefined,
      ['Input "x": expected image tags, got "-bad"', 'Input "x": expected image tags, got "also bad"'],
    ],
    [
      '-bad',
      { itemTest: tag, itemExpected: 'image tags', secret: true },
      undefined,
      ['Input "x": expected image tags'],
    ],
    ['a,b,c', { maxItems: 3 }, ['a', 'b', 'c'], []],
    [
      'a,b,a,c,b',
      { unique: true },
      undefined,
      [
        'Input "x": expected each item once, got "a". It is listed more than once',
        'Input "x": expected each item once, got "b". It is listed more than once',
      ],
    ],
    [
      Array.from({ length: 15 }, (_, i) => `-bad${i}`).join(','),
      { itemTest: tag, itemExpected: 'image tags' },
      undefined,
      [
        ...Array.from({ length: 10 }, (_, i) => `Input "x": expected image tags, got "-bad${i}"`),
        'Input "x": expected image tags. 5 more items are not valid',
      ],
    ],
  ])('%j %j', (value, options, expected, messages) => {
    expect(readOne(value, (r) => r.list('x', options))).toEqual([expected, messages]);
  });
});

describe('keyValues', () => {
  test.each([
    [
      'A=1\nB=x=y,z',
      {},
      new Map([
        ['A', '1'],
        ['B', 'x=y,z'],
      ]),
      [],
    ],
    [undefined, {}, undefined, []],
    [undefined, { default: new Map([['D', '1']]) }, new Map([['D', '1']]), []],
    [
      'A=1\nnope',
      {},
      undefined,
      [
        'Input "x": expected KEY=VALUE lines. Line 2 has no "=" (one KEY=VALUE per line; a value cannot continue on the next line)',
      ],
    ],
    [
      'A=1\nA=2',
      {},
      undefined,
      ['Input "x": expected KEY=VALUE lines. The key "A" is set twice, on lines 1 and 2'],
    ],
    [
      'PASSWORD hunter2',
      { secret: true },
      undefined,
      ['Input "x": expected KEY=VALUE lines. The value is not shown because the input is secret'],
    ],
    [
      'com.example.team=web',
      { keyPattern: /^[a-z0-9.]+$/, keyExpected: 'label keys' },
      new Map([['com.example.team', 'web']]),
      [],
    ],
    [
      undefined,
      { required: true },
      undefined,
      ['Input "x": expected KEY=VALUE lines. It is required but was empty or not set'],
    ],
  ])('%j %j', (value, options, expected, messages) => {
    expect(readOne(value, (r) => r.keyValues('x', options))).toEqual([expected, messages]);
  });
});

describe('jsonOrYaml', () => {
  const dir = mkdtempSync(join(tmpdir(), 'inputs-test-'));
  writeFileSync(join(dir, 'td.json'), '{"family": "web"}');
  writeFileSync(join(dir, 'bad.json'), '{\n  "family": "web",\n}');
  test.each([
    ['{"a": 1}', {}, { a: 1 }, []],
    ['a: 1\nb: 2', { shape: 'object' as const }, { a: 1, b: 2 }, []],
    ['td.json', { cwd: dir, shape: 'object' as const }, { family: 'web' }, []],
    [undefined, {}, undefined, []],
    [
      '[1]',
      { shape: 'object' as const },
      undefined,
      [
        'Input "x": expected a mapping (JSON object) as JSON or YAML, inline or in a file. It parsed to a sequence',
      ],
    ],
    [
      '- a\n- b',
      { shape: 'object' as const },
      undefined,
      [
        'Input "x": expected a mapping (JSON object) as JSON or YAML, inline or in a file. It parsed to a sequence',
      ],
    ],
    [
      '{"a": 1}',
      { shape: 'array' as const },
      undefined,
      [
        'Input "x": expected a sequence (JSON array) as JSON or YAML, inline or in a file. It parsed to a mapping',
      ],
    ],
    [
      'bad.json',
      { cwd: dir },
      undefined,
      ['Input "x": expected valid JSON, got "bad.json". bad.json:3:1: Expected double-quoted property name'],
    ],
    [
      'a: 1\n  b: 2',
      {},
      undefined,
      [
        'Input "x": expected valid YAML. line 1, column 4: Nested mappings are not allowed in compact mappings',
      ],
    ],
    [
      'nope.yaml',
      { cwd: dir },
      undefined,
      [
        `Input "x": expected inline JSON or YAML, or the path to a .json, .yaml or .yml file, got "nope.yaml". No file at ${join(dir, 'nope.yaml')}. Inline JSON must start with { or [; inline YAML must span several lines`,
      ],
    ],
  ])('%j %j', (value, options, expected, messages) => {
    expect(readOne(value, (r) => r.jsonOrYaml('x', options))).toEqual([expected, messages]);
  });
});

describe('AWS identifiers', () => {
  test.each([
    ['eu-central-2', 'eu-central-2', []],
    ['us-gov-west-1', 'us-gov-west-1', []],
    [
      'us-east-1a',
      undefined,
      [
        'Input "x": expected an AWS region such as us-east-1, got "us-east-1a". That is an availability zone; its region is us-east-1',
      ],
    ],
    ['Frankfurt', undefined, ['Input "x": expected an AWS region such as us-east-1, got "Frankfurt"']],
  ])('region %j', (value, expected, messages) => {
    expect(readOne(value, (r) => r.region('x'))).toEqual([expected, messages]);
  });

  test.each([
    ['123456789012', '123456789012', []],
    [
      '1234-5678-9012',
      undefined,
      [
        'Input "x": expected a 12-digit AWS account ID, got "1234-5678-9012". Write it without dashes or spaces: 123456789012',
      ],
    ],
  ])('accountId %j', (value, expected, messages) => {
    expect(readOne(value, (r) => r.accountId('x'))).toEqual([expected, messages]);
  });

  test('arn with service and resource type', () => {
    const [arn, messages] = readOne('arn:aws:iam::123456789012:role/ci/deploy', (r) =>
      r.arn('x', { service: 'iam', resourceType: 'role' }),
    );
    expect(messages).toEqual([]);
    expect(arn).toMatchObject({ accountId: '123456789012', resourceType: 'role', resourceId: 'ci/deploy' });
  });

  test.each([
    [
      'arn:aws:iam::123456789012:user/ci',
      { service: 'iam', resourceType: 'role' },
      [
        'Input "x": expected an iam role ARN, arn:<partition>:iam:<region>:<account>:role/<name>, got "arn:aws:iam::123456789012:user/ci". This ARN is for a user, not a role',
      ],
    ],
    [
      undefined,
      { service: 'ecs', resourceType: 'cluster', required: true },
      [
        'Input "x": expected an ecs cluster ARN, arn:<partition>:ecs:<region>:<account>:cluster/<name>. It is required but was empty or not set',
      ],
    ],
    [
      'prod',
      {},
      [
        'Input "x": expected an ARN, arn:<partition>:<service>:<region>:<account>:<resource>, got "prod". An ARN starts with "arn:"',
      ],
    ],
  ])('arn %j %j', (value, options, messages) => {
    expect(readOne(value, (r) => r.arn('x', options))).toEqual([undefined, messages]);
  });
});

describe('imageRef', () => {
  const expected = 'an image reference such as registry/repository:tag or repository@sha256:<64 hex digits>';
  test.each([
    [
      'ghcr.io/o/r:1',
      {},
      { original: 'ghcr.io/o/r:1', registry: 'ghcr.io', repository: 'o/r', tag: '1' },
      [],
    ],
    ['nginx', {}, { original: 'nginx', repository: 'nginx' }, []],
    [
      'nginx',
      { requireTagOrDigest: true },
      undefined,
      [`Input "x": expected ${expected}, got "nginx". Give a tag or a digest; "latest" is not assumed`],
    ],
    [
      'Nginx',
      {},
      undefined,
      [`Input "x": expected ${expected}, got "Nginx". Repository names must be lowercase: "Nginx"`],
    ],
  ])('%j %j', (value, options, result, messages) => {
    expect(readOne(value, (r) => r.imageRef('x', options))).toEqual([result, messages]);
  });
});

describe("parsed (an action's own parser)", () => {
  const parseEven = (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n % 2 !== 0) throw new ParseError('an even number', value, 'Try 2 or 4');
    return n;
  };
  test.each([
    ['4', 4, []],
    ['3', undefined, ['Input "x": expected an even number, got "3". Try 2 or 4']],
    [undefined, undefined, []],
  ])('%s', (value, want, messages) => {
    expect(readOne(value, (r) => r.parsed('x', 'an even number', parseEven))).toEqual([want, messages]);
  });
  test('required and secret behave as for every reader', () => {
    expect(
      readOne(undefined, (r) => r.parsed('x', 'an even number', parseEven, { required: true }))[1],
    ).toEqual(['Input "x": expected an even number. It is required but was empty or not set']);
    expect(
      readOne('3', (r) => r.parsed('x', 'an even number', parseEven, { secret: true }))[1][0],
    ).not.toContain('3');
  });
});

describe('rules across inputs', () => {
  test.each([
    [{ image: 'a' }, []],
    [{ 'task-definition': 'td.json' }, []],
    [
      {},
      [
        'Input "image, task-definition": expected exactly one of "image", "task-definition" to be set. None is set',
      ],
    ],
    [
      { image: ' ', 'task-definition': '' },
      [
        'Input "image, task-definition": expected exactly one of "image", "task-definition" to be set. None is set',
      ],
    ],
    [
      { image: 'a', 'task-definition': 'td.json' },
      [
        'Input "image, task-definition": expected exactly one of "image", "task-definition" to be set. "image", "task-definition" are all set; keep one',
      ],
    ],
  ])('exactlyOneOf %j', (inputs, messages) => {
    const r = reader(inputs);
    r.exactlyOneOf(['image', 'task-definition']);
    expect(r.errors.map((e) => e.message)).toEqual(messages);
  });

  test.each([
    [{}, []],
    [{ a: '1' }, []],
    [
      { a: '1', c: '1' },
      ['Input "a, c": expected at most one of "a", "b", "c" to be set. "a", "c" are all set; keep one'],
    ],
  ])('atMostOneOf %j', (inputs, messages) => {
    const r = reader(inputs);
    r.atMostOneOf(['a', 'b', 'c']);
    expect(r.errors.map((e) => e.message)).toEqual(messages);
  });

  test.each([
    [{}, []],
    [{ 'role-session-name': 's' }, []],
    [{ 'role-to-assume': 'arn', 'role-session-name': 's' }, []],
    [
      { 'role-to-assume': 'arn' },
      ['Input "role-session-name": expected a value when "role-to-assume" is set'],
    ],
    [
      { 'role-to-assume': 'arn', 'web-identity-token-file': 'f' },
      [
        'Input "role-session-name": expected a value when "role-to-assume", "web-identity-token-file" are set',
      ],
    ],
  ])('requiredWith %j', (inputs, messages) => {
    const r = reader(inputs);
    r.requiredWith('role-session-name', ['role-to-assume', 'web-identity-token-file']);
    expect(r.errors.map((e) => e.message)).toEqual(messages);
  });
});

describe('finish', () => {
  test('returns the result when every input is valid', () => {
    const r = reader({ cluster: 'prod', timeout: '10m', wait: 'true' });
    const inputs = r.finish({
      cluster: r.string('cluster', { required: true }),
      timeout: r.duration('timeout', { max: 6 * 3_600_000 }),
      wait: r.boolean('wait', { default: true }),
    });
    expect(inputs).toEqual({ cluster: 'prod', timeout: 600_000, wait: true });
  });

  test('throws every problem at once, in reading order', () => {
    const r = reader({
      timeout: '30',
      wait: 'yes',
      region: 'us-east-1a',
      token: 'hunter2',
      image: 'a',
      'task-definition': 'b',
    });
    r.string('cluster', { required: true });
    r.duration('timeout');
    r.boolean('wait');
    r.region('region');
    r.int('token', { secret: true });
    r.exactlyOneOf(['image', 'task-definition']);

    let thrown: unknown;
    try {
      r.finish({});
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InputErrors);
    const errors = (thrown as InputErrors).errors;
    expect(errors.every((e) => e instanceof InputError)).toBe(true);
    expect(errors.map((e) => [e.input, e.given])).toEqual([
      ['cluster', undefined],
      ['timeout', '30'],
      ['wait', 'yes'],
      ['region', 'us-east-1a'],
      ['token', undefined],
      ['image, task-definition', undefined],
    ]);
    expect((thrown as Error).message).not.toContain('hunter2');
    expect((thrown as Error).message.split('\n')).toHaveLength(6);
  });

  test('addError records a rule of the action itself', () => {
    const r = reader({});
    r.addError('desired-count', 'at most max-count (4)', '5', 'Raise max-count or lower desired-count');
    expect(() => r.finish()).toThrow(
      'Input "desired-count": expected at most max-count (4), got "5". Raise max-count or lower desired-count',
    );
  });

  test('the value types follow the options', () => {
    const r = reader({ n: '1', mode: 'public' });
    const required: number = r.int('n', { required: true });
    const withDefault: boolean = r.boolean('b', { default: false });
    const optional: string | undefined = r.string('s');
    const mode: 'private' | 'public' = r.enum('mode', ['private', 'public'], { default: 'private' });
    expect([required, withDefault, optional, mode]).toEqual([1, false, undefined, 'public']);
    r.finish();
  });
});
