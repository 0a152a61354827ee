import {
  ecrRegistryHost,
  formatImageReference,
  isValidEcrRepositoryName,
  isValidImageTag,
  normalizeImageReference,
  parseEcrRegistry,
  parseImageReference,
} from '../src/image-ref.js';
import type { ImageReference } from '../src/image-ref.js';
import { cut } from '../src/log.js';
import { ParseError } from '../src/parse.js';

const SHA = 'sha256:' + 'a1'.repeat(32);
const ECR = '123456789012.dkr.ecr.us-east-1.amazonaws.com';

describe('parseImageReference', () => {
  test.each<[string, ImageReference]>([
    ['nginx', { repository: 'nginx' }],
    ['nginx:1.27', { repository: 'nginx', tag: '1.27' }],
    ['library/nginx:latest', { repository: 'library/nginx', tag: 'latest' }],
    ['docker.io/library/nginx', { registry: 'docker.io', repository: 'library/nginx' }],
    ['localhost/app', { registry: 'localhost', repository: 'app' }],
    ['localhost:5000/a/b:t', { registry: 'localhost:5000', repository: 'a/b', tag: 't' }],
    [`localhost:5000/a/b:t@${SHA}`, { registry: 'localhost:5000', repository: 'a/b', tag: 't', digest: SHA }],
    [`${ECR}/app:1.2`, { registry: ECR, repository: 'app', tag: '1.2' }],
    [`${ECR}/team/app`, { registry: ECR, repository: 'team/app' }],
    ['public.ecr.aws/x/y', { registry: 'public.ecr.aws', repository: 'x/y' }],
    [`ghcr.io/o/r@${SHA}`, { registry: 'ghcr.io', repository: 'o/r', digest: SHA }],
    [`app@${SHA}`, { repository: 'app', digest: SHA }],
    ['[::1]:5000/x', { registry: '[::1]:5000', repository: 'x' }],
    ['[::1]:5000/x:v1', { registry: '[::1]:5000', repository: 'x', tag: 'v1' }],
    ['Registry/app', { registry: 'Registry', repository: 'app' }],
    ['my-registry:443/app', { registry: 'my-registry:443', repository: 'app' }],
    ['a/b/c/d:_tag', { repository: 'a/b/c/d', tag: '_tag' }],
    ['a__b/c--d/e.f_g:V1.0-rc.1', { repository: 'a__b/c--d/e.f_g', tag: 'V1.0-rc.1' }],
    ['app:' + 'x'.repeat(128), { repository: 'app', tag: 'x'.repeat(128) }],
    [`x@sha512:${'b'.repeat(128)}`, { repository: 'x', digest: `sha512:${'b'.repeat(128)}` }],
  ])('%s', (text, parts) => {
    const ref = parseImageReference(text);
    expect(ref).toEqual({ original: text, ...parts });
    expect(formatImageReference(ref)).toBe(text);
  });

  const expected =
    'Expected an image reference such as registry/repository:tag or repository@sha256:<64 hex digits>, got';
  test.each([
    ['', 'The value is empty'],
    ['nginx latest', 'It contains whitespace'],
    ['https://ghcr.io/o/r', 'Leave out the scheme (https://)'],
    ['App', 'Repository names must be lowercase: "App"'],
    ['ghcr.io/Owner/repo', 'Repository names must be lowercase: "Owner"'],
    [
      'a/-b',
      'The repository path component "-b" must be lowercase letters and digits, separated by ".", "_", "__" or "-"',
    ],
    [
      'a/b_',
      'The repository path component "b_" must be lowercase letters and digits, separated by ".", "_", "__" or "-"',
    ],
    [
      'a/b___c',
      'The repository path component "b___c" must be lowercase letters and digits, separated by ".", "_", "__" or "-"',
    ],
    ['a//b', 'The repository name has an empty path component ("//" or a "/" at an end)'],
    ['ghcr.io/', 'The repository name is empty'],
    ['ghcr.io/a/', 'The repository name has an empty path component ("//" or a "/" at an end)'],
    ['app:', 'The tag after ":" is empty'],
    [
      'app:-x',
      'The tag "-x" must be 1 to 128 letters, digits, "_", "." or "-", not starting with "." or "-"',
    ],
    [
      'app:' + 'x'.repeat(129),
      `The tag "${'x'.repeat(129)}" must be 1 to 128 letters, digits, "_", "." or "-", not starting with "." or "-"`,
    ],
    [
      'app:v+1',
      'The tag "v+1" must be 1 to 128 letters, digits, "_", "." or "-", not starting with "." or "-"',
    ],
    ['app@', 'The digest "" is not algorithm:hex, e.g. sha256:<64 hex digits>'],
    ['app@abc', 'The digest "abc" is not algorithm:hex, e.g. sha256:<64 hex digits>'],
    ['app@md5:' + 'a'.repeat(32), 'The digest algorithm "md5" is not sha256, sha384 or sha512'],
    ['app@sha256:abc', 'A sha256 digest has 64 lowercase hex digits; this one has "abc" (3 characters)'],
    [
      'app@sha256:' + 'A'.repeat(64),
      `A sha256 digest has 64 lowercase hex digits; this one has "${'A'.repeat(64)}" (64 characters)`,
    ],
    ['reg_istry.io/app', 'The registry "reg_istry.io" is not a host name with an optional port'],
    ['host:port/app', 'The registry "host:port" is not a host name with an optional port'],
    ['r.io/' + 'a'.repeat(251), 'The registry and repository together are 256 characters; at most 255'],
  ])('rejects %j', (text, hint) => {
    let error: unknown;
    try {
      parseImageReference(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ParseError);
    expect((error as ParseError).message).toBe(`${expected} ${JSON.stringify(cut(text))}. ${hint}`);
  });
});

describe('normalizeImageReference', () => {
  test.each([
    ['nginx', 'docker.io/library/nginx:latest'],
    ['nginx:1.27', 'docker.io/library/nginx:1.27'],
    [`nginx@${SHA}`, `docker.io/library/nginx@${SHA}`],
    ['bitnami/redis', 'docker.io/bitnami/redis:latest'],
    ['index.docker.io/nginx', 'docker.io/library/nginx:latest'],
    ['docker.io/library/nginx:1', 'docker.io/library/nginx:1'],
    ['ghcr.io/o/r', 'ghcr.io/o/r:latest'],
    [`${ECR}/app:1.2`, `${ECR}/app:1.2`],
    ['localhost:5000/app', 'localhost:5000/app:latest'],
  ])('%s -> %s', (text, normalized) => {
    const ref = parseImageReference(text);
    expect(formatImageReference(normalizeImageReference(ref))).toBe(normalized);
    expect(ref.original).toBe(text);
  });
});

describe('parseEcrRegistry', () => {
  test.each([
    [
      ECR,
      {
        type: 'private',
        host: ECR,
        accountId: '123456789012',
        region: 'us-east-1',
        partition: 'aws',
        fips: false,
        dualstack: false,
      },
    ],
    [
      '123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com',
      {
        accountId: '123456789012',
        region: 'us-gov-west-1',
        partition: 'aws-us-gov',
        fips: true,
        dualstack: false,
      },
    ],
    [
      '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn',
      { region: 'cn-north-1', partition: 'aws-cn', fips: false, dualstack: false },
    ],
    ['123456789012.dkr-ecr.eu-central-2.on.aws', { region: 'eu-central-2', fips: false, dualstack: true }],
    ['123456789012.dkr-ecr-fips.us-east-2.on.aws', { region: 'us-east-2', fips: true, dualstack: true }],
    ['123456789012.DKR.ECR.US-EAST-1.AMAZONAWS.COM', { region: 'us-east-1', host: ECR }],
    ['public.ecr.aws', { type: 'public', host: 'public.ecr.aws' }],
  ])('%s', (host, fields) => {
    expect(parseEcrRegistry(host)).toMatchObject(fields);
  });

  test.each([
    'ghcr.io',
    'docker.io',
    `${ECR}:443`,
    '12345678901.dkr.ecr.us-east-1.amazonaws.com',
    '123456789012.dkr.ecr.us-east.amazonaws.com',
    '123456789012.dkr.ecr.us-east-1.example.com',
    '123456789012.dkr-ecr.us-east-1.amazonaws.com',
    '123456789012.dkr.ecr.us-east-1.on.aws',
    'ecr.aws',
  ])('%s is not an ECR registry', (host) => {
    expect(parseEcrRegistry(host)).toBeUndefined();
  });

  test.each([
    ['123456789012', 'us-east-1', {}, ECR],
    ['123456789012', 'cn-north-1', {}, '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn'],
    ['123456789012', 'us-east-1', { fips: true }, '123456789012.dkr.ecr-fips.us-east-1.amazonaws.com'],
    ['123456789012', 'us-east-1', { dualstack: true }, '123456789012.dkr-ecr.us-east-1.on.aws'],
  ])('ecrRegistryHost(%s, %s, %j) round-trips', (account, region, options, host) => {
    expect(ecrRegistryHost(account, region, options)).toBe(host);
    expect(parseEcrRegistry(host)).toMatchObject({ accountId: account, region });
  });
});

describe('isValidEcrRepositoryName', () => {
  test.each(['ab', 'app', 'team/app', 'a.b_c-d/e', 'a1/b2/c3', 'x'.repeat(256)])('%s is valid', (name) => {
    expect(isValidEcrRepositoryName(name)).toBe(true);
  });
  test.each(['a', 'App', 'a__b', 'a--b', '-a', 'a-', 'a//b', '/a', 'a/', 'a b', 'x'.repeat(257), ''])(
    '%j is invalid',
    (name) => {
      expect(isValidEcrRepositoryName(name)).toBe(false);
    },
  );
});

describe('isValidImageTag', () => {
  test.each(['latest', 'v1.2.3', '1.2', '_x', 'sha-abc1234', 'UPPER', 'a_b-c.d', 'x'.repeat(128)])(
    '%s is valid',
    (tag) => {
      expect(isValidImageTag(tag)).toBe(true);
    },
  );
  test.each(['', '.x', '-x', 'a/b', 'a:b', 'v1+build', 'x'.repeat(129), 'x'.repeat(300), 'ü'])(
    '%j is invalid',
    (tag) => {
      expect(isValidImageTag(tag)).toBe(false);
    },
  );
});
