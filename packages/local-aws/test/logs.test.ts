// CloudWatch Logs, judged by the AWS CLI v2: log groups (create, describe with a prefix, the
// ResourceAlreadyExistsException), streams, PutLogEvents, GetLogEvents' forward and backward
// tokens, FilterLogEvents with a plain pattern and paging; IAM on log-group and log-stream ARNs.
import { jest } from '@jest/globals';
import { startLocalAws, type LocalAws } from '../src/index.js';
import { matchesFilter } from '../src/logs/index.js';
import { awsCli, withCli } from './helpers/ecs-judges.js';

jest.setTimeout(120_000);

test('filter patterns: empty, plain terms (all must appear), a quoted phrase', () => {
  expect(matchesFilter(undefined, 'anything')).toBe(true);
  expect(matchesFilter('ERROR', 'an ERROR here')).toBe(true);
  expect(matchesFilter('ERROR db', 'an ERROR in db')).toBe(true);
  expect(matchesFilter('ERROR db', 'an ERROR in cache')).toBe(false);
  expect(matchesFilter('"in db"', 'an ERROR in db')).toBe(true);
  expect(matchesFilter('"in db"', 'db in')).toBe(false);
});

describe('with the AWS CLI v2', () => {
  let aws: LocalAws;
  beforeAll(async () => {
    aws = await startLocalAws({ steppedClock: true, startTime: Date.UTC(2026, 0, 1) });
  });
  afterAll(async () => {
    await aws?.stop();
  });
  const cli = (...args: string[]) => awsCli(aws, ['logs', ...args]);

  withCli('log groups: create, describe by prefix, already exists, delete', async () => {
    expect((await cli('create-log-group', '--log-group-name', '/app/one')).code).toBe(0);
    expect((await cli('create-log-group', '--log-group-name', '/app/two')).code).toBe(0);
    expect((await cli('create-log-group', '--log-group-name', '/other')).code).toBe(0);
    const again = await cli('create-log-group', '--log-group-name', '/app/one');
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('ResourceAlreadyExistsException');
    expect(again.stderr).toContain('The specified log group already exists');

    const described = await cli('describe-log-groups', '--log-group-name-prefix', '/app/');
    expect(described.code).toBe(0);
    const groups = described.json.logGroups as Array<Record<string, unknown>>;
    expect(groups.map((g) => g.logGroupName)).toEqual(['/app/one', '/app/two']);
    expect(groups[0]).toMatchObject({
      arn: 'arn:aws:logs:us-east-1:000000000000:log-group:/app/one:*',
      creationTime: Date.UTC(2026, 0, 1),
      metricFilterCount: 0,
    });
    // The CLI pages through DescribeLogGroups' nextToken itself.
    const paged = await cli('describe-log-groups', '--page-size', '1');
    expect((paged.json.logGroups as unknown[]).length).toBe(3);

    expect((await cli('delete-log-group', '--log-group-name', '/other')).code).toBe(0);
    const gone = await cli('delete-log-group', '--log-group-name', '/other');
    expect(gone.stderr).toContain('ResourceNotFoundException');
    expect(gone.stderr).toContain('The specified log group does not exist.');
  });

  withCli('events: put, get with forward and backward tokens, filter across streams', async () => {
    await cli('create-log-group', '--log-group-name', 'ev');
    const noGroup = await cli('create-log-stream', '--log-group-name', 'nope', '--log-stream-name', 's');
    expect(noGroup.stderr).toContain('ResourceNotFoundException');
    expect((await cli('create-log-stream', '--log-group-name', 'ev', '--log-stream-name', 'a')).code).toBe(0);
    expect((await cli('create-log-stream', '--log-group-name', 'ev', '--log-stream-name', 'b')).code).toBe(0);
    const dup = await cli('create-log-stream', '--log-group-name', 'ev', '--log-stream-name', 'a');
    expect(dup.stderr).toContain('ResourceAlreadyExistsException');

    const t0 = aws.clock.now();
    const events = (n: number, word: string, from = 0) =>
      JSON.stringify(
        Array.from({ length: n }, (_, i) => ({ timestamp: t0 + (from + i) * 1000, message: `${word} ${i}` })),
      );
    const put = await cli(
      'put-log-events',
      '--log-group-name',
      'ev',
      '--log-stream-name',
      'a',
      '--log-events',
      events(5, 'line'),
    );
    expect(put.code).toBe(0);
    await cli(
      'put-log-events',
      '--log-group-name',
      'ev',
      '--log-stream-name',
      'b',
      '--log-events',
      events(2, 'ERROR', 10),
    );
    const unordered = await cli(
      'put-log-events',
      '--log-group-name',
      'ev',
      '--log-stream-name',
      'b',
      '--log-events',
      JSON.stringify([
        { timestamp: t0 + 2000, message: 'x' },
        { timestamp: t0 + 1000, message: 'y' },
      ]),
    );
    expect(unordered.stderr).toContain('InvalidParameterException');

    const get = (...args: string[]) =>
      cli('get-log-events', '--log-group-name', 'ev', '--log-stream-name', 'a', ...args);
    // From the head, two at a time; the forward token reads on; at the end it comes back unchanged.
    const first = await get('--start-from-head', '--limit', '2');
    expect((first.json.events as Array<{ message: string }>).map((e) => e.message)).toEqual([
      'line 0',
      'line 1',
    ]);
    const second = await get('--limit', '2', '--next-token', first.json.nextForwardToken as string);
    expect((second.json.events as Array<{ message: string }>).map((e) => e.message)).toEqual([
      'line 2',
      'line 3',
    ]);
    const third = await get('--limit', '2', '--next-token', second.json.nextForwardToken as string);
    expect((third.json.events as Array<{ message: string }>).map((e) => e.message)).toEqual(['line 4']);
    const end = await get('--limit', '2', '--next-token', third.json.nextForwardToken as string);
    expect(end.json.events).toEqual([]);
    expect(end.json.nextForwardToken).toBe(third.json.nextForwardToken);
    expect(end.json.nextForwardToken).toMatch(/^f\/\d{56}$/);
    // Without startFromHead: the last events; the backward token reads the ones before.
    const tail = await get('--limit', '2');
    expect((tail.json.events as Array<{ message: string }>).map((e) => e.message)).toEqual([
      'line 3',
      'line 4',
    ]);
    expect(tail.json.nextBackwardToken).toMatch(/^b\/\d{56}$/);
    const before = await get('--limit', '2', '--next-token', tail.json.nextBackwardToken as string);
    expect((before.json.events as Array<{ message: string }>).map((e) => e.message)).toEqual([
      'line 1',
      'line 2',
    ]);
    expect((first.json.events as Array<{ ingestionTime: number }>)[0]!.ingestionTime).toBe(t0);

    const streams = await cli('describe-log-streams', '--log-group-name', 'ev');
    expect(streams.json.logStreams).toEqual([
      expect.objectContaining({
        logStreamName: 'a',
        firstEventTimestamp: t0,
        lastEventTimestamp: t0 + 4000,
        arn: 'arn:aws:logs:us-east-1:000000000000:log-group:ev:log-stream:a',
      }),
      expect.objectContaining({ logStreamName: 'b' }),
    ]);

    const filtered = await cli('filter-log-events', '--log-group-name', 'ev', '--filter-pattern', 'ERROR');
    expect(filtered.code).toBe(0);
    expect(
      (filtered.json.events as Array<{ logStreamName: string; message: string }>).map((e) => [
        e.logStreamName,
        e.message,
      ]),
    ).toEqual([
      ['b', 'ERROR 0'],
      ['b', 'ERROR 1'],
    ]);
    const inA = await cli('filter-log-events', '--log-group-name', 'ev', '--log-stream-names', 'a');
    expect((inA.json.events as unknown[]).length).toBe(5);
    // The CLI follows nextToken across pages of one event.
    const paged = await cli('filter-log-events', '--log-group-name', 'ev', '--page-size', '1');
    expect((paged.json.events as Array<{ message: string }>).map((e) => e.message)).toEqual([
      'line 0',
      'line 1',
      'line 2',
      'line 3',
      'line 4',
      'ERROR 0',
      'ERROR 1',
    ]);
  });

  withCli('IAM: a key held to a policy on one log group', async () => {
    aws.identities.add({
      accessKeyId: 'AKIALOGSREADER',
      secretAccessKey: 'reader',
      policy: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['logs:GetLogEvents', 'logs:DescribeLogStreams'],
            Resource: 'arn:aws:logs:us-east-1:000000000000:log-group:ev:*',
          },
        ],
      },
    });
    const reader = {
      endpoint: aws.endpoint,
      credentials: { accessKeyId: 'AKIALOGSREADER', secretAccessKey: 'reader' },
    };
    const ok = await awsCli(reader, ['logs', 'describe-log-streams', '--log-group-name', 'ev']);
    expect(ok.code).toBe(0);
    const no = await awsCli(reader, ['logs', 'create-log-group', '--log-group-name', 'x']);
    expect(no.stderr).toContain('AccessDeniedException');
    expect(no.stderr).toContain(
      'is not authorized to perform: logs:CreateLogGroup on resource: arn:aws:logs:us-east-1:000000000000:log-group:x:log-stream:',
    );
  });
});
