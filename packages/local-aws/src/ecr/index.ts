// ECR: the JSON 1.1 control plane and the OCI registry data plane, sharing one state.
// Minimal placeholder so startLocalAws() can import it; the operations land next.
import type { JsonService, ServiceFactory } from '../service.js';

/** Test hooks for ECR, exposed on the handle startLocalAws() returns (as `ecr`). */
export interface EcrAdmin {
  /** Attach scan findings (the DescribeImageScanFindings fixture) to an image digest. */
  setScanFindings(imageDigest: string, findings: ScanFindingsFixture): void;
}

export interface ScanFindingsFixture {
  findings?: Array<{
    name: string;
    severity: 'INFORMATIONAL' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL' | 'UNDEFINED';
    description?: string;
    uri?: string;
    attributes?: Array<{ key: string; value?: string }>;
  }>;
}

export const createEcr: ServiceFactory<EcrAdmin> = () => {
  const fixtures = new Map<string, ScanFindingsFixture>();
  const ecr: JsonService = {
    protocol: 'json1.1',
    signingName: 'ecr',
    targetPrefix: 'AmazonEC2ContainerRegistry_V20150921',
    operations: {},
  };
  return {
    services: [ecr],
    routes: [],
    admin: {
      setScanFindings(imageDigest, findings) {
        fixtures.set(imageDigest, findings);
      },
    },
  };
};
