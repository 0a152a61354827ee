// ECR: the JSON 1.1 control plane and the OCI registry data plane, sharing one state.
import type { JsonService, ServiceFactory } from '../service.js';
import { BlobStore } from '../registry/blobs.js';
import { createRegistryRoute } from '../registry/route.js';
import { createEcrOperations } from './api.js';
import { DEFAULT_SCAN_DURATION_MS, loadState, type EcrState, type ScanFindingsFixture } from './model.js';

export type { ScanFinding, ScanFindingsFixture } from './model.js';

/** Test hooks for ECR, exposed on the handle startLocalAws() returns. */
export interface EcrAdmin {
  /**
   * Attach scan findings (what DescribeImageScanFindings returns once a scan completes) to an image
   * digest, in every repository. `{ failWith: '…' }` makes the scan end FAILED instead.
   */
  setScanFindings(imageDigest: string, findings: ScanFindingsFixture): void;
  /** How long a scan stays IN_PROGRESS, in clock milliseconds (default 3000). */
  setScanDuration(ms: number): void;
  /** A deep copy of ECR's whole state (repositories, images, tags, templates), for assertions. */
  snapshot(): EcrState;
  /** Whether the blob store holds a blob (in any repository). */
  hasBlob(digest: string): boolean;
}

export const ECR_TARGET_PREFIX = 'AmazonEC2ContainerRegistry_V20150921';

export const createEcr: ServiceFactory<EcrAdmin> = ({ state }) => {
  const ecr = loadState(state);
  const blobs = new BlobStore(state);
  const save = () => state.save();
  const service: JsonService = {
    protocol: 'json1.1',
    signingName: 'ecr',
    targetPrefix: ECR_TARGET_PREFIX,
    operations: createEcrOperations(ecr, blobs, save),
  };
  return {
    services: [service],
    routes: [createRegistryRoute({ ecr, blobs, save })],
    admin: {
      setScanFindings(imageDigest, findings) {
        ecr.scanFindings[imageDigest] = structuredClone(findings);
        save();
      },
      setScanDuration(ms) {
        ecr.scanDurationMs = ms >= 0 ? ms : DEFAULT_SCAN_DURATION_MS;
        save();
      },
      snapshot() {
        return structuredClone(ecr);
      },
      hasBlob(digest) {
        return blobs.has(digest);
      },
    },
  };
};
