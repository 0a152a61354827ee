// The registry data plane: the OCI distribution API v2 under /v2/, as ECR serves it to docker,
// skopeo, podman and crane. It shares its state with the ECR API (ecr/model.ts) and logs every call
// with the IAM action ECR checks for it. As on AWS, the host a request is sent to names the
// registry (account and region, registry/hosts.ts); the token names who calls, and must come from
// ECR in that region.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Clock, HttpRoute, IamCheck, Identity, RouteEnv } from '../service.js';
import { basicPassword, verifyPassword, type RegistryCredential } from '../ecr/auth.js';
import { repositoryRequest } from '../ecr/authorization.js';
import {
  createFromTemplate,
  deleteImage,
  IMAGE_TAG_RE,
  PushError,
  putManifest,
  referencedBy,
  registryOf,
  REPOSITORY_NAME_RE,
  tagsOf,
  templateFor,
  type EcrState,
  type RegistryState,
  type RepositoryState,
} from '../ecr/model.js';
import { DIGEST_RE, type BlobStore } from './blobs.js';
import type { RegistryAddress, RegistryHosts } from './hosts.js';
import { baseMediaType, MAX_MANIFEST_BYTES } from './manifest.js';

/** ECR requires every part of a chunked upload but the last to be at least 5 MiB. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;

type Op =
  | 'Ping'
  | 'BatchCheckLayerAvailability'
  | 'GetDownloadUrlForLayer'
  | 'InitiateLayerUpload'
  | 'UploadLayerPart'
  | 'CompleteLayerUpload'
  | 'PutImage'
  | 'BatchGetImage'
  | 'BatchDeleteImage'
  | 'ListImages';

interface Call {
  op: Op;
  handler: () => Promise<void>;
}

type Send = (
  code: number,
  headers: Record<string, string | number>,
  body?: Buffer | string | NodeJS.ReadableStream,
) => Promise<void>;

class RegistryError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly detail?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface RegistryRouteDeps {
  ecr: EcrState;
  blobs: BlobStore;
  save: () => void;
  /** Which registry each listener serves. */
  hosts: RegistryHosts;
  /** The time token expiry is checked against (the server's credential clock). */
  credentialNow: () => number;
}

export function createRegistryRoute(deps: RegistryRouteDeps): HttpRoute {
  const { ecr, blobs, save, hosts, credentialNow } = deps;
  /** upload id → the repository (registry key + name) it belongs to. */
  const uploadRepo = new Map<string, string>();

  return {
    prefix: '/v2/',
    async handle(req, res, env) {
      const url = new URL(req.url ?? '/', 'http://registry.invalid');
      const method = (req.method ?? 'GET').toUpperCase();
      const realm = `${(req.socket as TLSSocket).encrypted ? 'https' : 'http'}://${req.headers.host ?? '127.0.0.1'}/`;
      let status = 0;
      let errorCode: string | undefined;
      let identity: Identity | undefined;
      const logged: Array<{ op: string; status?: number }> = [];
      const iam: IamCheck[] = [];
      const secure = (req.socket as TLSSocket).encrypted === true;
      /** IAM for the caller: `ops` on the repository `name` of this registry, or DENIED. */
      const authorize = (here: RegistryAddress, name: string, ops: string[]) => {
        if (!identity) return;
        const requests = ops.map((op) => repositoryRequest(ecr, op, here, name));
        const outcome = env.authorize(identity, requests, { region: here.region, secure });
        iam.push(...outcome.checks);
        if (outcome.denied) throw new RegistryError(403, 'DENIED', outcome.denied);
      };
      const checksOf = (op: string) => iam.filter((c) => c.action === `ecr:${op}`);

      const send: Send = async (code, headers, body) => {
        status = code;
        res.statusCode = code;
        res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
        for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
        if (body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body)) {
          await pipeTo(body, res);
        } else if (body !== undefined) {
          if (!res.hasHeader('Content-Length')) res.setHeader('Content-Length', Buffer.byteLength(body));
          res.end(body);
        } else {
          if (!res.hasHeader('Content-Length')) res.setHeader('Content-Length', 0);
          res.end();
        }
      };
      const fail = (e: RegistryError) => {
        errorCode = e.code;
        const body = JSON.stringify({
          errors: [{ code: e.code, message: e.message, detail: e.detail ?? {} }],
        });
        void send(e.status, { 'Content-Type': 'application/json; charset=utf-8', ...e.headers }, body);
      };

      let call: Call;
      try {
        const here = hosts.at(req.socket.localPort);
        if (!here) throw new RegistryError(404, 'UNSUPPORTED', 'No registry is served on this port.');
        const setCred = (c: RegistryCredential) => (identity = c.identity);
        call = route(method, url, req, send, setCred, logged, {
          realm,
          here,
          clock: env.clock,
          authorize: (name, ops) => authorize(here, name, ops),
        });
      } catch (e) {
        if (!(e instanceof RegistryError)) throw e;
        drain(req);
        fail(e);
        return;
      }
      // A registry ping maps to no IAM action: it is neither faulted nor logged.
      if (call.op !== 'Ping' && (await env.fault('ecr', call.op, res))) {
        drain(req);
        return;
      }
      try {
        await call.handler();
      } catch (e) {
        if (!(e instanceof RegistryError)) {
          drain(req);
          if (!res.headersSent)
            fail(new RegistryError(500, 'UNKNOWN', e instanceof Error ? e.message : String(e)));
          else res.destroy();
          errorCode = 'UNKNOWN';
        } else {
          drain(req);
          fail(e);
        }
      }
      drain(req);
      for (const extra of logged) {
        env.log({
          service: 'ecr',
          operation: extra.op,
          identity,
          status: extra.status ?? status,
          iam: checksOf(extra.op),
        });
      }
      if (call.op !== 'Ping') {
        const entry: Parameters<RouteEnv['log']>[0] = {
          service: 'ecr',
          operation: call.op,
          status,
          iam: checksOf(call.op),
        };
        if (identity) entry.identity = identity;
        if (errorCode) entry.errorCode = errorCode;
        env.log(entry);
      }
    },
  };

  function route(
    method: string,
    url: URL,
    req: IncomingMessage,
    send: Send,
    setCred: (c: RegistryCredential) => void,
    logged: Array<{ op: string; status?: number }>,
    at: {
      realm: string;
      here: RegistryAddress;
      clock: Clock;
      authorize: (name: string, ops: string[]) => void;
    },
  ): Call {
    const { realm, here, clock } = at;
    const clockNow = () => clock.now();
    const path = url.pathname;
    const authenticate = (): RegistryCredential => {
      const basic = basicPassword(req.headers.authorization);
      const challenge = { 'WWW-Authenticate': `Basic realm="${realm}",service="ecr.amazonaws.com"` };
      if (!basic) throw new RegistryError(401, 'UNAUTHORIZED', 'Not Authorized', undefined, challenge);
      const v =
        basic.user === 'AWS'
          ? verifyPassword(ecr.secret, basic.password, credentialNow())
          : ({ ok: false, reason: 'invalid' } as const);
      if (!v.ok) {
        if (v.reason === 'expired') {
          throw new RegistryError(
            403,
            'DENIED',
            'Your authorization token has expired. Reauthenticate and try again.',
          );
        }
        throw new RegistryError(401, 'UNAUTHORIZED', 'Not Authorized', undefined, challenge);
      }
      // A token works on any account's registry (no IAM here to say otherwise), but only in the
      // region whose ECR issued it; AWS answers a login with another region's token 400.
      if (v.cred.region !== here.region) {
        throw new RegistryError(
          400,
          'DENIED',
          `This authorization token was issued by ECR in ${v.cred.region}, and the registry ${here.host} is in ${here.region}. Get a token from ECR in ${here.region}.`,
        );
      }
      setCred(v.cred);
      return v.cred;
    };

    if (path === '/v2/' || path === '/v2') {
      return {
        op: 'Ping',
        handler: async () => {
          authenticate();
          await send(200, { 'Content-Type': 'application/json; charset=utf-8' }, '{}');
        },
      };
    }
    const m = /^\/v2\/(.+?)\/(blobs\/uploads\/?([^/]*)|blobs\/([^/]+)|manifests\/([^/]+)|tags\/list)$/.exec(
      path,
    );
    if (!m) throw new RegistryError(404, 'UNSUPPORTED', 'The operation is unsupported.');
    const name = m[1]!;
    const uploadId = m[2]!.startsWith('blobs/uploads') ? decodeURIComponent(m[3] ?? '') : undefined;
    const blobDigest = m[4] !== undefined ? decodeURIComponent(m[4]) : undefined;
    const manifestRef = m[5] !== undefined ? decodeURIComponent(m[5]) : undefined;

    const registry = (): RegistryState => registryOf(ecr, here.accountId, here.region);
    const checkName = () => {
      if (!REPOSITORY_NAME_RE.test(name) || name.length < 2 || name.length > 256) {
        throw new RegistryError(400, 'NAME_INVALID', 'invalid repository name', name);
      }
    };
    const nameUnknown = (reg: RegistryState) =>
      new RegistryError(
        404,
        'NAME_UNKNOWN',
        `The repository with name '${name}' does not exist in the registry with id '${reg.accountId}'`,
      );
    /** IAM for the caller, as ECR evaluates a registry call: before it looks at the repository. */
    const authorize = (...ops: string[]) => at.authorize(name, ops);
    /** Authenticates, authorises `op`, then the repository named in the path, which must exist. */
    const existingRepo = (op: Op): { reg: RegistryState; repo: RepositoryState } => {
      authenticate();
      checkName();
      authorize(op);
      const reg = registry();
      const repo = reg.repositories[name];
      if (!repo) throw nameUnknown(reg);
      return { reg, repo };
    };
    /** The repository to push into: existing, or created from a CREATE_ON_PUSH template. */
    const pushRepo = (): { reg: RegistryState; repo: RepositoryState } => {
      checkName();
      const reg = registry();
      let repo = reg.repositories[name];
      if (!repo) {
        const t = templateFor(reg, name);
        if (!t) throw nameUnknown(reg);
        // Creating on push takes the pusher's ecr:CreateRepository (and ecr:TagResource for tags).
        authorize('CreateRepository', ...(t.resourceTags.length > 0 ? ['TagResource'] : []));
        repo = createFromTemplate(reg, name, t, clockNow());
        save();
        logged.push({ op: 'CreateRepository', status: 200 });
        if (repo.tags.length > 0) logged.push({ op: 'TagResource', status: 200 });
      }
      return { reg, repo };
    };
    const uploadKey = (reg: RegistryState, id: string) => `${reg.accountId}/${reg.region}/${name}/${id}`;
    const uploadHeaders = (id: string) => {
      const size = blobs.uploadSize(id) ?? 0;
      return {
        Location: `/v2/${name}/blobs/uploads/${id}`,
        Range: `0-${size > 0 ? size - 1 : 0}`,
        'Docker-Upload-UUID': id,
      };
    };
    /** existingRepo, and the upload session `id` opened in it. */
    const existingUpload = (id: string, op: Op): { reg: RegistryState; repo: RepositoryState } => {
      const { reg, repo } = existingRepo(op);
      if (!id || !blobs.hasUpload(id) || uploadRepo.get(id) !== uploadKey(reg, id)) {
        throw new RegistryError(404, 'BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', id);
      }
      return { reg, repo };
    };
    const checkDigest = (d: string | null | undefined, missing = 'digest missing'): string => {
      if (!d) throw digestInvalid(missing);
      if (!DIGEST_RE.test(d)) throw digestInvalid(`invalid digest ${d}`);
      return d;
    };
    const checkParts = (id: string) => {
      const parts = blobs.uploadParts(id);
      const last = parts[parts.length - 1];
      if (last !== undefined && last < MIN_PART_BYTES) {
        throw new RegistryError(
          400,
          'BLOB_UPLOAD_INVALID',
          `Layer part size must be at least ${MIN_PART_BYTES} bytes except for the last part`,
          { partSize: last },
        );
      }
    };
    /** The 201 that says the repository now has the blob (uploaded or mounted). */
    const blobCreated = (digest: string) =>
      send(201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest });
    const completeUpload = async (reg: RegistryState, repo: RepositoryState, id: string, digest: string) => {
      uploadRepo.delete(id);
      const r = await blobs.finishUpload(id, digest);
      if (!r.ok) throw digestInvalid({ expected: digest, actual: r.actual });
      repo.blobs[digest] = true;
      save();
      await blobCreated(digest);
      void reg;
    };
    const hasBody = () => {
      const cl = req.headers['content-length'];
      if (cl !== undefined) return Number(cl) > 0;
      return req.headers['transfer-encoding'] !== undefined;
    };

    // ---- blobs ----
    if (blobDigest !== undefined) {
      if (method === 'HEAD' || method === 'GET') {
        const op: Op = method === 'HEAD' ? 'BatchCheckLayerAvailability' : 'GetDownloadUrlForLayer';
        return {
          op,
          handler: async () => {
            const { repo } = existingRepo(op);
            const digest = checkDigest(blobDigest);
            const size = repo.blobs[digest] ? blobs.size(digest) : undefined;
            if (size === undefined)
              throw new RegistryError(404, 'BLOB_UNKNOWN', 'blob unknown to registry', digest);
            const base = {
              'Content-Type': 'application/octet-stream',
              'Docker-Content-Digest': digest,
              Etag: `"${digest}"`,
              'Accept-Ranges': 'bytes',
              'Cache-Control': 'max-age=31536000',
            };
            const range = method === 'GET' ? parseRange(req.headers.range, size) : undefined;
            if (range === 'unsatisfiable') {
              throw new RegistryError(416, 'BLOB_UNKNOWN', 'requested range not satisfiable', undefined, {
                'Content-Range': `bytes */${size}`,
              });
            }
            if (method === 'HEAD') return send(200, { ...base, 'Content-Length': size });
            if (range) {
              return send(
                206,
                {
                  ...base,
                  'Content-Length': range.end - range.start + 1,
                  'Content-Range': `bytes ${range.start}-${range.end}/${size}`,
                },
                blobs.read(digest, range.start, range.end),
              );
            }
            return send(200, { ...base, 'Content-Length': size }, size === 0 ? '' : blobs.read(digest));
          },
        };
      }
      if (method === 'DELETE') {
        return {
          op: 'BatchDeleteImage',
          handler: async () => {
            authenticate();
            throw unsupported();
          },
        };
      }
      throw unsupported();
    }

    // ---- uploads ----
    if (uploadId !== undefined) {
      if (method === 'POST' && uploadId === '') {
        return {
          op: 'InitiateLayerUpload',
          handler: async () => {
            authenticate();
            checkName();
            const mount = url.searchParams.get('mount');
            const from = url.searchParams.get('from');
            const monolithic = url.searchParams.get('digest');
            // One request with the digest is all three layer-upload actions in IAM's terms.
            if (monolithic !== null && mount === null)
              authorize('InitiateLayerUpload', 'UploadLayerPart', 'CompleteLayerUpload');
            else authorize('InitiateLayerUpload');
            const { reg, repo } = pushRepo();
            if (mount !== null) {
              const digest = checkDigest(mount);
              // ECR: mounting a layer from a repository needs ecr:GetDownloadUrlForLayer on it.
              // Logged as a call of its own, so the op log keeps the question (and a refusal).
              if (from !== null && REPOSITORY_NAME_RE.test(from)) {
                logged.push({ op: 'GetDownloadUrlForLayer' });
                at.authorize(from, ['GetDownloadUrlForLayer']);
              }
              const source = from !== null ? reg.repositories[from] : undefined;
              if (source && source.blobs[digest] && blobs.has(digest)) {
                repo.blobs[digest] = true;
                save();
                return blobCreated(digest);
              }
            }
            if (monolithic !== null && mount !== null) authorize('UploadLayerPart', 'CompleteLayerUpload');
            const id = await blobs.startUpload(clockNow());
            uploadRepo.set(id, uploadKey(reg, id));
            if (monolithic !== null) {
              const digest = checkDigest(monolithic);
              await blobs.append(id, req);
              // One request that is all three layer-upload actions in IAM's terms.
              logged.push({ op: 'UploadLayerPart' }, { op: 'CompleteLayerUpload' });
              return completeUpload(reg, repo, id, digest);
            }
            await send(202, uploadHeaders(id));
          },
        };
      }
      if (method === 'PATCH') {
        return {
          op: 'UploadLayerPart',
          handler: async () => {
            existingUpload(uploadId, 'UploadLayerPart');
            const size = blobs.uploadSize(uploadId)!;
            const ct = req.headers['content-type'];
            if (ct !== undefined && ct !== '' && baseMediaType(ct) !== 'application/octet-stream') {
              // distribution rejects other content types on PATCH
              throw uploadInvalid(`bad Content-Type ${ct}`);
            }
            const cr = req.headers['content-range'];
            if (cr !== undefined) {
              const r = /^(?:bytes[ =])?(\d+)-(\d+)$/.exec(cr.trim());
              if (!r) throw uploadInvalid(`bad Content-Range ${cr}`);
              const start = Number(r[1]);
              const end = Number(r[2]);
              const cl = req.headers['content-length'];
              if (start > end || start !== size || (cl !== undefined && Number(cl) !== end - start + 1)) {
                return send(416, { ...uploadHeaders(uploadId) });
              }
            }
            checkParts(uploadId);
            const n = await blobs.append(uploadId, req);
            blobs.recordPart(uploadId, n);
            await send(202, uploadHeaders(uploadId));
          },
        };
      }
      if (method === 'PUT') {
        return {
          op: 'CompleteLayerUpload',
          handler: async () => {
            const { reg, repo } = existingUpload(uploadId, 'CompleteLayerUpload');
            const digest = checkDigest(url.searchParams.get('digest'));
            if (hasBody()) {
              // The closing PUT carries bytes: in IAM's terms a layer part is uploaded too.
              logged.push({ op: 'UploadLayerPart' });
              authorize('UploadLayerPart');
              checkParts(uploadId);
              const n = await blobs.append(uploadId, req);
              if (n > 0) blobs.recordPart(uploadId, n);
            }
            await completeUpload(reg, repo, uploadId, digest);
          },
        };
      }
      if (method === 'GET') {
        return {
          op: 'UploadLayerPart',
          handler: async () => {
            existingUpload(uploadId, 'UploadLayerPart');
            await send(204, uploadHeaders(uploadId));
          },
        };
      }
      if (method === 'DELETE') {
        return {
          op: 'UploadLayerPart',
          handler: async () => {
            existingUpload(uploadId, 'UploadLayerPart');
            uploadRepo.delete(uploadId);
            await blobs.cancelUpload(uploadId);
            await send(204, {});
          },
        };
      }
      throw unsupported();
    }

    // ---- manifests ----
    if (manifestRef !== undefined) {
      const isDigest = manifestRef.includes(':');
      const checkRef = () => {
        if (isDigest ? !DIGEST_RE.test(manifestRef) : !IMAGE_TAG_RE.test(manifestRef)) {
          throw new RegistryError(
            400,
            isDigest ? 'DIGEST_INVALID' : 'TAG_INVALID',
            isDigest ? 'provided digest is invalid' : 'manifest tag did not match URI',
            manifestRef,
          );
        }
      };
      const manifestUnknown = (message: string) =>
        new RegistryError(
          404,
          'MANIFEST_UNKNOWN',
          message,
          isDigest ? { Digest: manifestRef } : { Tag: manifestRef },
        );
      const lookup = (repo: RepositoryState) => {
        const digest = isDigest ? manifestRef : repo.imageTags[manifestRef];
        const image = digest !== undefined ? repo.images[digest] : undefined;
        if (!image) throw manifestUnknown('Requested image not found');
        return image;
      };
      if (method === 'GET' || method === 'HEAD') {
        return {
          op: 'BatchGetImage',
          handler: async () => {
            const { repo } = existingRepo('BatchGetImage');
            checkRef();
            const image = lookup(repo);
            if (!accepts(req.headers.accept, image.mediaType)) {
              throw manifestUnknown(
                `Requested image not found: its media type ${image.mediaType} is not in the Accept header`,
              );
            }
            const body = Buffer.from(image.manifest, 'utf8');
            if (method === 'GET') {
              image.lastPulledAt = clockNow();
              save();
            }
            await send(
              200,
              {
                'Content-Type': image.mediaType,
                'Docker-Content-Digest': image.digest,
                Etag: `"${image.digest}"`,
                'Content-Length': body.length,
              },
              body,
            );
          },
        };
      }
      if (method === 'PUT') {
        return {
          op: 'PutImage',
          handler: async () => {
            authenticate();
            checkName();
            authorize('PutImage');
            checkRef();
            const declared = Number(req.headers['content-length'] ?? '0');
            if (declared > MAX_MANIFEST_BYTES) throw tooLarge(declared);
            const body = await readCapped(req, MAX_MANIFEST_BYTES);
            if (!body) throw tooLarge(MAX_MANIFEST_BYTES + 1);
            const { reg, repo } = pushRepo();
            const opts: Parameters<typeof putManifest>[4] = { via: 'registry' };
            const mt = baseMediaType(req.headers['content-type']);
            if (mt !== undefined) opts.mediaType = mt;
            if (isDigest) opts.digest = manifestRef;
            else opts.tag = manifestRef;
            try {
              const r = putManifest(repo, blobs, clock, body, opts);
              save();
              await send(201, {
                Location: `/v2/${name}/manifests/${r.digest}`,
                'Docker-Content-Digest': r.digest,
              });
            } catch (e) {
              if (e instanceof PushError) throw pushErrorToRegistry(e, reg, repo);
              throw e;
            }
          },
        };
      }
      if (method === 'DELETE') {
        return {
          op: 'BatchDeleteImage',
          handler: async () => {
            const { repo } = existingRepo('BatchDeleteImage');
            checkRef();
            const image = lookup(repo);
            if (isDigest) {
              const parents = referencedBy(repo, image.digest);
              if (parents.length > 0) {
                throw new RegistryError(
                  400,
                  'UNSUPPORTED',
                  `Requested image referenced by manifest list: [${parents.join(', ')}]`,
                );
              }
              deleteImage(repo, image.digest);
            } else {
              delete repo.imageTags[manifestRef];
              if (tagsOf(repo, image.digest).length === 0 && referencedBy(repo, image.digest).length === 0) {
                deleteImage(repo, image.digest);
              }
            }
            save();
            await send(202, {});
          },
        };
      }
      throw unsupported();
    }

    // ---- tags/list ----
    if (method !== 'GET') throw unsupported();
    return {
      op: 'ListImages',
      handler: async () => {
        const { repo } = existingRepo('ListImages');
        let tags = Object.keys(repo.imageTags).sort();
        const last = url.searchParams.get('last');
        if (last) tags = tags.filter((t) => t > last);
        const nParam = url.searchParams.get('n');
        const headers: Record<string, string> = { 'Content-Type': 'application/json; charset=utf-8' };
        if (nParam !== null) {
          const n = Number(nParam);
          if (!Number.isInteger(n) || n < 0)
            throw new RegistryError(
              400,
              'PAGINATION_NUMBER_INVALID',
              'invalid number of results requested',
              nParam,
            );
          if (tags.length > n) {
            tags = tags.slice(0, n);
            headers.Link = `</v2/${name}/tags/list?last=${encodeURIComponent(tags[tags.length - 1] ?? '')}&n=${n}>; rel="next"`;
          }
        }
        await send(200, headers, JSON.stringify({ name, tags }));
      },
    };
  }

  function pushErrorToRegistry(e: PushError, reg: RegistryState, repo: RepositoryState): RegistryError {
    const f = e.failure;
    switch (f.kind) {
      case 'invalid':
        return new RegistryError(400, 'MANIFEST_INVALID', 'manifest invalid', f.message);
      case 'tooLarge':
        return tooLarge(f.size);
      case 'layersNotFound':
        return new RegistryError(
          400,
          'MANIFEST_BLOB_UNKNOWN',
          `Layers with digests '[${f.digests.join(', ')}]' required for pushing image into repository with name '${repo.name}' in the registry with id '${reg.accountId}' do not exist`,
          f.digests[0],
        );
      case 'referencedNotFound':
        return new RegistryError(
          400,
          'MANIFEST_BLOB_UNKNOWN',
          `Images with digests '[${f.digests.join(', ')}]' required for pushing image into repository with name '${repo.name}' in the registry with id '${reg.accountId}' do not exist`,
          f.digests[0],
        );
      case 'digestMismatch':
        return digestInvalid({ expected: f.expected, actual: f.actual });
      case 'tagImmutable':
        return new RegistryError(
          400,
          'TAG_INVALID',
          `The image tag '${f.tag}' already exists in the '${repo.name}' repository and cannot be overwritten because the tag is immutable.`,
        );
      case 'alreadyExists':
        return new RegistryError(400, 'MANIFEST_INVALID', 'manifest already exists');
    }
  }
}

// Errors the distribution spec names, each raised from more than one place.

function unsupported(): RegistryError {
  return new RegistryError(405, 'UNSUPPORTED', 'The operation is unsupported.');
}

function digestInvalid(detail: unknown): RegistryError {
  return new RegistryError(400, 'DIGEST_INVALID', 'provided digest did not match uploaded content', detail);
}

function uploadInvalid(detail: string): RegistryError {
  return new RegistryError(400, 'BLOB_UPLOAD_INVALID', 'blob upload invalid', detail);
}

function tooLarge(size: number): RegistryError {
  return new RegistryError(
    413,
    'MANIFEST_INVALID',
    `manifest too large: the limit is ${MAX_MANIFEST_BYTES} bytes`,
    { size },
  );
}

function drain(req: IncomingMessage): void {
  if (!req.readableEnded && !req.destroyed) req.resume();
}

async function readCapped(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    const chunk = c as Buffer;
    n += chunk.length;
    if (n > limit) return undefined;
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}

/** Whether an Accept header admits a media type; no Accept (or a wildcard) admits anything. */
function accepts(header: string | undefined, mediaType: string): boolean {
  if (!header) return true;
  const types = header
    .split(',')
    .map((t) => baseMediaType(t))
    .filter((t): t is string => t !== undefined);
  if (types.length === 0) return true;
  return types.some((t) => t === mediaType || t === '*/*' || t === 'application/*');
}

async function pipeTo(src: NodeJS.ReadableStream | undefined, res: ServerResponse): Promise<void> {
  if (!src) {
    res.end();
    return;
  }
  await new Promise<void>((resolve, reject) => {
    src.on('error', reject);
    res.on('close', () => resolve());
    res.on('finish', () => resolve());
    src.pipe(res);
  });
}
