// The ECR API through the AWS SDK v3 client against a running local-aws: every operation, its
// errors, the ImageScanComplete waiter, and bad input that leaves state unchanged.
import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  CreateRepositoryCommand,
  CreateRepositoryCreationTemplateCommand,
  DeleteLifecyclePolicyCommand,
  DeleteRepositoryCommand,
  DescribeImageScanFindingsCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  DescribeRepositoryCreationTemplatesCommand,
  type ECRClient,
  GetAuthorizationTokenCommand,
  GetLifecyclePolicyCommand,
  GetRepositoryPolicyCommand,
  ListImagesCommand,
  ListTagsForResourceCommand,
  PutImageCommand,
  PutImageTagMutabilityCommand,
  PutLifecyclePolicyCommand,
  SetRepositoryPolicyCommand,
  StartImageScanCommand,
  TagResourceCommand,
  UntagResourceCommand,
  waitUntilImageScanComplete,
} from '@aws-sdk/client-ecr';
import { buildImage, buildIndex, startLocalAws, type BuiltImage, type LocalAws } from '../src/index.js';
import { ecrClient } from './helpers/clients.js';
import { jsonCall } from './helpers/signing.js';
import { passwordFromToken, RegistryClient } from './helpers/registry-client.js';

let aws: LocalAws;
let ecr: ECRClient;
let registry: RegistryClient;

const LIFECYCLE = JSON.stringify({
  rules: [
    {
      rulePriority: 1,
      description: 'keep the last 10 images',
      selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 10 },
      action: { type: 'expire' },
    },
  ],
});
const POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'pull',
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::111122223333:root' },
      Action: ['ecr:BatchGetImage'],
    },
  ],
});

async function errorOf(p: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    const out: { name: string; message: string; status?: number } = { name: err.name, message: err.message };
    if (err.$metadata?.httpStatusCode !== undefined) out.status = err.$metadata.httpStatusCode;
    return out;
  }
  throw new Error('expected the call to fail');
}

/** A repository with `image` uploaded (blobs only) — PutImage does the rest. */
async function repoWithBlobs(name: string, ...images: BuiltImage[]): Promise<void> {
  await ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
  for (const image of images) {
    for (const b of [image.config, ...image.layers]) {
      const r = await registry.uploadMonolithic(name, b);
      expect(r.status).toBe(201);
    }
  }
}

const manifestText = (img: BuiltImage) => img.manifest.bytes.toString('utf8');

beforeAll(async () => {
  aws = await startLocalAws();
  ecr = ecrClient(aws);
  const token = await ecr.send(new GetAuthorizationTokenCommand({}));
  registry = new RegistryClient({
    baseUrl: aws.httpUrl,
    auth: { user: 'AWS', password: passwordFromToken(token.authorizationData![0]!.authorizationToken!) },
  });
});
afterAll(async () => {
  ecr?.destroy();
  await aws?.stop();
});

describe('repositories', () => {
  test('CreateRepository returns the repository with defaults, repositoryUri on the registry', async () => {
    const { repository } = await ecr.send(new CreateRepositoryCommand({ repositoryName: 'demo/app' }));
    const host = new URL(aws.httpsUrl).host;
    expect(repository).toMatchObject({
      repositoryArn: 'arn:aws:ecr:us-east-1:000000000000:repository/demo/app',
      registryId: '000000000000',
      repositoryName: 'demo/app',
      repositoryUri: `${host}/demo/app`,
      imageTagMutability: 'MUTABLE',
      imageScanningConfiguration: { scanOnPush: false },
      encryptionConfiguration: { encryptionType: 'AES256' },
    });
    expect(repository!.createdAt).toBeInstanceOf(Date);
    const again = await errorOf(ecr.send(new CreateRepositoryCommand({ repositoryName: 'demo/app' })));
    expect(again).toEqual({
      name: 'RepositoryAlreadyExistsException',
      message: "The repository with name 'demo/app' already exists in the registry with id '000000000000'",
      status: 400,
    });
  });

  test('CreateRepository with every option', async () => {
    const { repository } = await ecr.send(
      new CreateRepositoryCommand({
        repositoryName: 'opts/all',
        imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'latest' }],
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfiguration: { encryptionType: 'KMS' },
        tags: [{ Key: 'team', Value: 'platform' }],
      }),
    );
    expect(repository).toMatchObject({
      imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
      imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'latest' }],
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfiguration: { encryptionType: 'KMS' },
    });
    expect(repository!.encryptionConfiguration!.kmsKey).toMatch(
      /^arn:aws:kms:us-east-1:000000000000:key\/[0-9a-f-]{36}$/,
    );
    const tags = await ecr.send(new ListTagsForResourceCommand({ resourceArn: repository!.repositoryArn }));
    expect(tags.tags).toEqual([{ Key: 'team', Value: 'platform' }]);
  });

  test.each([
    [
      'Demo',
      "must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*'",
    ],
    ['a', 'must have length greater than or equal to 2'],
    [
      'demo/',
      "must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*'",
    ],
    ['x'.repeat(257), 'must have length less than or equal to 256'],
  ])('CreateRepository rejects the name %s', async (name, rule) => {
    const e = await errorOf(ecr.send(new CreateRepositoryCommand({ repositoryName: name })));
    expect(e).toEqual({
      name: 'InvalidParameterException',
      message: `Invalid parameter at 'repositoryName' failed to satisfy constraint: '${rule}'`,
      status: 400,
    });
  });

  test('CreateRepository validates mutability, filters and encryption', async () => {
    const withoutFilters = await errorOf(
      ecr.send(
        new CreateRepositoryCommand({
          repositoryName: 'bad/one',
          imageTagMutability: 'MUTABLE_WITH_EXCLUSION',
        }),
      ),
    );
    expect(withoutFilters.name).toBe('InvalidParameterException');
    const badEnum = await errorOf(
      ecr.send(
        new CreateRepositoryCommand({ repositoryName: 'bad/two', imageTagMutability: 'SOMETIMES' as never }),
      ),
    );
    expect(badEnum.message).toContain("Invalid parameter at 'imageTagMutability'");
    const aesWithKey = await errorOf(
      ecr.send(
        new CreateRepositoryCommand({
          repositoryName: 'bad/three',
          encryptionConfiguration: {
            encryptionType: 'AES256',
            kmsKey: 'arn:aws:kms:us-east-1:000000000000:key/x',
          },
        }),
      ),
    );
    expect(aesWithKey.name).toBe('InvalidParameterException');
    const names = (await ecr.send(new DescribeRepositoriesCommand({}))).repositories!.map(
      (r) => r.repositoryName,
    );
    expect(names.filter((n) => n!.startsWith('bad/'))).toEqual([]);
  });

  test('DescribeRepositories: by name, not found, pagination', async () => {
    for (const n of ['page/a', 'page/b', 'page/c'])
      await ecr.send(new CreateRepositoryCommand({ repositoryName: n }));
    const one = await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['page/b'] }));
    expect(one.repositories!.map((r) => r.repositoryName)).toEqual(['page/b']);
    const missing = await errorOf(
      ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['page/zzz'] })),
    );
    expect(missing).toEqual({
      name: 'RepositoryNotFoundException',
      message: "The repository with name 'page/zzz' does not exist in the registry with id '000000000000'",
      status: 400,
    });
    const seen: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await ecr.send(
        new DescribeRepositoriesCommand({ maxResults: 2, ...(nextToken ? { nextToken } : {}) }),
      );
      expect(page.repositories!.length).toBeLessThanOrEqual(2);
      seen.push(...page.repositories!.map((r) => r.repositoryName!));
      nextToken = page.nextToken;
    } while (nextToken);
    expect(seen).toEqual(expect.arrayContaining(['page/a', 'page/b', 'page/c', 'demo/app']));
    expect(new Set(seen).size).toBe(seen.length);
    const both = await errorOf(
      ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['page/a'], maxResults: 1 })),
    );
    expect(both.name).toBe('InvalidParameterException');
  });

  test('DeleteRepository refuses a repository with images unless forced', async () => {
    const img = buildImage([{ size: 2048 }]);
    await repoWithBlobs('del/me', img);
    await ecr.send(
      new PutImageCommand({ repositoryName: 'del/me', imageManifest: manifestText(img), imageTag: 'v1' }),
    );
    const e = await errorOf(ecr.send(new DeleteRepositoryCommand({ repositoryName: 'del/me' })));
    expect(e).toEqual({
      name: 'RepositoryNotEmptyException',
      message:
        "The repository with name 'del/me' in registry with id '000000000000' cannot be deleted because it still contains images",
      status: 400,
    });
    const { repository } = await ecr.send(
      new DeleteRepositoryCommand({ repositoryName: 'del/me', force: true }),
    );
    expect(repository!.repositoryName).toBe('del/me');
    const gone = await errorOf(ecr.send(new DeleteRepositoryCommand({ repositoryName: 'del/me' })));
    expect(gone.name).toBe('RepositoryNotFoundException');
  });
});

describe('GetAuthorizationToken', () => {
  test('a base64 AWS:<password> token valid 12 hours for the HTTPS registry', async () => {
    const { authorizationData } = await ecr.send(new GetAuthorizationTokenCommand({}));
    expect(authorizationData).toHaveLength(1);
    const data = authorizationData![0]!;
    expect(Buffer.from(data.authorizationToken!, 'base64').toString()).toMatch(/^AWS:\S+$/);
    expect(data.proxyEndpoint).toBe(`https://${new URL(aws.httpsUrl).host}`);
    const hours = (data.expiresAt!.getTime() - aws.clock.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(11.9);
    expect(hours).toBeLessThanOrEqual(12);
  });
});

describe('images', () => {
  const img = buildImage([{ size: 10_000 }, { size: 3000, gzip: false }]);
  const other = buildImage([{ size: 5000 }]);
  beforeAll(async () => {
    await repoWithBlobs('img/app', img, other);
  });

  test('PutImage stores a manifest and tags it; DescribeImages reports it as ECR does', async () => {
    const put = await ecr.send(
      new PutImageCommand({ repositoryName: 'img/app', imageManifest: manifestText(img), imageTag: 'v1' }),
    );
    expect(put.image).toMatchObject({
      registryId: '000000000000',
      repositoryName: 'img/app',
      imageId: { imageDigest: img.manifest.digest, imageTag: 'v1' },
      imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
    });
    const { imageDetails } = await ecr.send(new DescribeImagesCommand({ repositoryName: 'img/app' }));
    expect(imageDetails).toHaveLength(1);
    expect(imageDetails![0]).toMatchObject({
      imageDigest: img.manifest.digest,
      imageTags: ['v1'],
      imageSizeInBytes: img.sizeInBytes,
      imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactMediaType: 'application/vnd.oci.image.config.v1+json',
    });
    expect(imageDetails![0]!.imagePushedAt).toBeInstanceOf(Date);
    expect(imageDetails![0]!.imageScanStatus).toBeUndefined();
  });

  test('the same tag on the same manifest is ImageAlreadyExistsException', async () => {
    const e = await errorOf(
      ecr.send(
        new PutImageCommand({ repositoryName: 'img/app', imageManifest: manifestText(img), imageTag: 'v1' }),
      ),
    );
    expect(e).toEqual({
      name: 'ImageAlreadyExistsException',
      message: `Image with digest '${img.manifest.digest}' and tag 'v1' already exists in the repository with name 'img/app' in registry with id '000000000000'`,
      status: 400,
    });
  });

  test('retag without pulling layers: BatchGetImage then PutImage with a new tag', async () => {
    const got = await ecr.send(
      new BatchGetImageCommand({ repositoryName: 'img/app', imageIds: [{ imageTag: 'v1' }] }),
    );
    expect(got.failures).toEqual([]);
    expect(got.images![0]!.imageManifest).toBe(manifestText(img));
    await ecr.send(
      new PutImageCommand({
        repositoryName: 'img/app',
        imageManifest: got.images![0]!.imageManifest!,
        imageManifestMediaType: got.images![0]!.imageManifestMediaType!,
        imageTag: 'stable',
      }),
    );
    const r = await registry.request('GET', '/v2/img/app/manifests/stable', {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    expect(r.status).toBe(200);
    expect(r.header('docker-content-digest')).toBe(img.manifest.digest);
    const listed = await ecr.send(new ListImagesCommand({ repositoryName: 'img/app' }));
    expect(listed.imageIds).toEqual(
      expect.arrayContaining([
        { imageDigest: img.manifest.digest, imageTag: 'stable' },
        { imageDigest: img.manifest.digest, imageTag: 'v1' },
      ]),
    );
  });

  test('PutImage errors: missing layers, digest mismatch, bad JSON, unknown media type — state unchanged', async () => {
    const before = await ecr.send(new ListImagesCommand({ repositoryName: 'img/app' }));
    const unknownLayers = buildImage([{ size: 100 }]);
    const layers = await errorOf(
      ecr.send(
        new PutImageCommand({
          repositoryName: 'img/app',
          imageManifest: manifestText(unknownLayers),
          imageTag: 'x',
        }),
      ),
    );
    expect(layers.name).toBe('LayersNotFoundException');
    expect(layers.message).toContain(unknownLayers.layers[0]!.digest);
    expect(layers.message).toContain("required for pushing image into repository with name 'img/app'");
    const mismatch = await errorOf(
      ecr.send(
        new PutImageCommand({
          repositoryName: 'img/app',
          imageManifest: manifestText(other),
          imageDigest: img.manifest.digest,
          imageTag: 'x',
        }),
      ),
    );
    expect(mismatch.name).toBe('ImageDigestDoesNotMatchException');
    const badJson = await errorOf(
      ecr.send(new PutImageCommand({ repositoryName: 'img/app', imageManifest: '{not json', imageTag: 'x' })),
    );
    expect(badJson).toEqual({
      name: 'InvalidParameterException',
      message: "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'",
      status: 400,
    });
    const noType = JSON.parse(manifestText(other)) as Record<string, unknown>;
    delete noType.mediaType;
    const untyped = await errorOf(
      ecr.send(
        new PutImageCommand({
          repositoryName: 'img/app',
          imageManifest: JSON.stringify(noType),
          imageTag: 'x',
        }),
      ),
    );
    expect(untyped.message).toBe(
      "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'",
    );
    const weird = await errorOf(
      ecr.send(
        new PutImageCommand({
          repositoryName: 'img/app',
          imageManifest: manifestText(other),
          imageManifestMediaType: 'application/vnd.example.thing+json',
          imageTag: 'x',
        }),
      ),
    );
    expect(weird.name).toBe('InvalidParameterException');
    const tooBig = await errorOf(
      ecr.send(
        new PutImageCommand({ repositoryName: 'img/app', imageManifest: 'x'.repeat(4 * 1024 * 1024 + 1) }),
      ),
    );
    expect(tooBig.name).toBe('InvalidParameterException');
    const after = await ecr.send(new ListImagesCommand({ repositoryName: 'img/app' }));
    expect(after.imageIds).toEqual(before.imageIds);
  });

  test('an index needs its children: ReferencedImagesNotFoundException, then accepted', async () => {
    const index = buildIndex([img, other]);
    const e = await errorOf(
      ecr.send(
        new PutImageCommand({
          repositoryName: 'img/app',
          imageManifest: index.bytes.toString(),
          imageTag: 'multi',
        }),
      ),
    );
    expect(e.name).toBe('ReferencedImagesNotFoundException');
    expect(e.message).toContain(other.manifest.digest);
    await ecr.send(new PutImageCommand({ repositoryName: 'img/app', imageManifest: manifestText(other) }));
    const ok = await ecr.send(
      new PutImageCommand({
        repositoryName: 'img/app',
        imageManifest: index.bytes.toString(),
        imageTag: 'multi',
      }),
    );
    expect(ok.image!.imageId!.imageDigest).toBe(index.digest);
    expect(ok.image!.imageManifestMediaType).toBe('application/vnd.oci.image.index.v1+json');
    const untagged = await ecr.send(
      new DescribeImagesCommand({ repositoryName: 'img/app', filter: { tagStatus: 'UNTAGGED' } }),
    );
    expect(untagged.imageDetails!.map((d) => d.imageDigest)).toEqual([other.manifest.digest]);
    const del = await ecr.send(
      new BatchDeleteImageCommand({
        repositoryName: 'img/app',
        imageIds: [{ imageDigest: other.manifest.digest }],
      }),
    );
    expect(del.imageIds).toEqual([]);
    expect(del.failures![0]!.failureCode).toBe('ImageReferencedByManifestList');
  });

  test('DescribeImages and BatchGetImage failures', async () => {
    const missing = await errorOf(
      ecr.send(new DescribeImagesCommand({ repositoryName: 'img/app', imageIds: [{ imageTag: 'nope' }] })),
    );
    expect(missing).toEqual({
      name: 'ImageNotFoundException',
      message:
        "The image with imageId {imageDigest:'null', imageTag:'nope'} does not exist within the repository with name 'img/app' in the registry with id '000000000000'",
      status: 400,
    });
    const got = await ecr.send(
      new BatchGetImageCommand({
        repositoryName: 'img/app',
        imageIds: [{ imageTag: 'nope' }, { imageTag: 'v1', imageDigest: other.manifest.digest }, {}],
      }),
    );
    expect(got.images).toEqual([]);
    expect(got.failures!.map((f) => f.failureCode)).toEqual([
      'ImageNotFound',
      'ImageTagDoesNotMatchDigest',
      'MissingDigestAndTag',
    ]);
    const noRepo = await errorOf(ecr.send(new ListImagesCommand({ repositoryName: 'img/none' })));
    expect(noRepo.name).toBe('RepositoryNotFoundException');
  });

  test('BatchDeleteImage by tag removes the tag; the last tag deletes the image', async () => {
    const extra = buildImage([{ size: 700 }]);
    await repoWithBlobs('img/del', extra);
    await ecr.send(
      new PutImageCommand({ repositoryName: 'img/del', imageManifest: manifestText(extra), imageTag: 'a' }),
    );
    await ecr.send(
      new PutImageCommand({ repositoryName: 'img/del', imageManifest: manifestText(extra), imageTag: 'b' }),
    );
    const first = await ecr.send(
      new BatchDeleteImageCommand({ repositoryName: 'img/del', imageIds: [{ imageTag: 'a' }] }),
    );
    expect(first.imageIds).toEqual([{ imageDigest: extra.manifest.digest, imageTag: 'a' }]);
    expect(
      (await ecr.send(new DescribeImagesCommand({ repositoryName: 'img/del' }))).imageDetails![0]!.imageTags,
    ).toEqual(['b']);
    await ecr.send(new BatchDeleteImageCommand({ repositoryName: 'img/del', imageIds: [{ imageTag: 'b' }] }));
    expect((await ecr.send(new DescribeImagesCommand({ repositoryName: 'img/del' }))).imageDetails).toEqual(
      [],
    );
  });
});

describe('tag mutability', () => {
  const a = buildImage([{ size: 600 }]);
  const b = buildImage([{ size: 601 }]);
  beforeAll(async () => {
    await repoWithBlobs('mut/app', a, b);
  });

  test('IMMUTABLE: an existing tag cannot move (ImageTagAlreadyExistsException)', async () => {
    await ecr.send(
      new PutImageTagMutabilityCommand({ repositoryName: 'mut/app', imageTagMutability: 'IMMUTABLE' }),
    );
    await ecr.send(
      new PutImageCommand({ repositoryName: 'mut/app', imageManifest: manifestText(a), imageTag: 'v1' }),
    );
    const e = await errorOf(
      ecr.send(
        new PutImageCommand({ repositoryName: 'mut/app', imageManifest: manifestText(b), imageTag: 'v1' }),
      ),
    );
    expect(e).toEqual({
      name: 'ImageTagAlreadyExistsException',
      message:
        "The image tag 'v1' already exists in the 'mut/app' repository and cannot be overwritten because the tag is immutable.",
      status: 400,
    });
  });

  test('*_WITH_EXCLUSION: the filters flip mutability for matching tags', async () => {
    const set = await ecr.send(
      new PutImageTagMutabilityCommand({
        repositoryName: 'mut/app',
        imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'dev-*' }],
      }),
    );
    expect(set.imageTagMutability).toBe('IMMUTABLE_WITH_EXCLUSION');
    await ecr.send(
      new PutImageCommand({ repositoryName: 'mut/app', imageManifest: manifestText(a), imageTag: 'dev-1' }),
    );
    await ecr.send(
      new PutImageCommand({ repositoryName: 'mut/app', imageManifest: manifestText(b), imageTag: 'dev-1' }),
    );
    const e = await errorOf(
      ecr.send(
        new PutImageCommand({ repositoryName: 'mut/app', imageManifest: manifestText(b), imageTag: 'v1' }),
      ),
    );
    expect(e.name).toBe('ImageTagAlreadyExistsException');

    await ecr.send(
      new PutImageTagMutabilityCommand({
        repositoryName: 'mut/app',
        imageTagMutability: 'MUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'release-*' }],
      }),
    );
    await ecr.send(
      new PutImageCommand({ repositoryName: 'mut/app', imageManifest: manifestText(b), imageTag: 'v1' }),
    );
    await ecr.send(
      new PutImageCommand({
        repositoryName: 'mut/app',
        imageManifest: manifestText(a),
        imageTag: 'release-1',
      }),
    );
    const r = await errorOf(
      ecr.send(
        new PutImageCommand({
          repositoryName: 'mut/app',
          imageManifest: manifestText(b),
          imageTag: 'release-1',
        }),
      ),
    );
    expect(r.name).toBe('ImageTagAlreadyExistsException');
  });
});

describe('policies', () => {
  beforeAll(async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'pol/app' }));
  });

  test('lifecycle policy: not found, validated, put, get, delete', async () => {
    const none = await errorOf(ecr.send(new GetLifecyclePolicyCommand({ repositoryName: 'pol/app' })));
    expect(none).toEqual({
      name: 'LifecyclePolicyNotFoundException',
      message:
        "Lifecycle policy does not exist for the repository with name 'pol/app' in the registry with id '000000000000'",
      status: 400,
    });
    const bad = JSON.stringify({
      rules: [
        {
          rulePriority: 1,
          selection: { tagStatus: 'tagged', countType: 'imageCountMoreThan', countNumber: 1 },
          action: { type: 'expire' },
        },
      ],
      pad: 'x'.repeat(100),
    });
    const invalid = await errorOf(
      ecr.send(new PutLifecyclePolicyCommand({ repositoryName: 'pol/app', lifecyclePolicyText: bad })),
    );
    expect(invalid.name).toBe('InvalidParameterException');
    expect(invalid.message).toContain('Lifecycle policy validation failure');
    const put = await ecr.send(
      new PutLifecyclePolicyCommand({ repositoryName: 'pol/app', lifecyclePolicyText: LIFECYCLE }),
    );
    expect(put).toMatchObject({
      registryId: '000000000000',
      repositoryName: 'pol/app',
      lifecyclePolicyText: LIFECYCLE,
    });
    const got = await ecr.send(new GetLifecyclePolicyCommand({ repositoryName: 'pol/app' }));
    expect(got.lifecyclePolicyText).toBe(LIFECYCLE);
    await ecr.send(new DeleteLifecyclePolicyCommand({ repositoryName: 'pol/app' }));
    expect(
      (await errorOf(ecr.send(new DeleteLifecyclePolicyCommand({ repositoryName: 'pol/app' })))).name,
    ).toBe('LifecyclePolicyNotFoundException');
  });

  test('repository policy: not found, validated, set, get', async () => {
    const none = await errorOf(ecr.send(new GetRepositoryPolicyCommand({ repositoryName: 'pol/app' })));
    expect(none).toEqual({
      name: 'RepositoryPolicyNotFoundException',
      message:
        "Repository policy does not exist for the repository with name 'pol/app' in the registry with id '000000000000'",
      status: 400,
    });
    const bad = await errorOf(
      ecr.send(
        new SetRepositoryPolicyCommand({ repositoryName: 'pol/app', policyText: '{"Statement": []}' }),
      ),
    );
    expect(bad).toEqual({
      name: 'InvalidParameterException',
      message:
        "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'",
      status: 400,
    });
    await ecr.send(new SetRepositoryPolicyCommand({ repositoryName: 'pol/app', policyText: POLICY }));
    expect((await ecr.send(new GetRepositoryPolicyCommand({ repositoryName: 'pol/app' }))).policyText).toBe(
      POLICY,
    );
  });

  test('TagResource, UntagResource, ListTagsForResource; a bad ARN', async () => {
    const arn = 'arn:aws:ecr:us-east-1:000000000000:repository/pol/app';
    await ecr.send(
      new TagResourceCommand({
        resourceArn: arn,
        tags: [
          { Key: 'a', Value: '1' },
          { Key: 'b', Value: '2' },
        ],
      }),
    );
    await ecr.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ['a'] }));
    expect((await ecr.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual([
      { Key: 'b', Value: '2' },
    ]);
    const bad = await errorOf(
      ecr.send(new ListTagsForResourceCommand({ resourceArn: 'arn:aws:s3:::bucket' })),
    );
    expect(bad.name).toBe('InvalidParameterException');
    const reserved = await errorOf(
      ecr.send(new TagResourceCommand({ resourceArn: arn, tags: [{ Key: 'aws:x', Value: '1' }] })),
    );
    expect(reserved.name).toBe('InvalidTagParameterException');
  });
});

describe('scanning', () => {
  const img = buildImage([{ size: 900 }]);
  beforeAll(async () => {
    await repoWithBlobs('scan/app', img);
    await ecr.send(
      new PutImageCommand({ repositoryName: 'scan/app', imageManifest: manifestText(img), imageTag: 'v1' }),
    );
    aws.admin.ecr.setScanDuration(500);
  });

  test('ScanNotFoundException before a scan', async () => {
    const e = await errorOf(
      ecr.send(
        new DescribeImageScanFindingsCommand({ repositoryName: 'scan/app', imageId: { imageTag: 'v1' } }),
      ),
    );
    expect(e).toEqual({
      name: 'ScanNotFoundException',
      message:
        "Image scan does not exist for the image with '{imageDigest:'null', imageTag:'v1'}' in the repository with name 'scan/app' in the registry with id '000000000000'",
      status: 400,
    });
  });

  test('StartImageScan, then the SDK waiter sees COMPLETE with the fixture findings', async () => {
    aws.admin.ecr.setScanFindings(img.manifest.digest, {
      findings: [
        { name: 'CVE-2026-0001', severity: 'CRITICAL', uri: 'https://example.test/CVE-2026-0001' },
        { name: 'CVE-2026-0002', severity: 'LOW' },
        { name: 'CVE-2026-0003', severity: 'LOW' },
      ],
    });
    const started = await ecr.send(
      new StartImageScanCommand({ repositoryName: 'scan/app', imageId: { imageTag: 'v1' } }),
    );
    expect(started.imageScanStatus!.status).toBe('IN_PROGRESS');
    const first = await ecr.send(
      new DescribeImageScanFindingsCommand({ repositoryName: 'scan/app', imageId: { imageTag: 'v1' } }),
    );
    expect(first.imageScanStatus!.status).toBe('IN_PROGRESS');
    const waited = await waitUntilImageScanComplete(
      { client: ecr, maxWaitTime: 30, minDelay: 1, maxDelay: 1 },
      { repositoryName: 'scan/app', imageId: { imageTag: 'v1' } },
    );
    expect(waited.state).toBe('SUCCESS');
    const done = await ecr.send(
      new DescribeImageScanFindingsCommand({
        repositoryName: 'scan/app',
        imageId: { imageDigest: img.manifest.digest },
      }),
    );
    expect(done.imageScanStatus).toEqual({
      status: 'COMPLETE',
      description: 'The scan was completed successfully.',
    });
    expect(done.imageScanFindings!.findingSeverityCounts).toEqual({ CRITICAL: 1, LOW: 2 });
    expect(done.imageScanFindings!.findings!.map((f) => f.name)).toEqual([
      'CVE-2026-0001',
      'CVE-2026-0002',
      'CVE-2026-0003',
    ]);
    const detail = (await ecr.send(new DescribeImagesCommand({ repositoryName: 'scan/app' })))
      .imageDetails![0]!;
    expect(detail.imageScanStatus!.status).toBe('COMPLETE');
    expect(detail.imageScanFindingsSummary!.findingSeverityCounts).toEqual({ CRITICAL: 1, LOW: 2 });
    const again = await errorOf(
      ecr.send(new StartImageScanCommand({ repositoryName: 'scan/app', imageId: { imageTag: 'v1' } })),
    );
    expect(again.name).toBe('LimitExceededException');
  }, 30_000);

  test('scanOnPush starts a scan on push; a FAILED fixture fails the waiter', async () => {
    const pushed = buildImage([{ size: 901 }]);
    await ecr.send(
      new CreateRepositoryCommand({
        repositoryName: 'scan/onpush',
        imageScanningConfiguration: { scanOnPush: true },
      }),
    );
    for (const b of [pushed.config, ...pushed.layers]) await registry.uploadMonolithic('scan/onpush', b);
    aws.admin.ecr.setScanFindings(pushed.manifest.digest, {
      failWith: 'UnsupportedImageError: no OS detected',
    });
    await registry.putManifest('scan/onpush', 'v1', pushed.manifest);
    const status = await ecr.send(
      new DescribeImageScanFindingsCommand({ repositoryName: 'scan/onpush', imageId: { imageTag: 'v1' } }),
    );
    expect(status.imageScanStatus!.status).toBe('IN_PROGRESS');
    await expect(
      waitUntilImageScanComplete(
        { client: ecr, maxWaitTime: 30, minDelay: 1, maxDelay: 1 },
        { repositoryName: 'scan/onpush', imageId: { imageTag: 'v1' } },
      ),
    ).rejects.toThrow(/FAILURE/);
  }, 30_000);
});

describe('repository creation templates', () => {
  test('create, describe, duplicate', async () => {
    const created = await ecr.send(
      new CreateRepositoryCreationTemplateCommand({
        prefix: 'auto',
        appliedFor: ['CREATE_ON_PUSH'],
        imageTagMutability: 'IMMUTABLE',
        resourceTags: [{ Key: 'origin', Value: 'push' }],
        lifecyclePolicy: LIFECYCLE,
      }),
    );
    expect(created.repositoryCreationTemplate).toMatchObject({
      prefix: 'auto',
      appliedFor: ['CREATE_ON_PUSH'],
      imageTagMutability: 'IMMUTABLE',
      resourceTags: [{ Key: 'origin', Value: 'push' }],
    });
    const dup = await errorOf(
      ecr.send(
        new CreateRepositoryCreationTemplateCommand({ prefix: 'auto', appliedFor: ['CREATE_ON_PUSH'] }),
      ),
    );
    expect(dup.name).toBe('TemplateAlreadyExistsException');
    const listed = await ecr.send(new DescribeRepositoryCreationTemplatesCommand({ prefixes: ['auto'] }));
    expect(listed.repositoryCreationTemplates!.map((t) => t.prefix)).toEqual(['auto']);
    const bad = await errorOf(
      ecr.send(
        new CreateRepositoryCreationTemplateCommand({ prefix: 'Auto', appliedFor: ['CREATE_ON_PUSH'] }),
      ),
    );
    expect(bad.name).toBe('InvalidParameterException');
  });
});

describe('malformed requests (raw, signed)', () => {
  const target = (op: string) => `AmazonEC2ContainerRegistry_V20150921.${op}`;
  const call = (op: string, body: unknown) =>
    jsonCall(aws.endpoint, target(op), body, { service: 'ecr', credentials: aws.credentials });

  test('broken JSON is SerializationException; wrong member types too; unknown members are ignored', async () => {
    const broken = await call('CreateRepository', '{"repositoryName": "raw/one"');
    expect(broken.status).toBe(400);
    expect(broken.json().__type).toContain('SerializationException');
    const wrongType = await call('CreateRepository', { repositoryName: 5 });
    expect(wrongType.status).toBe(400);
    expect(wrongType.json().__type).toContain('SerializationException');
    const missing = await call('CreateRepository', {});
    expect(missing.json()).toMatchObject({
      __type: expect.stringContaining('InvalidParameterException'),
      message:
        "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'Member must not be null'",
    });
    const unknown = await call('CreateRepository', { repositoryName: 'raw/two', somethingNew: { x: 1 } });
    expect(unknown.status).toBe(200);
    const names = (await ecr.send(new DescribeRepositoriesCommand({}))).repositories!.map(
      (r) => r.repositoryName,
    );
    expect(names).toContain('raw/two');
    expect(names).not.toContain('raw/one');
  });

  test('every call is in the operation log under its IAM action', () => {
    const actions = new Set(aws.opLog.entries({ service: 'ecr' }).map((e) => e.action));
    for (const a of [
      'ecr:CreateRepository',
      'ecr:PutImage',
      'ecr:InitiateLayerUpload',
      'ecr:CompleteLayerUpload',
    ]) {
      expect(actions).toContain(a);
    }
  });
});
