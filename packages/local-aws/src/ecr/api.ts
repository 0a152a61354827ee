// The ECR control plane (AWS JSON 1.1, target prefix AmazonEC2ContainerRegistry_V20150921).
// Shapes, validation and error codes follow the ECR API reference; timestamps are epoch seconds.
import { AwsError, type JsonOperation, type RequestContext } from '../service.js';
import type { BlobStore } from '../registry/blobs.js';
import { mintPassword, TOKEN_LIFETIME_MS } from './auth.js';
import {
  deleteImage,
  managedKmsKeyArn,
  newRepository,
  PushError,
  putManifest,
  referencedBy,
  registryOf,
  repositoryArn,
  scanView,
  severityCounts,
  TAG_MUTABILITIES,
  tagsOf,
  type CreationTemplate,
  type EcrState,
  type Encryption,
  type ExclusionFilter,
  type ImageRecord,
  type RegistryState,
  type RepositoryState,
  type ScanView,
  type Tag,
  type TagMutability,
} from './model.js';
import {
  checkRepositoryName,
  invalid,
  optBool,
  optInt,
  optList,
  optObject,
  optString,
  REGISTRY_ID_RE,
  repositoryName,
  reqList,
  reqObject,
  reqString,
  stringList,
  structList,
  type Input,
} from './validate.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const MAX_TAGS = 50;
/** ECR's limit on wildcards (*) in one tagPatternList entry. */
const MAX_PATTERN_WILDCARDS = 4;

const secs = (ms: number): number => ms / 1000;

/** What the operations need to know of the server beyond the request. */
export interface EcrServerFacts {
  /**
   * host:port of the registry of an account and region: an HTTPS listener whose certificate comes
   * from the local-aws CA (what docker on podman and skopeo trust). Opened before the call.
   */
  registryHost(accountId: string, region: string): string;
  /** The time registry tokens expire on (the server's credential clock). */
  credentialNow(): number;
}

export function createEcrOperations(
  ecr: EcrState,
  blobs: BlobStore,
  save: () => void,
  facts: EcrServerFacts,
): Record<string, JsonOperation> {
  // ---- lookups and errors ----
  const registryFor = (input: Input, ctx: RequestContext): RegistryState => {
    const id = optString(input, 'registryId', { pattern: REGISTRY_ID_RE, patternText: '[0-9]{12}' });
    return registryOf(ecr, id ?? ctx.identity.accountId, ctx.region);
  };
  const repoNotFound = (reg: RegistryState, name: string): AwsError =>
    new AwsError(
      'RepositoryNotFoundException',
      `The repository with name '${name}' does not exist in the registry with id '${reg.accountId}'`,
    );
  const repoOf = (input: Input, ctx: RequestContext): { reg: RegistryState; repo: RepositoryState } => {
    const name = repositoryName(input);
    const reg = registryFor(input, ctx);
    const repo = reg.repositories[name];
    if (!repo) throw repoNotFound(reg, name);
    return { reg, repo };
  };
  const idText = (id: { imageDigest?: string; imageTag?: string }): string =>
    `{imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'}`;
  const imageNotFound = (reg: RegistryState, repo: RepositoryState, id: ImageId): AwsError =>
    new AwsError(
      'ImageNotFoundException',
      `The image with imageId ${idText(id)} does not exist within the repository with name '${repo.name}' in the registry with id '${reg.accountId}'`,
    );

  const repositoryOut = (reg: RegistryState, repo: RepositoryState) => {
    const out: Record<string, unknown> = {
      repositoryArn: repositoryArn(reg, repo.name),
      registryId: reg.accountId,
      repositoryName: repo.name,
      repositoryUri: `${facts.registryHost(reg.accountId, reg.region)}/${repo.name}`,
      createdAt: secs(repo.createdAt),
      imageTagMutability: repo.imageTagMutability,
      imageScanningConfiguration: { scanOnPush: repo.scanOnPush },
      encryptionConfiguration: { ...repo.encryption },
    };
    if (repo.exclusionFilters.length > 0) out.imageTagMutabilityExclusionFilters = repo.exclusionFilters;
    return out;
  };

  const imageDetail = (reg: RegistryState, repo: RepositoryState, img: ImageRecord, now: number) => {
    const tags = tagsOf(repo, img.digest);
    const out: Record<string, unknown> = {
      registryId: reg.accountId,
      repositoryName: repo.name,
      imageDigest: img.digest,
      imageSizeInBytes: img.sizeInBytes,
      imagePushedAt: secs(img.pushedAt),
      imageManifestMediaType: img.mediaType,
    };
    if (tags.length > 0) out.imageTags = tags;
    if (img.artifactMediaType) out.artifactMediaType = img.artifactMediaType;
    if (img.subject) out.subjectManifestDigest = img.subject;
    if (img.lastPulledAt) out.lastRecordedPullTime = secs(img.lastPulledAt);
    const scan = scanView(ecr, img, now);
    if (scan) {
      out.imageScanStatus = scanStatusOut(scan);
      if (scan.status === 'COMPLETE') out.imageScanFindingsSummary = findingsSummary(scan);
    }
    return out;
  };

  /** Resolves an ImageIdentifier; undefined with a failure code when it does not resolve. */
  const resolve = (
    repo: RepositoryState,
    id: ImageId,
  ): { image: ImageRecord } | { failureCode: string; failureReason: string } => {
    if (id.imageDigest === undefined && id.imageTag === undefined) {
      return {
        failureCode: 'MissingDigestAndTag',
        failureReason: 'Invalid request parameters: both tag and digest cannot be null',
      };
    }
    if (id.imageDigest !== undefined && !/^[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+$/.test(id.imageDigest)) {
      return {
        failureCode: 'InvalidImageDigest',
        failureReason:
          "Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'",
      };
    }
    if (id.imageTag !== undefined && (id.imageTag.length < 1 || id.imageTag.length > 300)) {
      return {
        failureCode: 'InvalidImageTag',
        failureReason: 'Invalid request parameters: image tag is invalid',
      };
    }
    const byTag = id.imageTag !== undefined ? repo.imageTags[id.imageTag] : undefined;
    if (id.imageTag !== undefined && id.imageDigest !== undefined) {
      if (byTag === undefined || !repo.images[id.imageDigest]) {
        return { failureCode: 'ImageNotFound', failureReason: 'Requested image not found' };
      }
      if (byTag !== id.imageDigest) {
        return {
          failureCode: 'ImageTagDoesNotMatchDigest',
          failureReason: 'Invalid request parameters: given tag does not map to the given digest',
        };
      }
    }
    const digest = id.imageDigest ?? byTag;
    const image = digest !== undefined ? repo.images[digest] : undefined;
    if (!image) return { failureCode: 'ImageNotFound', failureReason: 'Requested image not found' };
    return { image };
  };

  /**
   * The images a batch operation names, each resolved when the loop reaches it (after what the
   * loop did to the ones before); those that do not resolve go to `failures`.
   */
  function* batchImages(
    repo: RepositoryState,
    ids: ImageId[],
    failures: unknown[],
  ): Generator<{ id: ImageId; image: ImageRecord }> {
    for (const id of ids) {
      const r = resolve(repo, id);
      if ('image' in r) yield { id, image: r.image };
      else failures.push({ imageId: id, ...r });
    }
  }

  /** Resolves an ImageIdentifier, or throws what ECR throws when one operation names one image. */
  const existingImage = (reg: RegistryState, repo: RepositoryState, id: ImageId): ImageRecord => {
    const r = resolve(repo, id);
    if ('image' in r) return r.image;
    if (r.failureCode === 'ImageNotFound' || r.failureCode === 'ImageTagDoesNotMatchDigest')
      throw imageNotFound(reg, repo, id);
    throw new AwsError('InvalidParameterException', r.failureReason);
  };

  const imageIdOf = (v: Input, path: string): ImageId => {
    const id: ImageId = {};
    const d = optString(v, 'imageDigest', {}, `${path}.imageDigest`);
    const t = optString(v, 'imageTag', {}, `${path}.imageTag`);
    if (d !== undefined) id.imageDigest = d;
    if (t !== undefined) id.imageTag = t;
    return id;
  };

  const imageIds = (input: Input, required: boolean): ImageId[] | undefined => {
    const list = required
      ? reqList(input, 'imageIds', { min: 1, max: 100 })
      : optList(input, 'imageIds', { min: 1, max: 100 });
    return list && structList(list, 'imageIds').map((v, i) => imageIdOf(v, `imageIds.${i + 1}.member`));
  };

  const page = <T>(items: T[], input: Input, defaultMax: number): { items: T[]; nextToken?: string } => {
    const max = optInt(input, 'maxResults', { min: 1, max: 1000 }) ?? defaultMax;
    const token = optString(input, 'nextToken');
    let start = 0;
    if (token !== undefined) {
      const n = Number(
        Buffer.from(token, 'base64')
          .toString('utf8')
          .replace(/^local-aws:/, ''),
      );
      if (
        !Buffer.from(token, 'base64').toString('utf8').startsWith('local-aws:') ||
        !Number.isInteger(n) ||
        n < 0
      ) {
        throw invalid('nextToken', 'Invalid NextToken');
      }
      start = n;
    }
    const slice = items.slice(start, start + max);
    const out: { items: T[]; nextToken?: string } = { items: slice };
    if (start + max < items.length)
      out.nextToken = Buffer.from(`local-aws:${start + max}`).toString('base64');
    return out;
  };

  const mutabilityOf = (input: Input, required: boolean) => {
    const opts = { enumValues: TAG_MUTABILITIES };
    const m = (
      required ? reqString(input, 'imageTagMutability', opts) : optString(input, 'imageTagMutability', opts)
    ) as TagMutability | undefined;
    const list = optList(input, 'imageTagMutabilityExclusionFilters', { min: 1, max: 5 });
    const filters: ExclusionFilter[] | undefined = list
      ? structList(list, 'imageTagMutabilityExclusionFilters').map((f, i) => {
          const path = `imageTagMutabilityExclusionFilters.${i + 1}.member`;
          const filterType = reqString(
            f,
            'filterType',
            { enumValues: ['WILDCARD'] },
            `${path}.filterType`,
          ) as 'WILDCARD';
          const filter = reqString(
            f,
            'filter',
            { min: 1, max: 128, pattern: /^[0-9a-zA-Z._*-]{1,128}$/, patternText: '^[0-9a-zA-Z._*-]{1,128}' },
            `${path}.filter`,
          );
          return { filterType, filter };
        })
      : undefined;
    const withExclusion = m === 'MUTABLE_WITH_EXCLUSION' || m === 'IMMUTABLE_WITH_EXCLUSION';
    if (withExclusion && !filters) {
      throw new AwsError(
        'InvalidParameterException',
        `imageTagMutabilityExclusionFilters must be specified when imageTagMutability is ${m}`,
      );
    }
    if (!withExclusion && filters) {
      throw new AwsError(
        'InvalidParameterException',
        `imageTagMutabilityExclusionFilters can only be specified when imageTagMutability is MUTABLE_WITH_EXCLUSION or IMMUTABLE_WITH_EXCLUSION`,
      );
    }
    return { mutability: m, filters };
  };

  /** The encryption configuration; `resolveKey` fills in the AWS managed key for KMS without a key. */
  const encryptionOf = (input: Input, reg: RegistryState, resolveKey = true): Encryption | undefined => {
    const e = optObject(input, 'encryptionConfiguration');
    if (!e) return undefined;
    const encryptionType = reqString(
      e,
      'encryptionType',
      { enumValues: ['AES256', 'KMS', 'KMS_DSSE'] },
      'encryptionConfiguration.encryptionType',
    ) as Encryption['encryptionType'];
    const kmsKey = optString(e, 'kmsKey', { min: 1, max: 2048 }, 'encryptionConfiguration.kmsKey');
    if (encryptionType === 'AES256') {
      if (kmsKey !== undefined) {
        throw new AwsError(
          'InvalidParameterException',
          'Invalid parameter: kmsKey can only be specified when encryptionType is KMS or KMS_DSSE',
        );
      }
      return { encryptionType };
    }
    if (kmsKey !== undefined) return { encryptionType, kmsKey };
    return resolveKey ? { encryptionType, kmsKey: managedKmsKeyArn(reg) } : { encryptionType };
  };

  const tagsIn = (list: unknown[] | undefined, path: string): Tag[] => {
    if (!list) return [];
    const tags = structList(list, path).map((t, i) => {
      const p = `${path}.${i + 1}.member`;
      const Key = reqString(t, 'Key', {}, `${p}.Key`);
      const Value = reqString(t, 'Value', {}, `${p}.Value`);
      if (Key.length < 1 || Key.length > 128 || Value.length > 256 || Key.toLowerCase().startsWith('aws:')) {
        throw new AwsError('InvalidTagParameterException', 'The specified tag parameters are invalid');
      }
      return { Key, Value };
    });
    if (new Set(tags.map((t) => t.Key)).size !== tags.length) {
      throw new AwsError('InvalidTagParameterException', 'Duplicate tag keys are not allowed');
    }
    if (tags.length > MAX_TAGS)
      throw new AwsError('TooManyTagsException', `Too many tags: a resource may have at most ${MAX_TAGS}`);
    return tags;
  };

  const policyText = (input: Input, key: string, path: string, required: boolean): string | undefined =>
    policyDocument(input, key, path, required, { min: 0, max: 10240 }, (text) =>
      validRepositoryPolicy(text) ? undefined : 'Invalid repository policy provided',
    );

  const lifecycleText = (input: Input, key: string, path: string, required: boolean): string | undefined =>
    policyDocument(input, key, path, required, { min: 100, max: 30720 }, (text) => {
      const problem = lifecyclePolicyProblem(text);
      return problem ? `Lifecycle policy validation failure: ${problem}` : undefined;
    });

  const templateOut = (t: CreationTemplate) => {
    const out: Record<string, unknown> = {
      prefix: t.prefix,
      resourceTags: t.resourceTags,
      imageTagMutability: t.imageTagMutability,
      appliedFor: t.appliedFor,
      createdAt: secs(t.createdAt),
      updatedAt: secs(t.updatedAt),
      encryptionConfiguration: t.encryptionConfiguration ?? { encryptionType: 'AES256' },
    };
    if (t.description !== undefined) out.description = t.description;
    if (t.imageTagMutabilityExclusionFilters)
      out.imageTagMutabilityExclusionFilters = t.imageTagMutabilityExclusionFilters;
    if (t.repositoryPolicy !== undefined) out.repositoryPolicy = t.repositoryPolicy;
    if (t.lifecyclePolicy !== undefined) out.lifecyclePolicy = t.lifecyclePolicy;
    if (t.customRoleArn !== undefined) out.customRoleArn = t.customRoleArn;
    return out;
  };

  const repoFromArn = (arn: string, ctx: RequestContext) => {
    const m = /^arn:aws[a-z-]*:ecr:([a-z0-9-]+):([0-9]{12}):repository\/(.+)$/.exec(arn);
    if (!m) throw invalid('resourceArn', `Invalid ARN: ${arn}`);
    const reg = registryOf(ecr, m[2]!, m[1]!);
    void ctx;
    const name = m[3]!;
    const repo = reg.repositories[name];
    if (!repo) throw repoNotFound(reg, name);
    return repo;
  };

  const ops: Record<string, JsonOperation> = {
    CreateRepository(input, ctx) {
      const name = repositoryName(input);
      const reg = registryFor(input, ctx);
      const tags = tagsIn(optList(input, 'tags'), 'tags');
      const { mutability, filters } = mutabilityOf(input, false);
      const scanning = optObject(input, 'imageScanningConfiguration');
      const scanOnPush = scanning
        ? optBool(scanning, 'scanOnPush', 'imageScanningConfiguration.scanOnPush')
        : undefined;
      const encryption = encryptionOf(input, reg);
      if (reg.repositories[name]) {
        throw new AwsError(
          'RepositoryAlreadyExistsException',
          `The repository with name '${name}' already exists in the registry with id '${reg.accountId}'`,
        );
      }
      const settings: Parameters<typeof newRepository>[2] = { tags, scanOnPush: scanOnPush ?? false };
      if (mutability) settings.imageTagMutability = mutability;
      if (filters) settings.exclusionFilters = filters;
      if (encryption) settings.encryption = encryption;
      const repo = newRepository(name, ctx.clock.now(), settings);
      reg.repositories[name] = repo;
      save();
      return { repository: repositoryOut(reg, repo) };
    },

    DescribeRepositories(input, ctx) {
      const reg = registryFor(input, ctx);
      const namesList = optList(input, 'repositoryNames', { min: 1, max: 100 });
      if (namesList) {
        if (input.maxResults !== undefined || input.nextToken !== undefined) {
          throw new AwsError(
            'InvalidParameterException',
            'Invalid parameter: maxResults and nextToken cannot be used when repositoryNames is specified',
          );
        }
        const names = stringList(namesList, 'repositoryNames').map((n, i) =>
          checkRepositoryName(n, `repositoryNames.${i + 1}.member`),
        );
        const out = names.map((n) => {
          const repo = reg.repositories[n];
          if (!repo) throw repoNotFound(reg, n);
          return repositoryOut(reg, repo);
        });
        return { repositories: out };
      }
      const all = Object.values(reg.repositories).sort(
        (a, b) => a.createdAt - b.createdAt || a.name.localeCompare(b.name),
      );
      const p = page(all, input, 100);
      const out: Record<string, unknown> = { repositories: p.items.map((r) => repositoryOut(reg, r)) };
      if (p.nextToken) out.nextToken = p.nextToken;
      return out;
    },

    DeleteRepository(input, ctx) {
      const { reg, repo } = repoOf(input, ctx);
      const force = optBool(input, 'force') ?? false;
      if (!force && Object.keys(repo.images).length > 0) {
        throw new AwsError(
          'RepositoryNotEmptyException',
          `The repository with name '${repo.name}' in registry with id '${reg.accountId}' cannot be deleted because it still contains images`,
        );
      }
      const out = repositoryOut(reg, repo);
      delete reg.repositories[repo.name];
      save();
      return { repository: out };
    },

    GetAuthorizationToken(input, ctx) {
      const ids = optList(input, 'registryIds', { min: 1, max: 10 });
      const registries = ids
        ? stringList(ids, 'registryIds', { pattern: REGISTRY_ID_RE, patternText: '[0-9]{12}' })
        : [ctx.identity.accountId];
      const expiresAt = facts.credentialNow() + TOKEN_LIFETIME_MS;
      return {
        authorizationData: registries.map((accountId) => {
          const proxyEndpoint = `https://${facts.registryHost(accountId, ctx.region)}`;
          const password = mintPassword(ecr.secret, {
            identity: ctx.identity,
            accountId,
            region: ctx.region,
            expiresAt,
          });
          return {
            authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'),
            expiresAt: secs(expiresAt),
            proxyEndpoint,
          };
        }),
      };
    },

    DescribeImages(input, ctx) {
      const { reg, repo } = repoOf(input, ctx);
      const ids = imageIds(input, false);
      const filter = optObject(input, 'filter');
      const tagStatus = filter
        ? optString(filter, 'tagStatus', { enumValues: ['TAGGED', 'UNTAGGED', 'ANY'] }, 'filter.tagStatus')
        : undefined;
      const now = ctx.clock.now();
      if (ids) {
        if (input.maxResults !== undefined || input.nextToken !== undefined) {
          throw new AwsError(
            'InvalidParameterException',
            'Invalid parameter: maxResults and nextToken cannot be used when imageIds is specified',
          );
        }
        const seen = new Set<string>();
        const details = [];
        for (const id of ids) {
          const image = existingImage(reg, repo, id);
          if (seen.has(image.digest)) continue;
          seen.add(image.digest);
          details.push(imageDetail(reg, repo, image, now));
        }
        return { imageDetails: details };
      }
      const images = Object.values(repo.images)
        .filter((img) => {
          const tagged = tagsOf(repo, img.digest).length > 0;
          return tagStatus === 'TAGGED' ? tagged : tagStatus === 'UNTAGGED' ? !tagged : true;
        })
        .sort((a, b) => a.pushedAt - b.pushedAt || a.digest.localeCompare(b.digest));
      const p = page(images, input, 100);
      const out: Record<string, unknown> = {
        imageDetails: p.items.map((i) => imageDetail(reg, repo, i, now)),
      };
      if (p.nextToken) out.nextToken = p.nextToken;
      return out;
    },

    ListImages(input, ctx) {
      const { repo } = repoOf(input, ctx);
      const filter = optObject(input, 'filter');
      const tagStatus = filter
        ? optString(filter, 'tagStatus', { enumValues: ['TAGGED', 'UNTAGGED', 'ANY'] }, 'filter.tagStatus')
        : undefined;
      const ids: ImageId[] = [];
      const images = Object.values(repo.images).sort(
        (a, b) => a.pushedAt - b.pushedAt || a.digest.localeCompare(b.digest),
      );
      for (const img of images) {
        const tags = tagsOf(repo, img.digest);
        if (tags.length === 0) {
          if (tagStatus !== 'TAGGED') ids.push({ imageDigest: img.digest });
        } else if (tagStatus !== 'UNTAGGED') {
          for (const t of tags) ids.push({ imageDigest: img.digest, imageTag: t });
        }
      }
      const p = page(ids, input, 100);
      const out: Record<string, unknown> = { imageIds: p.items };
      if (p.nextToken) out.nextToken = p.nextToken;
      return out;
    },

    BatchGetImage(input, ctx) {
      const { reg, repo } = repoOf(input, ctx);
      const ids = imageIds(input, true)!;
      const acceptedList = optList(input, 'acceptedMediaTypes', { min: 1, max: 100 });
      const accepted = acceptedList ? stringList(acceptedList, 'acceptedMediaTypes') : undefined;
      const images: unknown[] = [];
      const failures: unknown[] = [];
      for (const { id, image } of batchImages(repo, ids, failures)) {
        if (accepted && !accepted.includes(image.mediaType)) {
          failures.push({
            imageId: id,
            failureCode: 'UnsupportedImageType',
            failureReason: `Image manifest media type '${image.mediaType}' is not in acceptedMediaTypes`,
          });
          continue;
        }
        image.lastPulledAt = ctx.clock.now();
        images.push({
          registryId: reg.accountId,
          repositoryName: repo.name,
          imageId: imageIdOut(image.digest, id.imageTag),
          imageManifest: image.manifest,
          imageManifestMediaType: image.mediaType,
        });
      }
      save();
      return { images, failures };
    },

    PutImage(input, ctx) {
      const { reg, repo } = repoOf(input, ctx);
      const manifest = reqString(input, 'imageManifest', { min: 1, max: 4194304 });
      const mediaType = optString(input, 'imageManifestMediaType');
      const tag = optString(input, 'imageTag', { min: 1, max: 300 });
      const digest = optString(input, 'imageDigest');
      const opts: Parameters<typeof putManifest>[4] = { via: 'api' };
      if (mediaType !== undefined) opts.mediaType = mediaType;
      if (tag !== undefined) opts.tag = tag;
      if (digest !== undefined) opts.digest = digest;
      try {
        const r = putManifest(repo, blobs, ctx.clock, Buffer.from(manifest, 'utf8'), opts);
        save();
        return {
          image: {
            registryId: reg.accountId,
            repositoryName: repo.name,
            imageId: imageIdOut(r.digest, tag),
            imageManifest: manifest,
            imageManifestMediaType: r.mediaType,
          },
        };
      } catch (e) {
        if (e instanceof PushError) throw pushErrorToAws(e, reg, repo);
        throw e;
      }
    },

    BatchDeleteImage(input, ctx) {
      const { repo } = repoOf(input, ctx);
      const ids = imageIds(input, true)!;
      const deleted: ImageId[] = [];
      const failures: unknown[] = [];
      for (const { id, image } of batchImages(repo, ids, failures)) {
        const digest = image.digest;
        if (id.imageTag !== undefined && id.imageDigest === undefined) {
          // Removing a tag; removing the last one deletes the image (unless an index needs it).
          delete repo.imageTags[id.imageTag];
          if (tagsOf(repo, digest).length === 0 && referencedBy(repo, digest).length === 0)
            deleteImage(repo, digest);
          deleted.push({ imageDigest: digest, imageTag: id.imageTag });
          continue;
        }
        const parents = referencedBy(repo, digest);
        if (parents.length > 0) {
          failures.push({
            imageId: id,
            failureCode: 'ImageReferencedByManifestList',
            failureReason: `Requested image referenced by manifest list: [${parents.join(', ')}]`,
          });
          continue;
        }
        const tags = tagsOf(repo, digest);
        deleteImage(repo, digest);
        if (tags.length === 0) deleted.push({ imageDigest: digest });
        for (const t of tags) deleted.push({ imageDigest: digest, imageTag: t });
      }
      save();
      return { imageIds: deleted, failures };
    },

    PutImageTagMutability(input, ctx) {
      const { reg, repo } = repoOf(input, ctx);
      const { mutability, filters } = mutabilityOf(input, true);
      repo.imageTagMutability = mutability!;
      repo.exclusionFilters = filters ?? [];
      save();
      const out: Record<string, unknown> = {
        registryId: reg.accountId,
        repositoryName: repo.name,
        imageTagMutability: repo.imageTagMutability,
      };
      if (filters) out.imageTagMutabilityExclusionFilters = filters;
      return out;
    },

    PutImageScanningConfiguration(input, ctx) {
      const { reg, repo } = repoOf(input, ctx);
      const cfg = reqObject(input, 'imageScanningConfiguration');
      repo.scanOnPush = optBool(cfg, 'scanOnPush', 'imageScanningConfiguration.scanOnPush') ?? false;
      save();
      return {
        registryId: reg.accountId,
        repositoryName: repo.name,
        imageScanningConfiguration: { scanOnPush: repo.scanOnPush },
      };
    },

    PutLifecyclePolicy(input, ctx) {
      const { reg, repo } = repoOf(input, ctx);
      const text = lifecycleText(input, 'lifecyclePolicyText', 'LifecyclePolicyText', true)!;
      repo.lifecyclePolicy = { text, updatedAt: ctx.clock.now() };
      save();
      return { registryId: reg.accountId, repositoryName: repo.name, lifecyclePolicyText: text };
    },

    GetLifecyclePolicy(input, ctx) {
      const { reg, repo } = repoOf(input, ctx);
      if (!repo.lifecyclePolicy) throw lifecycleNotFound(reg, repo);
      return lifecycleOut(reg, repo, repo.lifecyclePolicy);
    },

    DeleteLifecyclePolicy(input, ctx) {
      const { reg, repo } = repoOf(input, ctx);
      const p = repo.lifecyclePolicy;
      if (!p) throw lifecycleNotFound(reg, repo);
      delete repo.lifecyclePolicy;
      save();
      return lifecycleOut(reg, repo, p);
    },

    SetRepositoryPolicy(input, ctx) {
      const { reg, repo } = repoOf(input, ctx);
      const text = policyText(input, 'policyText', 'PolicyText', true)!;
      optBool(input, 'force');
      repo.policy = text;
      save();
      return { registryId: reg.accountId, repositoryName: repo.name, policyText: text };
    },

    GetRepositoryPolicy(input, ctx) {
      const { reg, repo } = repoOf(input, ctx);
      if (repo.policy === undefined) throw policyNotFound(reg, repo);
      return { registryId: reg.accountId, repositoryName: repo.name, policyText: repo.policy };
    },

    DeleteRepositoryPolicy(input, ctx) {
      const { reg, repo } = repoOf(input, ctx);
      const p = repo.policy;
      if (p === undefined) throw policyNotFound(reg, repo);
      delete repo.policy;
      save();
      return { registryId: reg.accountId, repositoryName: repo.name, policyText: p };
    },

    StartImageScan(input, ctx) {
      const { reg, repo } = repoOf(input, ctx);
      const id = imageIdOf(reqObject(input, 'imageId'), 'imageId');
      const img = existingImage(reg, repo, id);
      if (img.children) {
        throw new AwsError(
          'UnsupportedImageTypeException',
          'The image type is not supported for image scanning',
        );
      }
      const now = ctx.clock.now();
      if (img.scan && now - img.scan.startedAt < DAY_MS) {
        throw new AwsError(
          'LimitExceededException',
          'The scan quota per image has been exceeded. Wait and try again.',
        );
      }
      img.scan = { startedAt: now };
      save();
      return {
        registryId: reg.accountId,
        repositoryName: repo.name,
        imageId: imageIdOut(img.digest, id.imageTag),
        imageScanStatus: { status: 'IN_PROGRESS' },
      };
    },

    DescribeImageScanFindings(input, ctx) {
      const { reg, repo } = repoOf(input, ctx);
      const id = imageIdOf(reqObject(input, 'imageId'), 'imageId');
      const image = existingImage(reg, repo, id);
      const scan = scanView(ecr, image, ctx.clock.now());
      if (!scan) {
        throw new AwsError(
          'ScanNotFoundException',
          `Image scan does not exist for the image with '${idText(id)}' in the repository with name '${repo.name}' in the registry with id '${reg.accountId}'`,
        );
      }
      const out: Record<string, unknown> = {
        registryId: reg.accountId,
        repositoryName: repo.name,
        imageId: imageIdOut(image.digest, id.imageTag),
        imageScanStatus: scanStatusOut(scan),
      };
      if (scan.status === 'COMPLETE') {
        const p = page(scan.findings, input, 100);
        out.imageScanFindings = { ...findingsSummary(scan), findings: p.items };
        if (p.nextToken) out.nextToken = p.nextToken;
      }
      return out;
    },

    BatchCheckLayerAvailability(input, ctx) {
      const { repo } = repoOf(input, ctx);
      const digests = stringList(reqList(input, 'layerDigests', { min: 1, max: 100 }), 'layerDigests');
      const layers: unknown[] = [];
      const failures: unknown[] = [];
      for (const d of digests) {
        if (!/^[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+$/.test(d)) {
          failures.push({
            layerDigest: d,
            failureCode: 'InvalidLayerDigest',
            failureReason: 'Invalid layer digest',
          });
        } else if (repo.blobs[d] && blobs.has(d)) {
          layers.push({ layerDigest: d, layerAvailability: 'AVAILABLE', layerSize: blobs.size(d) });
        } else {
          failures.push({
            layerDigest: d,
            failureCode: 'MissingLayerDigest',
            failureReason: 'Could not find layer',
          });
        }
      }
      return { layers, failures };
    },

    CreateRepositoryCreationTemplate(input, ctx) {
      const reg = registryOf(ecr, ctx.identity.accountId, ctx.region);
      const prefix = templatePrefix(input);
      const description = optString(input, 'description', { min: 0, max: 256 });
      const applied = stringList(reqList(input, 'appliedFor', { min: 1 }), 'appliedFor', {
        enumValues: ['REPLICATION', 'PULL_THROUGH_CACHE', 'CREATE_ON_PUSH'],
      });
      const { mutability, filters } = mutabilityOf(input, false);
      const encryption = encryptionOf(input, reg, false);
      const resourceTags = tagsIn(optList(input, 'resourceTags'), 'resourceTags');
      const repositoryPolicy = policyText(input, 'repositoryPolicy', 'repositoryPolicy', false);
      const lifecyclePolicy = lifecycleText(input, 'lifecyclePolicy', 'lifecyclePolicy', false);
      const customRoleArn = optString(input, 'customRoleArn', { max: 2048 });
      if (reg.templates[prefix]) {
        throw new AwsError(
          'TemplateAlreadyExistsException',
          `The creation template with prefix '${prefix}' already exists in the registry with id '${reg.accountId}'`,
        );
      }
      const now = ctx.clock.now();
      const t: CreationTemplate = {
        prefix,
        resourceTags,
        imageTagMutability: mutability ?? 'MUTABLE',
        appliedFor: [...new Set(applied)],
        createdAt: now,
        updatedAt: now,
      };
      if (description !== undefined) t.description = description;
      if (filters) t.imageTagMutabilityExclusionFilters = filters;
      if (encryption) t.encryptionConfiguration = encryption;
      if (repositoryPolicy !== undefined) t.repositoryPolicy = repositoryPolicy;
      if (lifecyclePolicy !== undefined) t.lifecyclePolicy = lifecyclePolicy;
      if (customRoleArn !== undefined) t.customRoleArn = customRoleArn;
      reg.templates[prefix] = t;
      save();
      return { registryId: reg.accountId, repositoryCreationTemplate: templateOut(t) };
    },

    DescribeRepositoryCreationTemplates(input, ctx) {
      const reg = registryOf(ecr, ctx.identity.accountId, ctx.region);
      const prefixesList = optList(input, 'prefixes');
      let templates = Object.values(reg.templates).sort((a, b) => a.prefix.localeCompare(b.prefix));
      if (prefixesList) {
        const wanted = stringList(prefixesList, 'prefixes');
        templates = wanted.map((p) => {
          const t = reg.templates[p];
          if (!t) throw templateNotFound(reg, p);
          return t;
        });
      }
      const p = page(templates, input, 100);
      const out: Record<string, unknown> = {
        registryId: reg.accountId,
        repositoryCreationTemplates: p.items.map(templateOut),
      };
      if (p.nextToken) out.nextToken = p.nextToken;
      return out;
    },

    DeleteRepositoryCreationTemplate(input, ctx) {
      const reg = registryOf(ecr, ctx.identity.accountId, ctx.region);
      const prefix = templatePrefix(input);
      const t = reg.templates[prefix];
      if (!t) throw templateNotFound(reg, prefix);
      delete reg.templates[prefix];
      save();
      return { registryId: reg.accountId, repositoryCreationTemplate: templateOut(t) };
    },

    TagResource(input, ctx) {
      const repo = repoFromArn(reqString(input, 'resourceArn'), ctx);
      const tags = tagsIn(reqList(input, 'tags'), 'tags');
      const merged = new Map(repo.tags.map((t) => [t.Key, t.Value]));
      for (const t of tags) merged.set(t.Key, t.Value);
      if (merged.size > MAX_TAGS)
        throw new AwsError('TooManyTagsException', `Too many tags: a resource may have at most ${MAX_TAGS}`);
      repo.tags = [...merged].map(([Key, Value]) => ({ Key, Value }));
      save();
      return {};
    },

    UntagResource(input, ctx) {
      const repo = repoFromArn(reqString(input, 'resourceArn'), ctx);
      const keys = stringList(reqList(input, 'tagKeys'), 'tagKeys');
      repo.tags = repo.tags.filter((t) => !keys.includes(t.Key));
      save();
      return {};
    },

    ListTagsForResource(input, ctx) {
      const repo = repoFromArn(reqString(input, 'resourceArn'), ctx);
      return { tags: repo.tags };
    },
  };
  return ops;
}

type ImageId = { imageDigest?: string; imageTag?: string };

/** The imageId an operation answers with: the digest, and the tag when the request named one. */
function imageIdOut(digest: string, tag: string | undefined): ImageId {
  return tag === undefined ? { imageDigest: digest } : { imageDigest: digest, imageTag: tag };
}

function findingsSummary(scan: Extract<ScanView, { status: 'COMPLETE' }>) {
  return {
    imageScanCompletedAt: secs(scan.completedAt),
    vulnerabilitySourceUpdatedAt: secs(scan.completedAt),
    findingSeverityCounts: severityCounts(scan.findings),
  };
}

function lifecycleOut(
  reg: RegistryState,
  repo: RepositoryState,
  policy: NonNullable<RepositoryState['lifecyclePolicy']>,
) {
  return {
    registryId: reg.accountId,
    repositoryName: repo.name,
    lifecyclePolicyText: policy.text,
    lastEvaluatedAt: secs(policy.updatedAt),
  };
}

/** A policy document member: required or optional, within `length`, then free of `problem`. */
function policyDocument(
  input: Input,
  key: string,
  path: string,
  required: boolean,
  length: { min: number; max: number },
  problem: (text: string) => string | undefined,
): string | undefined {
  const text = required ? reqString(input, key, length) : optString(input, key, length);
  if (text === undefined) return undefined;
  const message = problem(text);
  if (message) throw invalid(path, message);
  return text;
}

function scanStatusOut(scan: NonNullable<ReturnType<typeof scanView>>) {
  switch (scan.status) {
    case 'IN_PROGRESS':
      return { status: 'IN_PROGRESS', description: 'The scan is in progress.' };
    case 'COMPLETE':
      return { status: 'COMPLETE', description: 'The scan was completed successfully.' };
    case 'FAILED':
      return { status: 'FAILED', description: scan.description };
  }
}

function lifecycleNotFound(reg: RegistryState, repo: RepositoryState): AwsError {
  return new AwsError(
    'LifecyclePolicyNotFoundException',
    `Lifecycle policy does not exist for the repository with name '${repo.name}' in the registry with id '${reg.accountId}'`,
  );
}

function policyNotFound(reg: RegistryState, repo: RepositoryState): AwsError {
  return new AwsError(
    'RepositoryPolicyNotFoundException',
    `Repository policy does not exist for the repository with name '${repo.name}' in the registry with id '${reg.accountId}'`,
  );
}

function templateNotFound(reg: RegistryState, prefix: string): AwsError {
  return new AwsError(
    'TemplateNotFoundException',
    `The creation template with prefix '${prefix}' does not exist in the registry with id '${reg.accountId}'`,
  );
}

const TEMPLATE_PREFIX_RE = /^((?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*\/?|ROOT)$/;

function templatePrefix(input: Input): string {
  return reqString(input, 'prefix', {
    min: 1,
    max: 256,
    pattern: TEMPLATE_PREFIX_RE,
    patternText: '^((?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*/?|ROOT)$',
  });
}

export function pushErrorToAws(e: PushError, reg: RegistryState, repo: RepositoryState): AwsError {
  const f = e.failure;
  switch (f.kind) {
    case 'invalid':
      return invalid('ImageManifest', f.message);
    case 'tooLarge':
      return invalid('imageManifest', 'Member must have length less than or equal to 4194304');
    case 'layersNotFound':
      return new AwsError(
        'LayersNotFoundException',
        `Layers with digests '[${f.digests.join(', ')}]' required for pushing image into repository with name '${repo.name}' in the registry with id '${reg.accountId}' do not exist`,
      );
    case 'referencedNotFound':
      return new AwsError(
        'ReferencedImagesNotFoundException',
        `Images with digests '[${f.digests.join(', ')}]' required for pushing image into repository with name '${repo.name}' in the registry with id '${reg.accountId}' do not exist`,
      );
    case 'digestMismatch':
      return new AwsError(
        'ImageDigestDoesNotMatchException',
        `Provided image digest '${f.expected}' does not match the calculated digest '${f.actual}' of the image manifest`,
      );
    case 'tagImmutable':
      return new AwsError(
        'ImageTagAlreadyExistsException',
        `The image tag '${f.tag}' already exists in the '${repo.name}' repository and cannot be overwritten because the tag is immutable.`,
      );
    case 'alreadyExists':
      return new AwsError(
        'ImageAlreadyExistsException',
        `Image with digest '${f.digest}' and tag '${f.tag ?? 'null'}' already exists in the repository with name '${repo.name}' in registry with id '${reg.accountId}'`,
      );
  }
}

function validRepositoryPolicy(text: string): boolean {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return false;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return false;
  const statements = (doc as Record<string, unknown>).Statement;
  const list = Array.isArray(statements) ? statements : statements !== undefined ? [statements] : [];
  if (list.length === 0) return false;
  return list.every((s) => {
    if (typeof s !== 'object' || s === null) return false;
    const st = s as Record<string, unknown>;
    return (
      (st.Effect === 'Allow' || st.Effect === 'Deny') &&
      (st.Action !== undefined || st.NotAction !== undefined)
    );
  });
}

/** Checks a lifecycle policy's JSON shape; returns a problem description or undefined. */
export function lifecyclePolicyProblem(text: string): string | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return 'Lifecycle policy is not valid JSON';
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return 'instance type is not an object';
  const rules = (doc as Record<string, unknown>).rules;
  if (!Array.isArray(rules)) return 'object has missing required properties (["rules"])';
  if (rules.length === 0) return 'rules must contain at least one rule';
  const priorities = new Set<number>();
  for (const [i, r] of rules.entries()) {
    const at = `rules[${i}]`;
    if (typeof r !== 'object' || r === null) return `${at} is not an object`;
    const rule = r as Record<string, unknown>;
    const missing = ['rulePriority', 'selection', 'action'].filter((k) => rule[k] === undefined);
    if (missing.length) return `${at}: object has missing required properties (${JSON.stringify(missing)})`;
    if (!Number.isInteger(rule.rulePriority) || (rule.rulePriority as number) < 1)
      return `${at}.rulePriority must be an integer >= 1`;
    if (priorities.has(rule.rulePriority as number))
      return `rulePriority ${String(rule.rulePriority)} is used by more than one rule`;
    priorities.add(rule.rulePriority as number);
    const sel = rule.selection as Record<string, unknown>;
    if (typeof sel !== 'object' || sel === null) return `${at}.selection is not an object`;
    const selMissing = ['tagStatus', 'countType', 'countNumber'].filter((k) => sel[k] === undefined);
    if (selMissing.length)
      return `${at}.selection: object has missing required properties (${JSON.stringify(selMissing)})`;
    if (!['tagged', 'untagged', 'any'].includes(sel.tagStatus as string))
      return `${at}.selection.tagStatus must be one of tagged, untagged, any`;
    if (sel.tagStatus === 'tagged') {
      const lists = ['tagPrefixList', 'tagPatternList'].filter(
        (k) => Array.isArray(sel[k]) && (sel[k] as unknown[]).length > 0,
      );
      if (lists.length === 0) return 'Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED.';
      if (lists.length > 1)
        return 'If policy has a tagged rule, it must specify only one of tagPrefixList or tagPatternList';
    }
    const patterns = Array.isArray(sel.tagPatternList) ? (sel.tagPatternList as unknown[]) : [];
    for (const pattern of patterns) {
      const wildcards = typeof pattern === 'string' ? pattern.split('*').length - 1 : 0;
      if (wildcards > MAX_PATTERN_WILDCARDS)
        return `${at}.selection.tagPatternList: '${String(pattern)}' has ${wildcards} wildcards (*); a pattern may have at most ${MAX_PATTERN_WILDCARDS}`;
    }
    if (!['imageCountMoreThan', 'sinceImagePushed'].includes(sel.countType as string)) {
      return `${at}.selection.countType must be imageCountMoreThan or sinceImagePushed`;
    }
    if (sel.countType === 'sinceImagePushed' && sel.countUnit !== 'days')
      return `${at}.selection.countUnit must be days with sinceImagePushed`;
    if (sel.countType === 'imageCountMoreThan' && sel.countUnit !== undefined)
      return `${at}.selection.countUnit is not allowed with imageCountMoreThan`;
    if (!Number.isInteger(sel.countNumber) || (sel.countNumber as number) < 1)
      return `${at}.selection.countNumber must be an integer >= 1`;
    const action = rule.action as Record<string, unknown>;
    if (typeof action !== 'object' || action === null || action.type !== 'expire')
      return `${at}.action.type must be expire`;
  }
  // The catch-all rule is evaluated last: no rule may come after it.
  const highest = Math.max(...priorities);
  const early = (rules as Array<Record<string, unknown>>).find(
    (r) => (r.selection as Record<string, unknown>).tagStatus === 'any' && r.rulePriority !== highest,
  );
  if (early) return 'Rule for tagStatus=ANY must have the lowest priority per storage class';
  return undefined;
}
