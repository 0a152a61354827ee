// The AWS managed policies local-aws knows, with their documents as the AWS Managed Policy
// reference publishes them (default versions; docs.aws.amazon.com/aws-managed-policy/latest/
// reference/<name>.html). AttachRolePolicy accepts these and the account's own policies.
import type { PolicyDocument } from '../platform/iam-policy.js';

export interface ManagedPolicy {
  name: string;
  arn: string;
  path: string;
  document: PolicyDocument;
}

const ECR_READ = [
  'ecr:GetAuthorizationToken',
  'ecr:BatchCheckLayerAvailability',
  'ecr:GetDownloadUrlForLayer',
  'ecr:GetRepositoryPolicy',
  'ecr:DescribeRepositories',
  'ecr:ListImages',
  'ecr:DescribeImages',
  'ecr:BatchGetImage',
  'ecr:GetLifecyclePolicy',
  'ecr:GetLifecyclePolicyPreview',
  'ecr:ListTagsForResource',
  'ecr:DescribeImageScanFindings',
];

function managed(name: string, path: string, statement: PolicyDocument['Statement']): ManagedPolicy {
  return {
    name,
    path,
    arn: `arn:aws:iam::aws:policy${path}${name}`,
    document: { Version: '2012-10-17', Statement: statement },
  };
}

export const AWS_MANAGED_POLICIES: readonly ManagedPolicy[] = [
  managed('AdministratorAccess', '/', [{ Effect: 'Allow', Action: '*', Resource: '*' }]),
  // v1
  managed('AmazonECSTaskExecutionRolePolicy', '/service-role/', [
    {
      Effect: 'Allow',
      Action: [
        'ecr:GetAuthorizationToken',
        'ecr:BatchCheckLayerAvailability',
        'ecr:GetDownloadUrlForLayer',
        'ecr:BatchGetImage',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
      ],
      Resource: '*',
    },
  ]),
  // v3
  managed('AmazonEC2ContainerRegistryPowerUser', '/', [
    {
      Effect: 'Allow',
      Action: [
        ...ECR_READ,
        'ecr:InitiateLayerUpload',
        'ecr:UploadLayerPart',
        'ecr:CompleteLayerUpload',
        'ecr:PutImage',
      ],
      Resource: '*',
    },
  ]),
  // v3
  managed('AmazonEC2ContainerRegistryReadOnly', '/', [{ Effect: 'Allow', Action: ECR_READ, Resource: '*' }]),
];

export function awsManagedPolicy(arn: string): ManagedPolicy | undefined {
  return AWS_MANAGED_POLICIES.find((p) => p.arn === arn);
}
