// Secrets Manager, judged by the AWS CLI v2 and the AWS SDK v3: secrets created, described and
// read by name, full ARN and partial ARN; PutSecretValue moving AWSCURRENT and AWSPREVIOUS;
// reads by version id and stage; deletion with a recovery window (the secret answers "marked for
// deletion"), restore, and deletion without recovery; IAM on the secret's ARN; and the resolver
// ECS reads `secrets[].valueFrom` with.
import { jest } from '@jest/globals';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { parseValueFrom, startLocalAws, type LocalAws } from '../src/index.js';
import { awsCli, withCli, type Boto3Target } from './helpers/query-judges.js';

jest.setTimeout(120_000);

const ACCOUNT = '000000000000';
const READER = { accessKeyId: 'AKIAREADER', secretAccessKey: 'reader-secret' };

let aws: LocalAws;
let local: Boto3Target;
const sm = (credentials: { accessKeyId: string; secretAccessKey: string } = aws.credentials) =>
  new SecretsManagerClient({ endpoint: aws.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
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
              Action: 'secretsmanager:GetSecretValue',
              Resource: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:app/db-??????`,
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
  withCli('create, describe, put, get by stage and version id, delete and restore', async () => {
    const created = await awsCli(local, [
      'secretsmanager',
      'create-secret',
      '--name',
      'cli/one',
      '--secret-string',
      'v1',
      '--description',
      'first',
    ]);
    expect(created.stderr).toBe('');
    const arn = created.json.ARN as string;
    expect(arn).toMatch(
      new RegExp(`^arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:cli/one-[A-Za-z0-9]{6}$`),
    );
    expect(created.json.Name).toBe('cli/one');
    const v1 = created.json.VersionId as string;
    expect(v1).toMatch(/^[0-9a-f-]{36}$/);

    const put = await awsCli(local, [
      'secretsmanager',
      'put-secret-value',
      '--secret-id',
      arn,
      '--secret-string',
      'v2',
    ]);
    expect(put.json).toMatchObject({ ARN: arn, Name: 'cli/one', VersionStages: ['AWSCURRENT'] });
    const v2 = put.json.VersionId as string;

    const described = await awsCli(local, ['secretsmanager', 'describe-secret', '--secret-id', 'cli/one']);
    expect(described.json).toMatchObject({
      ARN: arn,
      Name: 'cli/one',
      Description: 'first',
      VersionIdsToStages: { [v1]: ['AWSPREVIOUS'], [v2]: ['AWSCURRENT'] },
    });
    expect(described.json.KmsKeyId).toBeUndefined();
    expect(typeof described.json.CreatedDate).toBe('string');

    const current = await awsCli(local, ['secretsmanager', 'get-secret-value', '--secret-id', 'cli/one']);
    expect(current.json).toMatchObject({
      ARN: arn,
      SecretString: 'v2',
      VersionId: v2,
      VersionStages: ['AWSCURRENT'],
    });
    const previous = await awsCli(local, [
      'secretsmanager',
      'get-secret-value',
      '--secret-id',
      'cli/one',
      '--version-stage',
      'AWSPREVIOUS',
    ]);
    expect(previous.json).toMatchObject({ SecretString: 'v1', VersionId: v1 });
    const byId = await awsCli(local, [
      'secretsmanager',
      'get-secret-value',
      '--secret-id',
      arn,
      '--version-id',
      v1,
    ]);
    expect(byId.json).toMatchObject({ SecretString: 'v1', VersionStages: ['AWSPREVIOUS'] });
    const pending = await awsCli(local, [
      'secretsmanager',
      'get-secret-value',
      '--secret-id',
      arn,
      '--version-stage',
      'AWSPENDING',
    ]);
    expect(pending.code).not.toBe(0);
    expect(pending.stderr).toContain(
      "An error occurred (ResourceNotFoundException) when calling the GetSecretValue operation: Secrets Manager can't find the specified secret value for staging label: AWSPENDING",
    );

    const deleted = await awsCli(local, [
      'secretsmanager',
      'delete-secret',
      '--secret-id',
      'cli/one',
      '--recovery-window-in-days',
      '7',
    ]);
    expect(deleted.json).toMatchObject({ ARN: arn, Name: 'cli/one' });
    expect(typeof deleted.json.DeletionDate).toBe('string');
    const marked = await awsCli(local, ['secretsmanager', 'get-secret-value', '--secret-id', 'cli/one']);
    expect(marked.stderr).toContain(
      "An error occurred (InvalidRequestException) when calling the GetSecretValue operation: You can't perform this operation on the secret because it was marked for deletion.",
    );
    const stillDescribed = await awsCli(local, [
      'secretsmanager',
      'describe-secret',
      '--secret-id',
      'cli/one',
    ]);
    expect(typeof stillDescribed.json.DeletedDate).toBe('string');

    const restored = await awsCli(local, ['secretsmanager', 'restore-secret', '--secret-id', 'cli/one']);
    expect(restored.json).toEqual({ ARN: arn, Name: 'cli/one' });
    const forced = await awsCli(local, [
      'secretsmanager',
      'delete-secret',
      '--secret-id',
      arn,
      '--force-delete-without-recovery',
    ]);
    expect(forced.code).toBe(0);
    const gone = await awsCli(local, ['secretsmanager', 'get-secret-value', '--secret-id', 'cli/one']);
    expect(gone.stderr).toContain(
      "An error occurred (ResourceNotFoundException) when calling the GetSecretValue operation: Secrets Manager can't find the specified secret.",
    );
  });
});

describe('through the AWS SDK v3', () => {
  test('a partial ARN names the secret; KmsKeyId is kept; names are unique', async () => {
    const created = await sm().send(
      new CreateSecretCommand({ Name: 'sdk/kms', SecretString: '{"user":"app"}', KmsKeyId: 'alias/app' }),
    );
    const partial = created.ARN!.slice(0, -7);
    expect(partial).toBe(`arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:sdk/kms`);
    const value = await sm().send(new GetSecretValueCommand({ SecretId: partial }));
    expect(value).toMatchObject({ ARN: created.ARN, Name: 'sdk/kms', SecretString: '{"user":"app"}' });
    expect(value.CreatedDate).toBeInstanceOf(Date);
    const described = await sm().send(new DescribeSecretCommand({ SecretId: created.ARN }));
    expect(described.KmsKeyId).toBe('alias/app');

    const again = await failure(sm().send(new CreateSecretCommand({ Name: 'sdk/kms', SecretString: 'x' })));
    expect(again).toMatchObject({
      name: 'ResourceExistsException',
      message: 'The operation failed because the secret sdk/kms already exists.',
    });
    const both = await failure(
      sm().send(
        new CreateSecretCommand({ Name: 'sdk/both', SecretString: 'x', SecretBinary: Buffer.from('y') }),
      ),
    );
    expect(both.name).toBe('InvalidParameterException');
    const missing = await failure(sm().send(new GetSecretValueCommand({ SecretId: 'no/such' })));
    expect(missing).toMatchObject({
      name: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret.",
    });
  });

  test('PutSecretValue with its own token and stages; a repeated token is idempotent', async () => {
    await sm().send(new CreateSecretCommand({ Name: 'sdk/stages', SecretString: 'a' }));
    const token = '11111111-2222-3333-4444-555555555555';
    const pending = await sm().send(
      new PutSecretValueCommand({
        SecretId: 'sdk/stages',
        SecretString: 'b',
        ClientRequestToken: token,
        VersionStages: ['AWSPENDING'],
      }),
    );
    expect(pending).toMatchObject({ VersionId: token, VersionStages: ['AWSPENDING'] });
    expect((await sm().send(new GetSecretValueCommand({ SecretId: 'sdk/stages' }))).SecretString).toBe('a');
    const repeated = await sm().send(
      new PutSecretValueCommand({ SecretId: 'sdk/stages', SecretString: 'b', ClientRequestToken: token }),
    );
    expect(repeated.VersionId).toBe(token);
    const changed = await failure(
      sm().send(
        new PutSecretValueCommand({ SecretId: 'sdk/stages', SecretString: 'c', ClientRequestToken: token }),
      ),
    );
    expect(changed.name).toBe('ResourceExistsException');
  });

  test('ListSecrets leaves out secrets scheduled for deletion unless asked', async () => {
    await sm().send(new CreateSecretCommand({ Name: 'list/keep', SecretString: 'a' }));
    await sm().send(new CreateSecretCommand({ Name: 'list/drop', SecretString: 'a' }));
    await sm().send(new DeleteSecretCommand({ SecretId: 'list/drop' }));
    const names = async (IncludePlannedDeletion: boolean) =>
      (
        await sm().send(
          new ListSecretsCommand({ IncludePlannedDeletion, Filters: [{ Key: 'name', Values: ['list/'] }] }),
        )
      ).SecretList!.map((s) => s.Name);
    expect(await names(false)).toEqual(['list/keep']);
    expect(await names(true)).toEqual(['list/keep', 'list/drop']);
  });

  test('a key is held to its policy on the secret ARN', async () => {
    await sm().send(new CreateSecretCommand({ Name: 'app/db', SecretString: 'pw' }));
    const other = await sm().send(new CreateSecretCommand({ Name: 'app/other', SecretString: 'pw' }));
    expect((await sm(READER).send(new GetSecretValueCommand({ SecretId: 'app/db' }))).SecretString).toBe(
      'pw',
    );
    const refused = await failure(sm(READER).send(new GetSecretValueCommand({ SecretId: 'app/other' })));
    expect(refused.name).toBe('AccessDeniedException');
    expect(refused.message).toBe(
      `User: arn:aws:iam::${ACCOUNT}:user/AKIAREADER is not authorized to perform: secretsmanager:GetSecretValue on resource: ${other.ARN} because no identity-based policy allows the secretsmanager:GetSecretValue action`,
    );
    const describe = await failure(sm(READER).send(new DescribeSecretCommand({ SecretId: 'app/db' })));
    expect(describe.name).toBe('AccessDeniedException');
  });
});

describe('the resolver ECS reads valueFrom with', () => {
  const resolve = (valueFrom: string) =>
    aws.admin.secrets.resolve(parseValueFrom(valueFrom, ACCOUNT, 'us-east-1')!);

  test('full and partial ARNs, JSON keys, stages, version ids, KMS keys and what is missing', async () => {
    const created = await sm().send(
      new CreateSecretCommand({
        Name: 'ecs/creds',
        SecretString: '{"username":"app","password":"pw"}',
        KmsKeyId: 'arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      }),
    );
    const arn = created.ARN!;
    const partial = arn.slice(0, -7);
    const kmsKeyId = 'arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    expect(resolve(arn)).toEqual({ arn, kmsKeyId });
    expect(resolve(partial)).toEqual({ arn, kmsKeyId });
    expect(resolve(`${arn}:password::`)).toEqual({ arn, kmsKeyId });
    expect(resolve(`${arn}:token::`)).toEqual({
      arn,
      kmsKeyId,
      missing: 'retrieved secret from Secrets Manager did not contain json key token',
    });
    expect(resolve(`${arn}::AWSPREVIOUS:`).missing).toBe(
      "ResourceNotFoundException: Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS",
    );
    expect(resolve(`${arn}:::${created.VersionId}`)).toEqual({ arn, kmsKeyId });
    const nowhere = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:ecs/none-AbCdEf`;
    expect(resolve(nowhere)).toEqual({
      arn: nowhere,
      missing: "ResourceNotFoundException: Secrets Manager can't find the specified secret.",
    });

    const plain = await sm().send(new CreateSecretCommand({ Name: 'ecs/plain', SecretString: 'x' }));
    expect(resolve(plain.ARN!)).toEqual({ arn: plain.ARN });
    await sm().send(new DeleteSecretCommand({ SecretId: 'ecs/plain', RecoveryWindowInDays: 7 }));
    expect(resolve(plain.ARN!).missing).toBe(
      "InvalidRequestException: You can't perform this operation on the secret because it was marked for deletion.",
    );
  });
});

test('a secret scheduled for deletion is gone when its recovery window ends', async () => {
  const stepped = await startLocalAws({ steppedClock: true });
  try {
    const client = new SecretsManagerClient({
      endpoint: stepped.endpoint,
      region: 'us-east-1',
      credentials: stepped.credentials,
      maxAttempts: 1,
    });
    await client.send(new CreateSecretCommand({ Name: 'short/lived', SecretString: 'x' }));
    await client.send(new DeleteSecretCommand({ SecretId: 'short/lived', RecoveryWindowInDays: 7 }));
    await stepped.clock.advance(7 * 86_400_000 - 1000);
    expect(
      (await client.send(new DescribeSecretCommand({ SecretId: 'short/lived' }))).DeletedDate,
    ).toBeInstanceOf(Date);
    await stepped.clock.advance(1000);
    const gone = await failure(client.send(new DescribeSecretCommand({ SecretId: 'short/lived' })));
    expect(gone.name).toBe('ResourceNotFoundException');
    await client.send(new CreateSecretCommand({ Name: 'short/lived', SecretString: 'again' }));
  } finally {
    await stepped.stop();
  }
});
