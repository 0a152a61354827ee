// The daemonless registry client: read an OCI layout or a docker save archive, push it.
export * from './types.js';
export { digestOf, DigestMismatchError } from './digest.js';
export { readOciLayout, REF_NAME_ANNOTATION, type ReadOciLayoutOptions } from './oci-layout.js';
export { readDockerArchive, type ReadDockerArchiveOptions } from './docker-archive.js';
export {
  RegistryClient,
  RegistryError,
  parseChallenge,
  type RegistryAuth,
  type RegistryConnectionOptions,
} from './client.js';
export { NetworkError } from './http.js';
export {
  pushImage,
  getManifestDigest,
  manifestExists,
  type PushImageOptions,
  type PushProgress,
  type PushResult,
  type ManifestLookupOptions,
} from './push.js';
