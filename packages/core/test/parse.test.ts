import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ParseError,
  formatDuration,
  isAccountId,
  isRegion,
  parseAccountId,
  parseArn,
  parseDuration,
  parseJsonOrYaml,
  parseKeyValues,
  parseList,
  parseRegion,
  partitionOfRegion,
} from '../src/parse.js';

/** The ParseError that fn throws (fails the test if it throws nothing or something else). */
function parseError(fn: () => unknown): ParseError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ParseError) return error;
    throw error;
  }
  throw new Error('expected a ParseError, nothing was thrown');
}

describe('parseDuration', () => {
  test.each([
    ['0', 0],
    ['500ms', 500],
    ['90s', 90_000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['1m30s', 90_000],
    ['2h0m5s250ms', 7_205_250],
    ['30s1m', 90_000],
    [' 15s ', 15_000],
    ['0s', 0],
  ])('%j -> %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  const expected = 'Expected a duration such as 90s, 10m, 1h30m or 500ms, got';
  test.each([
    ['30', `${expected} "30". Add a unit: 30s, 30m or 30ms`],
    ['1.5m', `${expected} "1.5m". Use whole numbers, e.g. 1m30s instead of 1.5m`],
    ['-5s', `${expected} "-5s". A duration cannot be negative`],
    ['10M', `${expected} "10M". Units are lowercase: h, m, s, ms`],
    ['10 m', `${expected} "10 m"`],
    ['1d', `${expected} "1d"`],
    ['', `${expected} ""`],
    ['m', `${expected} "m"`],
    ['PT5M', `${expected} "PT5M". Units are lowercase: h, m, s, ms`],
    ['99999999999999999h', `${expected} "99999999999999999h". The duration is too long`],
  ])('rejects %j', (text, message) => {
    expect(parseError(() => parseDuration(text)).message).toBe(message);
  });
});

describe('formatDuration', () => {
  test.each([
    [0, '0s'],
    [500, '500ms'],
    [1500, '1s500ms'],
    [90_000, '1m30s'],
    [5_400_000, '1h30m'],
    [6 * 3_600_000, '6h'],
  ])('%d -> %j', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toBe(ms);
  });
});

describe('parseList', () => {
  test.each([
    ['', {}, []],
    ['a', {}, ['a']],
    ['a,b, c', {}, ['a', 'b', 'c']],
    ['a\nb\r\nc', {}, ['a', 'b', 'c']],
    ['a,\n, b ,,\n\n c\n', {}, ['a', 'b', 'c']],
    ['a,b\nc,d', { commas: false }, ['a,b', 'c,d']],
    ['  \n , ', {}, []],
  ])('%j %j -> %j', (text, options, items) => {
    expect(parseList(text, options)).toEqual(items);
  });
});

describe('parseKeyValues', () => {
  test.each([
    ['', []],
    ['A=1', [['A', '1']]],
    [
      'A=1\nB=2',
      [
        ['A', '1'],
        ['B', '2'],
      ],
    ],
    ['URL=postgres://h/db?x=1&y=2', [['URL', 'postgres://h/db?x=1&y=2']]],
    ['LIST=a,b,c', [['LIST', 'a,b,c']]],
    ['A=1,B=2', [['A', '1,B=2']]],
    ['EMPTY=', [['EMPTY', '']]],
    [
      '  A = spaced value  \r\n\n  B=2  ',
      [
        ['A', 'spaced value'],
        ['B', '2'],
      ],
    ],
    ['_x9=y', [['_x9', 'y']]],
    ['A==b=', [['A', '=b=']]],
  ])('%j', (text, entries) => {
    expect([...parseKeyValues(text)]).toEqual(entries);
  });

  test('custom key pattern (docker labels)', () => {
    const labels = parseKeyValues('org.opencontainers.image.source=https://x/y', {
      keyPattern: /^[a-z0-9.-]+$/,
      keyExpected: 'lowercase, digits, . and -',
    });
    expect(labels.get('org.opencontainers.image.source')).toBe('https://x/y');
  });

  test.each([
    [
      'A=1\nB',
      'Expected KEY=VALUE lines. Line 2 has no "=" (one KEY=VALUE per line; a value cannot continue on the next line)',
    ],
    [
      '=x',
      'Expected KEY=VALUE lines. Line 1 has an empty key; keys are letters, digits and _, not starting with a digit',
    ],
    [
      '1A=x',
      'Expected KEY=VALUE lines. Line 1 has the key "1A"; keys are letters, digits and _, not starting with a digit',
    ],
    [
      'MY-VAR=x',
      'Expected KEY=VALUE lines. Line 1 has the key "MY-VAR"; keys are letters, digits and _, not starting with a digit',
    ],
    ['A=1\n\nB=2\nA=3', 'Expected KEY=VALUE lines. The key "A" is set twice, on lines 1 and 4'],
    // A secret-bearing value is never echoed, even when its key is what is wrong.
    [
      'DB-URL=postgres://app:pw@db',
      'Expected KEY=VALUE lines. Line 1 has the key "DB-URL"; keys are letters, digits and _, not starting with a digit',
    ],
    [
      'A=1\rpostgres://app:pw@db',
      'Expected KEY=VALUE lines. Line 2 has no "=" (one KEY=VALUE per line; a value cannot continue on the next line)',
    ],
  ])('rejects %j', (text, message) => {
    expect(parseError(() => parseKeyValues(text)).message).toBe(message);
  });

  test('a custom key rule is described in the message', () => {
    const error = parseError(() =>
      parseKeyValues('Bad Key=1', { keyPattern: /^\S+$/, keyExpected: 'without spaces' }),
    );
    expect(error.hint).toBe('Line 1 has the key "Bad Key"; keys are without spaces');
  });
});

describe('parseJsonOrYaml', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parse-test-'));
  writeFileSync(join(dir, 'td.json'), '{\n  "family": "web",\n  "cpu": "256"\n}\n');
  writeFileSync(join(dir, 'td.yaml'), 'family: web\ncontainers:\n  - name: app\n');
  writeFileSync(join(dir, 'flow.yml'), '{family: web}\n');
  writeFileSync(join(dir, 'bad.json'), '{\n  "family": "web",\n  "cpu": 256,\n}\n');
  writeFileSync(join(dir, 'bad.yaml'), 'family: web\ncpu: [1, 2\nmemory: 3\n');
  writeFileSync(join(dir, 'noext'), '[1, 2]');
  mkdirSync(join(dir, 'adir'));

  test.each([
    ['{"a": 1}', { a: 1 }],
    ['[1, "two", null]', [1, 'two', null]],
    ['  {"nested": {"b": [true]}}  ', { nested: { b: [true] } }],
    ['a: 1\nb: [x, y]', { a: 1, b: ['x', 'y'] }],
    ['- one\n- two\n', ['one', 'two']],
    ['key: "has: colon"\nbool: true\nnum: 010', { key: 'has: colon', bool: true, num: 10 }],
    ['# a comment\n# and another\n', null],
  ])('inline %j', (text, value) => {
    expect(parseJsonOrYaml(text)).toEqual({ value });
  });

  test.each([
    ['td.json', { family: 'web', cpu: '256' }],
    ['td.yaml', { family: 'web', containers: [{ name: 'app' }] }],
    ['flow.yml', { family: 'web' }],
    ['noext', [1, 2]],
  ])('file %s', (path, value) => {
    expect(parseJsonOrYaml(path, { cwd: dir })).toEqual({ value, file: join(dir, path) });
    expect(parseJsonOrYaml(join(dir, path))).toEqual({ value, file: join(dir, path) });
  });

  test.each([
    ['{"a": 1,}', '{"a": 1,}', 'line 1, column 9: Expected double-quoted property name', 1, 9],
    ['{"a": }', '{"a": }', "line 1, column 7: Unexpected token '}'", 1, 7],
    [
      '{\n  "a": 1\n  "b": 2\n}',
      '"b": 2',
      "line 3, column 3: Expected ',' or '}' after property value",
      3,
      3,
    ],
    ['[1, 2', '[1, 2', "line 1, column 6: Expected ',' or ']' after array element", 1, 6],
    [
      '{a: 1}',
      '{a: 1}',
      "line 1, column 2: Expected property name or '}' (YAML must be written in block style, one key: value per line)",
      1,
      2,
    ],
    [
      'a: b: c\nd: 1',
      'a: b: c',
      'line 1, column 4: Nested mappings are not allowed in compact mappings',
      1,
      4,
    ],
    ['a: 1\na: 2', 'a: 2', 'line 2, column 1: Map keys must be unique', 2, 1],
  ])(
    'inline %j is an error at its line and column, without quoting the line',
    (text, _line, hint, line, column) => {
      const error = parseError(() => parseJsonOrYaml(text));
      expect(error.given).toBeUndefined();
      expect(error.message).toBe(`Expected valid ${/^[{[]/.test(text) ? 'JSON' : 'YAML'}. ${hint}`);
      expect(error.hint).toBe(hint);
      expect(error.location).toEqual({ line, column, file: undefined });
    },
  );

  test('V8 quotes a cut part of a long JSON text in its message; the error does not', () => {
    const text = `{"family": "web", "containerDefinitions": [{"name": "app", "environment": [{"name": "PW", "value": "hunter2"},]}]}`;
    const error = parseError(() => parseJsonOrYaml(text));
    expect(error.message).toMatch(/^Expected valid JSON\. line 1, column \d+: Unexpected token '\]'$/);
    expect(error.message).not.toContain('hunter2');
  });

  test('a YAML alias bomb is a parse error of the input, not a crash', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...'bcdefghij'
        .split('')
        .map((k, i) => `${k}: &${k} [${Array(10).fill(`*${'abcdefghij'[i]}`).join(', ')}]`),
    ].join('\n');
    const error = parseError(() => parseJsonOrYaml(bomb));
    expect(error.expected).toBe('valid YAML');
    expect(error.given).toBeUndefined();
    expect(error.hint).toMatch(/^It cannot be expanded: .*alias/);
  });

  test('a JSON file error names the file, line and column', () => {
    const error = parseError(() => parseJsonOrYaml('bad.json', { cwd: dir }));
    expect(error.message).toBe(
      'Expected valid JSON, got "bad.json". bad.json:4:1: Expected double-quoted property name',
    );
    expect(error.location).toEqual({ file: join(dir, 'bad.json'), line: 4, column: 1 });
  });

  test('a YAML file error names the file, line and column', () => {
    const error = parseError(() => parseJsonOrYaml('bad.yaml', { cwd: dir }));
    expect(error.message).toBe(
      'Expected valid YAML, got "bad.yaml". bad.yaml:3:1: Flow sequence in block collection must be sufficiently indented and end with a ]',
    );
    expect(error.location).toEqual({ file: join(dir, 'bad.yaml'), line: 3, column: 1 });
  });

  const expected = 'Expected inline JSON or YAML, or the path to a .json, .yaml or .yml file';
  const inlineHint = 'Inline JSON must start with { or [; inline YAML must span several lines';
  test.each([
    [
      'missing.json',
      `${expected}, got "missing.json". No file at ${join(dir, 'missing.json')}. ${inlineHint}`,
    ],
    ['adir', `${expected}, got "adir". ${join(dir, 'adir')} is a directory. ${inlineHint}`],
    ['a: 1', `${expected}, got "a: 1". No file at ${join(dir, 'a: 1')}. ${inlineHint}`],
    ['  ', `${expected}, got "  ". The value is empty`],
  ])('%j', (text, message) => {
    expect(parseError(() => parseJsonOrYaml(text, { cwd: dir })).message).toBe(message);
  });
});

describe('regions', () => {
  test.each([
    'us-east-1',
    'us-west-2',
    'eu-central-2',
    'ap-southeast-5',
    'ap-northeast-3',
    'ca-west-1',
    'me-central-1',
    'af-south-1',
    'il-central-1',
    'mx-central-1',
    'sa-east-1',
    'cn-north-1',
    'cn-northwest-1',
    'us-gov-west-1',
    'us-gov-east-1',
    'us-iso-east-1',
    'us-isob-east-1',
    'us-isof-south-1',
    'eu-isoe-west-1',
    'eusc-de-east-1',
  ])('%s is a region', (region) => {
    expect(isRegion(region)).toBe(true);
    expect(parseRegion(region)).toBe(region);
  });

  test.each([
    ['', undefined],
    ['us-east', undefined],
    ['useast1', undefined],
    ['us-est-1', undefined],
    ['us-east-1 ', undefined],
    ['global', undefined],
    ['US-EAST-1', 'Region names are lowercase: us-east-1'],
    ['us-east-1a', 'That is an availability zone; its region is us-east-1'],
    ['eu-west-100', undefined],
  ])('%j is not a region', (text, hint) => {
    expect(isRegion(text)).toBe(false);
    const error = parseError(() => parseRegion(text));
    expect(error.message).toBe(
      `Expected an AWS region such as us-east-1, got ${JSON.stringify(text)}` + (hint ? `. ${hint}` : ''),
    );
  });

  test.each([
    ['us-east-1', 'aws'],
    ['il-central-1', 'aws'],
    ['cn-north-1', 'aws-cn'],
    ['us-gov-west-1', 'aws-us-gov'],
    ['us-iso-east-1', 'aws-iso'],
    ['us-isob-east-1', 'aws-iso-b'],
    ['eu-isoe-west-1', 'aws-iso-e'],
    ['us-isof-south-1', 'aws-iso-f'],
    ['eusc-de-east-1', 'aws-eusc'],
  ])('partition of %s is %s', (region, partition) => {
    expect(partitionOfRegion(region)).toBe(partition);
  });
});

describe('account ids', () => {
  test.each(['123456789012', '000000000000'])('%s is an account id', (id) => {
    expect(isAccountId(id)).toBe(true);
    expect(parseAccountId(id)).toBe(id);
  });

  test.each([
    ['1234-5678-9012', 'Write it without dashes or spaces: 123456789012'],
    ['1234 5678 9012', 'Write it without dashes or spaces: 123456789012'],
    ['12345678901', 'It has 11 digits; account IDs have 12, including leading zeros'],
    ['1234567890123', 'It has 13 digits; account IDs have 12, including leading zeros'],
    ['abc', undefined],
    ['', undefined],
  ])('%j is not an account id', (text, hint) => {
    expect(isAccountId(text)).toBe(false);
    expect(parseError(() => parseAccountId(text)).message).toBe(
      `Expected a 12-digit AWS account ID, got ${JSON.stringify(text)}` + (hint ? `. ${hint}` : ''),
    );
  });
});

describe('parseArn', () => {
  test.each([
    [
      'arn:aws:iam::123456789012:role/deploy',
      { service: 'iam', region: '', accountId: '123456789012', resourceType: 'role', resourceId: 'deploy' },
    ],
    ['arn:aws:iam::123456789012:role/path/to/deploy', { resourceType: 'role', resourceId: 'path/to/deploy' }],
    [
      'arn:aws:ecs:us-east-1:123456789012:cluster/prod',
      {
        partition: 'aws',
        service: 'ecs',
        region: 'us-east-1',
        resource: 'cluster/prod',
        resourceType: 'cluster',
      },
    ],
    [
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db/password-AbCdEf',
      { resource: 'secret:db/password-AbCdEf', resourceType: 'secret', resourceId: 'db/password-AbCdEf' },
    ],
    [
      'arn:aws:s3:::my-bucket',
      { accountId: '', region: '', resource: 'my-bucket', resourceType: undefined, resourceId: 'my-bucket' },
    ],
    ['arn:aws:iam::aws:policy/AdministratorAccess', { accountId: 'aws', resourceType: 'policy' }],
    ['arn:aws-cn:ecr:cn-north-1:123456789012:repository/app', { partition: 'aws-cn', region: 'cn-north-1' }],
    [
      'arn:aws-us-gov:ecs:us-gov-west-1:123456789012:service/c/s',
      { partition: 'aws-us-gov', resourceId: 'c/s' },
    ],
    ['arn:aws:sns:us-east-1:123456789012:topic', { resourceType: undefined, resourceId: 'topic' }],
  ])('%s', (text, fields) => {
    expect(parseArn(text)).toMatchObject(fields);
  });

  test('checks service and resource type when asked', () => {
    expect(
      parseArn('arn:aws:iam::123456789012:role/x', { service: 'iam', resourceType: 'role' }).resourceId,
    ).toBe('x');
  });

  const any = 'Expected an ARN, arn:<partition>:<service>:<region>:<account>:<resource>, got';
  const role = 'Expected an iam role ARN, arn:<partition>:iam:<region>:<account>:role/<name>, got';
  test.each([
    ['role/deploy', {}, `${any} "role/deploy". An ARN starts with "arn:"`],
    [
      'arn:aws:iam::123456789012',
      {},
      `${any} "arn:aws:iam::123456789012". An ARN has at least six parts separated by ":"`,
    ],
    [
      'arn:amazon:iam::123456789012:role/x',
      {},
      `${any} "arn:amazon:iam::123456789012:role/x". The partition "amazon" is not one of aws, aws-cn, aws-us-gov, ...`,
    ],
    [
      'arn:aws:IAM::123456789012:role/x',
      {},
      `${any} "arn:aws:IAM::123456789012:role/x". The service "IAM" is not a service name`,
    ],
    [
      'arn:aws:ecs:useast1:123456789012:cluster/x',
      {},
      `${any} "arn:aws:ecs:useast1:123456789012:cluster/x". The region "useast1" is not a region`,
    ],
    [
      'arn:aws:ecs:us-east-1:12345:cluster/x',
      {},
      `${any} "arn:aws:ecs:us-east-1:12345:cluster/x". The account "12345" is not a 12-digit account ID`,
    ],
    [
      'arn:aws:ecs:us-east-1:123456789012:',
      {},
      `${any} "arn:aws:ecs:us-east-1:123456789012:". The resource part is empty`,
    ],
    [
      'arn:aws:sts::123456789012:assumed-role/x/y',
      { service: 'iam', resourceType: 'role' },
      `${role} "arn:aws:sts::123456789012:assumed-role/x/y". This is an ARN for the service "sts", not "iam"`,
    ],
    [
      'arn:aws:iam::123456789012:user/x',
      { service: 'iam', resourceType: 'role' },
      `${role} "arn:aws:iam::123456789012:user/x". This ARN is for a user, not a role`,
    ],
    [
      'arn:aws:iam::123456789012:root',
      { service: 'iam', resourceType: 'role' },
      `${role} "arn:aws:iam::123456789012:root". The resource has no type; expected "role/..."`,
    ],
    [
      'arn:aws:ecs:us-east-1:123456789012:service/x',
      { service: 'ecs', resourceType: 'cluster' },
      'Expected an ecs cluster ARN, arn:<partition>:ecs:<region>:<account>:cluster/<name>, got "arn:aws:ecs:us-east-1:123456789012:service/x". This ARN is for a service, not a cluster',
    ],
    [
      'arn:aws:ecs:us-east-1:123456789012:cluster/x',
      { service: 'iam' },
      'Expected an iam ARN, arn:<partition>:iam:<region>:<account>:<resource>, got "arn:aws:ecs:us-east-1:123456789012:cluster/x". This is an ARN for the service "ecs", not "iam"',
    ],
  ])('rejects %s %j', (text, options, message) => {
    expect(parseError(() => parseArn(text, options)).message).toBe(message);
  });
});
