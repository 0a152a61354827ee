// Realistic ECS shapes, as the API returns them, for the table tests.
import type { Deployment, Service, Task } from '@aws-sdk/client-ecs';

export const ACCOUNT = '123456789012';
export const ARN = `arn:aws:ecs:eu-west-1:${ACCOUNT}`;

/** `aws ecs describe-task-definition --task-definition web` output, registered revision 7. */
export function describeOutput(): { taskDefinition: Record<string, unknown>; tags: unknown[] } {
  return {
    taskDefinition: {
      taskDefinitionArn: `${ARN}:task-definition/web:7`,
      containerDefinitions: [
        {
          name: 'app',
          image: `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/web:1.0.0`,
          cpu: 0,
          portMappings: [{ containerPort: 8080, hostPort: 8080, protocol: 'tcp' }],
          essential: true,
          environment: [
            { name: 'NODE_ENV', value: 'production' },
            { name: 'DATABASE_URL', value: 'postgres://db?sslmode=require&a=b' },
          ],
          mountPoints: [],
          volumesFrom: [],
          secrets: [
            { name: 'API_KEY', valueFrom: `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:api-AbCdEf` },
          ],
          logConfiguration: {
            logDriver: 'awslogs',
            options: {
              'awslogs-group': '/ecs/web',
              'awslogs-region': 'eu-west-1',
              'awslogs-stream-prefix': 'ecs',
            },
            secretOptions: [],
          },
          systemControls: [],
        },
      ],
      family: 'web',
      taskRoleArn: `arn:aws:iam::${ACCOUNT}:role/web-task`,
      executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/ecsTaskExecutionRole`,
      networkMode: 'awsvpc',
      revision: 7,
      volumes: [],
      status: 'ACTIVE',
      requiresAttributes: [
        { name: 'com.amazonaws.ecs.capability.logging-driver.awslogs' },
        { name: 'ecs.capability.execution-role-awslogs' },
        { name: 'com.amazonaws.ecs.capability.task-iam-role' },
      ],
      placementConstraints: [],
      compatibilities: ['EC2', 'FARGATE'],
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      runtimePlatform: { cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' },
      registeredAt: '2026-03-01T10:00:00.000Z',
      registeredBy: `arn:aws:sts::${ACCOUNT}:assumed-role/deploy/gha`,
      enableFaultInjection: false,
    },
    tags: [{ key: 'team', value: 'web' }],
  };
}

/** A two-container register-shaped definition, as a repository keeps it. */
export function twoContainers(): Record<string, unknown> {
  return {
    family: 'api',
    cpu: '512',
    memory: '1024',
    containerDefinitions: [
      { name: 'api', image: 'api:1', portMappings: [{ containerPort: 3000 }] },
      {
        name: 'envoy',
        image: 'envoyproxy/envoy:v1.31.0',
        essential: false,
        portMappings: [{ containerPort: 9901 }, { containerPort: 8080 }],
      },
    ],
  };
}

export const TD6 = `${ARN}:task-definition/web:6`;
export const TD7 = `${ARN}:task-definition/web:7`;

export function deployment(overrides: Partial<Deployment>): Deployment {
  return {
    id: 'ecs-svc/1111111111111111111',
    status: 'PRIMARY',
    taskDefinition: TD7,
    desiredCount: 2,
    pendingCount: 0,
    runningCount: 0,
    failedTasks: 0,
    createdAt: new Date('2026-03-01T10:00:00Z'),
    updatedAt: new Date('2026-03-01T10:00:05Z'),
    launchType: 'FARGATE',
    platformVersion: '1.4.0',
    rolloutState: 'IN_PROGRESS',
    rolloutStateReason: 'ECS deployment ecs-svc/1111111111111111111 in progress.',
    ...overrides,
  };
}

export const OURS = 'ecs-svc/1111111111111111111';
export const OLD = 'ecs-svc/2222222222222222222';
export const ROLLBACK = 'ecs-svc/3333333333333333333';

export function service(deployments: Deployment[], breaker = true): Service {
  return {
    serviceArn: `${ARN}:service/prod/web`,
    serviceName: 'web',
    clusterArn: `${ARN}:cluster/prod`,
    status: 'ACTIVE',
    desiredCount: 2,
    runningCount: 2,
    pendingCount: 0,
    launchType: 'FARGATE',
    taskDefinition: TD7,
    deploymentConfiguration: {
      deploymentCircuitBreaker: { enable: breaker, rollback: breaker },
      maximumPercent: 200,
      minimumHealthyPercent: 100,
    },
    deployments,
    events: [],
  };
}

export function stoppedTask(id: string, overrides: Partial<Task> = {}): Task {
  return {
    taskArn: `${ARN}:task/prod/${id}`,
    taskDefinitionArn: TD7,
    lastStatus: 'STOPPED',
    desiredStatus: 'STOPPED',
    startedBy: OURS,
    stopCode: 'TaskFailedToStart',
    stoppedReason:
      'CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref 123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:nope: not found',
    containers: [{ name: 'app', lastStatus: 'STOPPED', reason: 'CannotPullContainerError: ref not found' }],
    ...overrides,
  };
}
