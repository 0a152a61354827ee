// AWS's API rate limits (`--throttle aws`): token buckets per account, region, service and
// category, with the capacities and refill rates AWS documents, refilled on the simulated clock.
// Off by default; on, a caller that outruns AWS's limits is refused here as AWS would refuse it,
// so the retries, back-off and pacing of the code under test are exercised before AWS does it.
// The server asks admit() after authentication (and armed faults), before the operation runs.
import type { Clock } from '../service.js';

export type ThrottleMode = 'off' | 'aws';

export const THROTTLE_MODES: readonly ThrottleMode[] = ['off', 'aws'];

/** One bucket's limits and the operations that share it. */
export interface ThrottleCategory {
  /** SigV4 signing name ("ecs"). */
  service: string;
  /** What AWS calls the category ("Service read actions"), or the operation for per-API quotas. */
  category: string;
  /** Bucket maximum capacity: the burst. */
  burst: number;
  /** Bucket refill rate, tokens per (simulated) second: the sustained rate. */
  rate: number;
  operations: readonly string[];
  /** The AWS page the figures come from, or "not documented; ours". */
  source: string;
}

/** The bucket of a category in one account and region, at the time it is read. */
export interface BucketState {
  account: string;
  region: string;
  service: string;
  category: string;
  tokens: number;
  burst: number;
  rate: number;
}

export interface ThrottleSnapshot {
  enabled: boolean;
  buckets: BucketState[];
  /** Calls refused since the start. */
  throttledCount: number;
}

/** Where a row's figures come from, or "ours" for a figure AWS does not document. */
const ECS_THROTTLING = 'docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html';
const ECR_QUOTAS = 'docs.aws.amazon.com/AmazonECR/latest/userguide/service-quotas.html';
const STS_QUOTAS = 'docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html (STS request quotas)';

const ecs = (category: string, burst: number, rate: number, operations: string[]): ThrottleCategory => ({
  service: 'ecs',
  category,
  burst,
  rate,
  operations,
  source: ECS_THROTTLING,
});

/** An ECR per-API rate quota ("Rate of PutImage requests: 10 per second"): its own bucket, burst = rate. */
const ecrRate = (operation: string, perSecond: number): ThrottleCategory => ({
  service: 'ecr',
  category: operation,
  burst: perSecond,
  rate: perSecond,
  operations: [operation],
  source: ECR_QUOTAS,
});

/**
 * The limits `--throttle aws` applies. An operation in no row is not throttled (ECR's other
 * APIs, IAM, EC2, ELBv2, Logs, SSM, Secrets Manager, the Kubernetes API of EKS clusters, and STS's
 * unsigned AssumeRoleWithWebIdentity).
 */
export const AWS_THROTTLE_CATEGORIES: readonly ThrottleCategory[] = [
  // ECS: the table "Request token bucket sizes and refill rates", per account per Region.
  ecs('Cluster modify actions', 20, 1, [
    'CreateCluster',
    'DeleteCluster',
    'PutClusterCapacityProviders',
    'UpdateCluster',
    'UpdateClusterSettings',
  ]),
  ecs('Cluster read actions', 50, 20, ['DescribeClusters', 'ListClusters']),
  ecs('Task definition modify actions', 20, 1, ['DeregisterTaskDefinition', 'RegisterTaskDefinition']),
  ecs('Task definition read actions', 50, 20, [
    'DescribeTaskDefinition',
    'ListTaskDefinitions',
    'ListTaskDefinitionFamilies',
  ]),
  ecs('Task definition deletion actions', 5, 1, ['DeleteTaskDefinitions']),
  ecs('Capacity provider modify actions', 10, 1, [
    'CreateCapacityProvider',
    'DeleteCapacityProvider',
    'UpdateCapacityProvider',
  ]),
  ecs('Capacity provider read actions', 50, 20, ['DescribeCapacityProviders']),
  ecs('Tag modify actions', 20, 10, ['TagResource', 'UntagResource']),
  ecs('Tag read actions', 50, 20, ['ListTagsForResource']),
  ecs('Setting modify actions', 10, 1, [
    'DeleteAccountSetting',
    'PutAccountSetting',
    'PutAccountSettingDefault',
  ]),
  ecs('Setting read actions', 50, 20, ['ListAccountSettings']),
  // The page spells the last one "UpdateContainerInstancesStates"; the API is UpdateContainerInstancesState.
  ecs('Cluster resource modify actions', 100, 40, [
    'DeleteAttributes',
    'DeregisterContainerInstance',
    'ExecuteCommand',
    'PutAttributes',
    'RunTask',
    'StartTask',
    'StopTask',
    'UpdateContainerAgent',
    'UpdateContainerInstancesState',
  ]),
  ecs('Cluster resource read actions', 100, 20, [
    'DescribeContainerInstances',
    'DescribeTasks',
    'ListAttributes',
    'ListContainerInstances',
    'ListTasks',
  ]),
  ecs('Agent modify actions', 200, 120, [
    'RegisterContainerInstance',
    'SubmitAttachmentStateChanges',
    'SubmitContainerStateChange',
    'SubmitTaskStateChange',
  ]),
  ecs('Service modify actions', 50, 5, ['CreateService', 'DeleteService', 'UpdateService']),
  ecs('Service read actions', 100, 20, ['DescribeServices', 'ListServices']),
  ecs('Service deployment actions', 50, 20, ['DescribeServiceDeployments', 'ListServiceDeployments']),
  ecs('Service revision actions', 50, 20, ['DescribeServiceRevisions']),
  ecs('Task protection actions', 200, 80, ['UpdateTaskProtection', 'GetTaskProtection']),
  ecs('Cluster service resource read actions', 10, 1, ['ListServicesByNamespace']),
  // ECR: the "Rate of <API> requests" quotas, per second per Region. Its troubleshooting page
  // still describes GetAuthorizationToken as 20 per second with a 200 burst; the quotas page
  // (500 per second) is the current default.
  ecrRate('GetAuthorizationToken', 500),
  ecrRate('BatchCheckLayerAvailability', 1000),
  ecrRate('BatchGetImage', 2000),
  ecrRate('GetDownloadUrlForLayer', 3000),
  ecrRate('InitiateLayerUpload', 100),
  ecrRate('UploadLayerPart', 500),
  ecrRate('CompleteLayerUpload', 100),
  ecrRate('PutImage', 10),
  // STS: 600 requests per second per account per Region, shared by these operations (calls made
  // with AWS credentials). The burst is not documented; ours: 600, the rate.
  {
    service: 'sts',
    category: 'STS requests',
    burst: 600,
    rate: 600,
    operations: [
      'AssumeRole',
      'DecodeAuthorizationMessage',
      'GetAccessKeyInfo',
      'GetCallerIdentity',
      'GetFederationToken',
      'GetSessionToken',
    ],
    source: STS_QUOTAS,
  },
  // EKS: AWS documents no request rate for the EKS API. Not documented; ours: one bucket for
  // the EKS API operations local-aws serves, a burst of 20, 10 per second. The Kubernetes API of
  // a cluster is not the EKS API, and is not throttled here.
  {
    service: 'eks',
    category: 'EKS API',
    burst: 20,
    rate: 10,
    operations: [
      'AssociateAccessPolicy',
      'CreateAccessEntry',
      'CreateCluster',
      'DeleteAccessEntry',
      'DeleteCluster',
      'DescribeAccessEntry',
      'DescribeCluster',
      'DescribeUpdate',
      'DisassociateAccessPolicy',
      'ListAccessEntries',
      'ListAccessPolicies',
      'ListAssociatedAccessPolicies',
      'ListClusters',
      'ListUpdates',
      'UpdateAccessEntry',
      'UpdateClusterConfig',
    ],
    source: 'not documented; ours',
  },
];

interface Bucket {
  category: ThrottleCategory;
  account: string;
  region: string;
  tokens: number;
  /** Simulated time of the last refill. */
  at: number;
}

export class ApiThrottle {
  private readonly buckets = new Map<string, Bucket>();
  private readonly byOperation = new Map<string, ThrottleCategory>();
  private refused = 0;

  constructor(
    private readonly clock: Pick<Clock, 'now'>,
    readonly enabled: boolean,
    categories: readonly ThrottleCategory[] = AWS_THROTTLE_CATEGORIES,
  ) {
    for (const category of categories)
      for (const operation of category.operations)
        this.byOperation.set(`${category.service}:${operation}`, category);
  }

  /** The category an operation's calls take tokens from; undefined when it is not throttled. */
  categoryOf(service: string, operation: string): ThrottleCategory | undefined {
    return this.byOperation.get(`${service}:${operation}`);
  }

  /**
   * Takes a token for one call of `operation` by `account` in `region`: true when the call may
   * go on (not throttled, or a token was there), false when its bucket is empty.
   */
  admit(account: string, region: string, service: string, operation: string): boolean {
    if (!this.enabled) return true;
    const category = this.categoryOf(service, operation);
    if (!category) return true;
    const key = `${account}/${region}/${service}/${category.category}`;
    const now = this.clock.now();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { category, account, region, tokens: category.burst, at: now };
      this.buckets.set(key, bucket);
    }
    this.refill(bucket, now);
    if (bucket.tokens < 1) {
      this.refused++;
      return false;
    }
    bucket.tokens -= 1;
    return true;
  }

  /** Every bucket used so far, refilled to now. */
  snapshot(): ThrottleSnapshot {
    const now = this.clock.now();
    return {
      enabled: this.enabled,
      buckets: [...this.buckets.values()].map((bucket) => {
        this.refill(bucket, now);
        const { category } = bucket;
        return {
          account: bucket.account,
          region: bucket.region,
          service: category.service,
          category: category.category,
          tokens: bucket.tokens,
          burst: category.burst,
          rate: category.rate,
        };
      }),
      throttledCount: this.refused,
    };
  }

  private refill(bucket: Bucket, now: number): void {
    const elapsedSeconds = Math.max(0, now - bucket.at) / 1000;
    bucket.tokens = Math.min(bucket.category.burst, bucket.tokens + elapsedSeconds * bucket.category.rate);
    bucket.at = now;
  }
}
