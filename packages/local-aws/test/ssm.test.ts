// SSM Parameter Store, judged by the AWS CLI v2 and the AWS SDK v3: String, StringList and
// SecureString parameters (KeyId alias/aws/ssm by default; the value encrypted unless
// WithDecryption), versions on Overwrite, `name:version` and `name:label` selectors, labels
// moving between versions, GetParameters with missing names, ARNs, IAM on the parameter ARN, and
// the resolver ECS reads parameter valueFroms with.
import { jest } from '@jest/globals';
import {
  DeleteParameterCommand,
  GetParameterCommand,
  GetParameterHistoryCommand,
  GetParametersCommand,
  LabelParameterVersionCommand,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { parseValueFrom, startLocalAws, type LocalAws } from '../src/index.js';
import { awsCli, withCli, type Boto3Target } from './helpers/query-judges.js';

jest.setTimeout(120_000);

const ACCOUNT = '000000000000';
const READER = { accessKeyId: 'AKIASSMREADER', secretAccessKey: 'reader-secret' };

let aws: LocalAws;
let local: Boto3Target;
const ssm = (credentials: { accessKeyId: string; secretAccessKey: string } = aws.credentials) =>
  new SSMClient({ endpoint: aws.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => ({ name: 'no error', message: '', $metadata: { httpStatusCode: 0 } }),
    (e: { name: string; message: string; $metadata: { httpStatusCode: number } }) => e,
  );

beforeAll(async () => {
  aws = await startLocalAws({
    credentials: [
      { accessKeyId: 'test', secretAccessKey: 'test' },
      {
        ...READER,
        policy: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: ['ssm:GetParameter', 'ssm:GetParameters'],
              Resource: `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/app/*`,
            },
          ],
        },
      },
    ],
  });
  local = { endpoint: aws.endpoint, credentials: aws.credentials };
});
afterAll(async () => {
  await aws?.stop();
});

describe('through the AWS CLI v2', () => {
  withCli(
    'put, overwrite, versions, labels, SecureString and GetParameters with a missing name',
    async () => {
      const cli = (...args: string[]) => awsCli(local, ['ssm', ...args]);
      expect(
        (await cli('put-parameter', '--name', '/cli/url', '--type', 'String', '--value', 'one')).json,
      ).toEqual({
        Version: 1,
        Tier: 'Standard',
      });
      const exists = await cli('put-parameter', '--name', '/cli/url', '--type', 'String', '--value', 'two');
      expect(exists.stderr).toContain(
        'An error occurred (ParameterAlreadyExists) when calling the PutParameter operation: The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
      );
      expect(
        (await cli('put-parameter', '--name', '/cli/url', '--value', 'two', '--overwrite')).json.Version,
      ).toBe(2);

      const latest = await cli('get-parameter', '--name', '/cli/url');
      expect(latest.json.Parameter).toMatchObject({
        Name: '/cli/url',
        Type: 'String',
        Value: 'two',
        Version: 2,
        ARN: `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/cli/url`,
        DataType: 'text',
      });
      const first = await cli('get-parameter', '--name', '/cli/url:1');
      expect(first.json.Parameter).toMatchObject({ Value: 'one', Version: 1, Selector: ':1' });

      const labelled = await cli(
        'label-parameter-version',
        '--name',
        '/cli/url',
        '--parameter-version',
        '1',
        '--labels',
        'stable',
        '9bad',
      );
      expect(labelled.json).toEqual({ InvalidLabels: ['9bad'], ParameterVersion: 1 });
      expect((await cli('get-parameter', '--name', '/cli/url:stable')).json.Parameter).toMatchObject({
        Value: 'one',
        Selector: ':stable',
      });
      await cli('label-parameter-version', '--name', '/cli/url', '--labels', 'stable');
      expect((await cli('get-parameter', '--name', '/cli/url:stable')).json.Parameter).toMatchObject({
        Value: 'two',
      });

      const secure = await cli(
        'put-parameter',
        '--name',
        '/cli/password',
        '--type',
        'SecureString',
        '--value',
        's3cret',
      );
      expect(secure.json.Version).toBe(1);
      const encrypted = (await cli('get-parameter', '--name', '/cli/password')).json.Parameter as Record<
        string,
        unknown
      >;
      expect(encrypted.Type).toBe('SecureString');
      expect(encrypted.Value).not.toBe('s3cret');
      expect(encrypted.Value).toMatch(/^[A-Za-z0-9+/]+=*$/);
      const decrypted = await cli('get-parameter', '--name', '/cli/password', '--with-decryption');
      expect((decrypted.json.Parameter as Record<string, unknown>).Value).toBe('s3cret');

      const many = await cli(
        'get-parameters',
        '--names',
        '/cli/url',
        '/cli/nothing',
        '/cli/url:7',
        '--with-decryption',
      );
      expect((many.json.Parameters as Array<Record<string, unknown>>).map((p) => p.Name)).toEqual([
        '/cli/url',
      ]);
      expect(many.json.InvalidParameters).toEqual(['/cli/nothing', '/cli/url:7']);

      const missing = await cli('get-parameter', '--name', '/cli/nothing');
      expect(missing.code).not.toBe(0);
      expect(missing.stderr).toContain(
        'An error occurred (ParameterNotFound) when calling the GetParameter operation',
      );
      const noVersion = await cli('get-parameter', '--name', '/cli/url:7');
      expect(noVersion.stderr).toContain(
        'An error occurred (ParameterVersionNotFound) when calling the GetParameter operation: Systems Manager could not find version 7 of /cli/url. Verify the version and try again.',
      );

      expect((await cli('delete-parameter', '--name', '/cli/url')).code).toBe(0);
      expect((await cli('delete-parameter', '--name', '/cli/url')).stderr).toContain('(ParameterNotFound)');
    },
  );
});

describe('through the AWS SDK v3', () => {
  test('StringList, KeyId, history, names and their validation', async () => {
    await ssm().send(new PutParameterCommand({ Name: 'plain', Type: 'StringList', Value: 'a,b' }));
    const plain = await ssm().send(new GetParameterCommand({ Name: 'plain' }));
    expect(plain.Parameter).toMatchObject({
      Type: 'StringList',
      Value: 'a,b',
      ARN: `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/plain`,
    });
    expect(plain.Parameter!.LastModifiedDate).toBeInstanceOf(Date);
    const byArn = await ssm().send(
      new GetParameterCommand({ Name: `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/plain` }),
    );
    expect(byArn.Parameter!.Value).toBe('a,b');

    await ssm().send(new PutParameterCommand({ Name: '/sdk/key', Type: 'SecureString', Value: 'x' }));
    await ssm().send(
      new PutParameterCommand({
        Name: '/sdk/key',
        Type: 'SecureString',
        Value: 'y',
        KeyId: 'alias/mine',
        Overwrite: true,
      }),
    );
    const history = await ssm().send(
      new GetParameterHistoryCommand({ Name: '/sdk/key', WithDecryption: true }),
    );
    expect(history.Parameters!.map((p) => [p.Version, p.Value, p.KeyId])).toEqual([
      [1, 'x', 'alias/aws/ssm'],
      [2, 'y', 'alias/mine'],
    ]);

    const noType = await failure(ssm().send(new PutParameterCommand({ Name: '/sdk/untyped', Value: 'x' })));
    expect(noType).toMatchObject({
      name: 'ValidationException',
      message: 'A parameter type is required when you create a parameter.',
    });
    const reserved = await failure(
      ssm().send(new PutParameterCommand({ Name: 'awsThing', Type: 'String', Value: 'x' })),
    );
    expect(reserved.name).toBe('ValidationException');
    const relative = await failure(
      ssm().send(new PutParameterCommand({ Name: 'a/b', Type: 'String', Value: 'x' })),
    );
    expect(relative).toMatchObject({
      name: 'ValidationException',
      message: 'Parameter name must be a fully qualified name.',
    });
    const none = await failure(ssm().send(new GetParameterCommand({ Name: '/sdk/none' })));
    expect(none.name).toBe('ParameterNotFound');
  });

  test('a label moves between versions; a label not there is an invalid parameter', async () => {
    for (const value of ['1', '2', '3'])
      await ssm().send(
        new PutParameterCommand({ Name: '/sdk/labels', Type: 'String', Value: value, Overwrite: true }),
      );
    await ssm().send(
      new LabelParameterVersionCommand({ Name: '/sdk/labels', ParameterVersion: 1, Labels: ['live'] }),
    );
    await ssm().send(
      new LabelParameterVersionCommand({ Name: '/sdk/labels', ParameterVersion: 3, Labels: ['live'] }),
    );
    const got = await ssm().send(
      new GetParametersCommand({ Names: ['/sdk/labels:live', '/sdk/labels:gone'] }),
    );
    expect(got.Parameters!.map((p) => [p.Value, p.Selector])).toEqual([['3', ':live']]);
    expect(got.InvalidParameters).toEqual(['/sdk/labels:gone']);
    const noVersion = await failure(
      ssm().send(
        new LabelParameterVersionCommand({ Name: '/sdk/labels', ParameterVersion: 9, Labels: ['x'] }),
      ),
    );
    expect(noVersion.name).toBe('ParameterVersionNotFound');
    await ssm().send(new DeleteParameterCommand({ Name: '/sdk/labels' }));
  });

  test('a key is held to its policy on the parameter ARN', async () => {
    await ssm().send(new PutParameterCommand({ Name: '/app/a', Type: 'String', Value: 'a' }));
    await ssm().send(new PutParameterCommand({ Name: '/ops/b', Type: 'String', Value: 'b' }));
    expect((await ssm(READER).send(new GetParameterCommand({ Name: '/app/a' }))).Parameter!.Value).toBe('a');
    const refused = await failure(ssm(READER).send(new GetParameterCommand({ Name: '/ops/b' })));
    expect(refused.name).toBe('AccessDeniedException');
    expect(refused.message).toContain(
      `is not authorized to perform: ssm:GetParameter on resource: arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/ops/b`,
    );
    const mixed = await failure(ssm(READER).send(new GetParametersCommand({ Names: ['/app/a', '/ops/b'] })));
    expect(mixed.name).toBe('AccessDeniedException');
    const put = await failure(
      ssm(READER).send(
        new PutParameterCommand({ Name: '/app/a', Type: 'String', Value: 'z', Overwrite: true }),
      ),
    );
    expect(put.name).toBe('AccessDeniedException');
  });
});

describe('the resolver ECS reads parameter valueFroms with', () => {
  const resolve = (valueFrom: string) =>
    aws.admin.secrets.resolve(parseValueFrom(valueFrom, ACCOUNT, 'us-east-1')!);

  test('names and ARNs, customer managed keys, and missing parameters', async () => {
    await ssm().send(
      new PutParameterCommand({ Name: '/ecs/token', Type: 'SecureString', Value: 't', KeyId: 'alias/ecs' }),
    );
    await ssm().send(new PutParameterCommand({ Name: 'flat', Type: 'SecureString', Value: 'f' }));
    const tokenArn = `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/ecs/token`;
    expect(resolve('/ecs/token')).toEqual({ arn: tokenArn, kmsKeyId: 'alias/ecs' });
    expect(resolve(tokenArn)).toEqual({ arn: tokenArn, kmsKeyId: 'alias/ecs' });
    const flatArn = `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/flat`;
    expect(resolve('flat')).toEqual({ arn: flatArn });
    expect(resolve(flatArn)).toEqual({ arn: flatArn });
    expect(resolve('/ecs/none')).toEqual({
      arn: `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/ecs/none`,
      missing: 'invalid parameters: /ecs/none',
    });
  });
});
