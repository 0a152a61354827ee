// Container image references, parsed the way docker (distribution/reference) does, plus the ECR
// rules for registry hosts, repository names and tags.
import { ParseError, isRegion, partitionOfRegion } from './parse.js';

/** An image reference split into its parts, as written (not normalised). */
export interface ImageReference {
  /** Host, with port if any: `localhost:5000`, `123456789012.dkr.ecr.us-east-1.amazonaws.com`. */
  registry?: string;
  /** The path inside the registry: `app`, `library/nginx`, `org/team/app`. */
  repository: string;
  tag?: string;
  /** `algorithm:hex`, e.g. `sha256:<64 hex>`. */
  digest?: string;
}

export interface ParsedImageReference extends ImageReference {
  /** The text that was parsed. */
  original: string;
}

export const IMAGE_REFERENCE_EXPECTED =
  'an image reference such as registry/repository:tag or repository@sha256:<64 hex digits>';

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::\\d+)?$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };
/** docker's limit on registry + "/" + repository. */
const NAME_MAX = 255;

/**
 * Parses `[registry/]repository[:tag][@digest]`. The first path component is the registry when it
 * contains "." or ":", is "localhost", or has an uppercase letter — docker's rule, so `nginx`
 * and `library/nginx` have no registry and `localhost:5000/a` has one. Throws ParseError.
 */
export function parseImageReference(text: string): ParsedImageReference {
  const fail = (hint?: string): never => {
    throw new ParseError(IMAGE_REFERENCE_EXPECTED, text, hint);
  };
  if (text === '') fail('The value is empty');
  if (/\s/.test(text)) fail('It contains whitespace');
  if (/^[a-z]+:\/\//i.test(text)) fail('Leave out the scheme (https://)');

  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    const problem = digestProblem(digest);
    if (problem) fail(problem);
  }

  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) {
      fail(
        tag === ''
          ? 'The tag after ":" is empty'
          : `The tag ${JSON.stringify(tag)} must be 1 to 128 letters, digits, "_", "." or "-", not starting with "." or "-"`,
      );
    }
  }

  let registry: string | undefined;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (/[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase()) {
      registry = first;
      rest = rest.slice(slash + 1);
      if (!HOST.test(registry))
        fail(`The registry ${JSON.stringify(registry)} is not a host name with an optional port`);
    }
  }

  const repository = rest;
  if (repository === '') fail('The repository name is empty');
  for (const component of repository.split('/')) {
    if (PATH_COMPONENT.test(component)) continue;
    fail(
      component === ''
        ? 'The repository name has an empty path component ("//" or a "/" at an end)'
        : component !== component.toLowerCase() && PATH_COMPONENT.test(component.toLowerCase())
          ? `Repository names must be lowercase: ${JSON.stringify(component)}`
          : `The repository path component ${JSON.stringify(component)} must be lowercase letters and digits, separated by ".", "_", "__" or "-"`,
    );
  }
  const nameLength = (registry ? registry.length + 1 : 0) + repository.length;
  if (nameLength > NAME_MAX)
    fail(`The registry and repository together are ${nameLength} characters; at most ${NAME_MAX}`);

  return {
    original: text,
    ...(registry && { registry }),
    repository,
    ...(tag && { tag }),
    ...(digest && { digest }),
  };
}

function digestProblem(digest: string): string | undefined {
  const m = /^([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*):(.*)$/.exec(digest);
  if (!m) return `The digest ${JSON.stringify(digest)} is not algorithm:hex, e.g. sha256:<64 hex digits>`;
  const [, algorithm = '', hex = ''] = m;
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (length === undefined) return `The digest algorithm "${algorithm}" is not sha256, sha384 or sha512`;
  if (!new RegExp(`^[a-f0-9]{${length}}$`).test(hex)) {
    return `A ${algorithm} digest has ${length} lowercase hex digits; this one has ${JSON.stringify(hex)} (${hex.length} characters)`;
  }
  return undefined;
}

/** registry/repository:tag@digest, leaving out the parts that are absent. */
export function formatImageReference(ref: ImageReference): string {
  return (
    (ref.registry ? `${ref.registry}/` : '') +
    ref.repository +
    (ref.tag ? `:${ref.tag}` : '') +
    (ref.digest ? `@${ref.digest}` : '')
  );
}

/**
 * What docker pulls for a reference: no registry means docker.io, one-component Docker Hub
 * names get `library/`, and no tag and no digest means `latest`. index.docker.io becomes docker.io.
 */
export function normalizeImageReference(ref: ImageReference): ImageReference & { registry: string } {
  const registry = !ref.registry || ref.registry === 'index.docker.io' ? 'docker.io' : ref.registry;
  const repository =
    registry === 'docker.io' && !ref.repository.includes('/') ? `library/${ref.repository}` : ref.repository;
  const tag = ref.tag ?? (ref.digest ? undefined : 'latest');
  return { registry, repository, ...(tag && { tag }), ...(ref.digest && { digest: ref.digest }) };
}

// ---------------------------------------------------------------------------------------------
// ECR

export type EcrRegistry =
  | {
      type: 'private';
      host: string;
      accountId: string;
      region: string;
      partition: string;
      fips: boolean;
      dualstack: boolean;
    }
  | { type: 'public'; host: 'public.ecr.aws' };

// IPv4 endpoints use the partition's DNS suffix (SDK partitions.json); dual-stack ones are
// `<account>.dkr-ecr.<region>.on.aws` (ECR user guide, "Making requests to Amazon ECR registries").
const ECR_DNS_SUFFIXES = [
  'amazonaws.com',
  'amazonaws.com.cn',
  'amazonaws.eu',
  'c2s.ic.gov',
  'sc2s.sgov.gov',
  'cloud.adc-e.uk',
  'csp.hci.ic.gov',
];
const ECR_PRIVATE_HOST = /^(\d{12})\.dkr([.-])ecr(-fips)?\.([a-z0-9-]+)\.([a-z0-9.-]+)$/;

/**
 * Recognises an ECR registry host: `<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]`,
 * the dual-stack `<account>.dkr-ecr[-fips].<region>.on.aws`, and `public.ecr.aws`.
 * Returns undefined for any other host (including one with a port).
 */
export function parseEcrRegistry(host: string): EcrRegistry | undefined {
  const h = host.toLowerCase();
  if (h === 'public.ecr.aws') return { type: 'public', host: 'public.ecr.aws' };
  const m = ECR_PRIVATE_HOST.exec(h);
  if (!m) return undefined;
  const [, accountId = '', separator, fips, region = '', suffix = ''] = m;
  const dualstack = separator === '-';
  if (!isRegion(region)) return undefined;
  if (dualstack ? suffix !== 'on.aws' : !ECR_DNS_SUFFIXES.includes(suffix)) return undefined;
  return {
    type: 'private',
    host: h,
    accountId,
    region,
    partition: partitionOfRegion(region),
    fips: fips !== undefined,
    dualstack,
  };
}

/** The private registry host for an account and region (IPv4, non-FIPS unless asked). */
export function ecrRegistryHost(
  accountId: string,
  region: string,
  options: { fips?: boolean; dualstack?: boolean } = {},
): string {
  const ecr = options.fips ? 'ecr-fips' : 'ecr';
  if (options.dualstack) return `${accountId}.dkr-${ecr}.${region}.on.aws`;
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `${accountId}.dkr.${ecr}.${region}.${suffix}`;
}

const ECR_REPOSITORY_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

/**
 * ECR CreateRepository's rule: 2 to 256 characters, lowercase path components separated by one
 * ".", "_" or "-". Stricter than docker's (which also allows "__" and "--"), and every existing
 * ECR repository satisfies it.
 */
export function isValidEcrRepositoryName(name: string): boolean {
  return name.length >= 2 && name.length <= 256 && ECR_REPOSITORY_NAME.test(name);
}

/**
 * The OCI distribution tag rule: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`, at most 128 characters.
 * The ECR API accepts imageTag up to 300 characters, but docker, the OCI registry API that
 * pushes go through (/v2/<name>/manifests/<tag>) and other registries stop at 128, so a longer
 * tag could be put with PutImage yet never pulled by reference.
 */
export function isValidImageTag(tag: string): boolean {
  return TAG.test(tag);
}
