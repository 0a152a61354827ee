import { diffTaskDefinitions, isSameDefinition, normalizeTaskDefinition } from '../src/diff.js';
import { renderTaskDefinition } from '../src/render.js';
import { describeOutput, twoContainers } from './fixtures.js';

/** What DescribeTaskDefinition returns after registering `rendered`: ECS fills in its defaults. */
function asRegistered(rendered: Record<string, unknown>, revision = 8): Record<string, unknown> {
  const registered = structuredClone(rendered) as Record<string, unknown> & {
    containerDefinitions: Record<string, unknown>[];
  };
  delete registered.tags;
  for (const c of registered.containerDefinitions) {
    c.essential ??= true;
    c.cpu ??= 0;
    c.mountPoints ??= [];
    c.volumesFrom ??= [];
    c.systemControls ??= [];
    c.environment ??= [];
    c.portMappings = ((c.portMappings as Record<string, unknown>[] | undefined) ?? []).map((p) => ({
      hostPort: p.containerPort,
      protocol: 'tcp',
      ...p,
    }));
    if (c.healthCheck) c.healthCheck = { interval: 30, timeout: 5, retries: 3, ...(c.healthCheck as object) };
  }
  return {
    ...registered,
    taskDefinitionArn: `arn:aws:ecs:eu-west-1:123456789012:task-definition/${String(registered.family)}:${revision}`,
    revision,
    status: 'ACTIVE',
    volumes: [],
    placementConstraints: [],
    compatibilities: ['EC2', 'FARGATE'],
    requiresAttributes: [{ name: 'ecs.capability.task-eni' }],
    registeredAt: new Date('2026-03-02T00:00:00Z'),
    registeredBy: 'arn:aws:sts::123456789012:assumed-role/deploy/gha',
  };
}

describe('isSameDefinition', () => {
  test('an identical re-run: the rendered definition equals the revision it registered', () => {
    const changes = {
      image: 'web:2',
      environment: new Map([['A', 'x=y']]),
      tags: new Map([['release', 'v2']]),
    };
    const rendered = renderTaskDefinition(describeOutput(), changes);
    const registered = { taskDefinition: asRegistered(rendered), tags: [{ key: 'release', value: 'v2' }] };
    expect(isSameDefinition(renderTaskDefinition(describeOutput(), changes), registered)).toBe(true);
  });

  test('a file without the defaults ECS fills in equals its registered revision', () => {
    const file = {
      family: 'api',
      cpu: '0.5 vCPU',
      memory: '1 GB',
      containerDefinitions: [
        {
          name: 'api',
          image: 'api:1',
          portMappings: [{ containerPort: 3000 }],
          environment: [
            { name: 'B', value: '2' },
            { name: 'A', value: '1' },
          ],
          healthCheck: { command: ['CMD-SHELL', 'curl -f http://localhost:3000/ || exit 1'] },
        },
      ],
    };
    const rendered = renderTaskDefinition(file);
    const registered = asRegistered({ ...rendered, cpu: '512', memory: '1024' });
    (registered.containerDefinitions as Record<string, unknown>[])[0]!.environment = [
      { name: 'A', value: '1' },
      { name: 'B', value: '2' },
    ];
    expect(isSameDefinition(rendered, registered)).toBe(true);
  });

  test.each<
    [string, (d: Record<string, unknown> & { containerDefinitions: Record<string, unknown>[] }) => void]
  >([
    ['another image', (d) => void (d.containerDefinitions[0]!.image = 'web:3')],
    [
      'an environment value',
      (d) => void ((d.containerDefinitions[0]!.environment as { value: string }[])[0]!.value = 'staging'),
    ],
    [
      'a secret source',
      (d) =>
        void ((d.containerDefinitions[0]!.secrets as { valueFrom: string }[])[0]!.valueFrom = 'arn:other'),
    ],
    ['essential false', (d) => void (d.containerDefinitions[0]!.essential = false)],
    ['container cpu', (d) => void (d.containerDefinitions[0]!.cpu = 128)],
    ['task memory', (d) => void (d.memory = '1024')],
    ['an unknown member', (d) => void (d.futureMember = 'x')],
    ['a command', (d) => void (d.containerDefinitions[0]!.command = ['node'])],
  ])('differs after %s', (_name, change) => {
    const rendered = renderTaskDefinition(describeOutput());
    const changed = structuredClone(rendered) as unknown as Parameters<typeof change>[0];
    change(changed);
    expect(isSameDefinition(changed, asRegistered(rendered))).toBe(false);
  });

  test('tags alone do not make a new revision', () => {
    const rendered = renderTaskDefinition(describeOutput(), { tags: new Map([['x', 'y']]) });
    expect(isSameDefinition(rendered, describeOutput())).toBe(true);
  });

  test('normalised form', () => {
    expect(normalizeTaskDefinition(describeOutput())).toEqual({
      family: 'web',
      taskRoleArn: 'arn:aws:iam::123456789012:role/web-task',
      executionRoleArn: 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      runtimePlatform: { cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' },
      enableFaultInjection: false,
      containerDefinitions: [
        {
          name: 'app',
          image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1.0.0',
          portMappings: [{ containerPort: 8080, hostPort: 8080, protocol: 'tcp' }],
          essential: true,
          environment: [
            { name: 'DATABASE_URL', value: 'postgres://db?sslmode=require&a=b' },
            { name: 'NODE_ENV', value: 'production' },
          ],
          secrets: [
            { name: 'API_KEY', valueFrom: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:api-AbCdEf' },
          ],
          logConfiguration: {
            logDriver: 'awslogs',
            options: {
              'awslogs-group': '/ecs/web',
              'awslogs-region': 'eu-west-1',
              'awslogs-stream-prefix': 'ecs',
            },
          },
        },
      ],
    });
  });
});

describe('diffTaskDefinitions', () => {
  test('member by member, secrets and environment by name only', () => {
    const previous = describeOutput();
    const next = renderTaskDefinition(previous, {
      image: 'web:2.0.0',
      cpu: '512',
      memory: '1024',
      environment: new Map([
        ['NODE_ENV', 'staging'],
        ['FEATURE_X', 'secret-ish value'],
      ]),
      secrets: new Map([['API_KEY', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:api2-XyZ']]),
      dockerLabels: new Map([['team', 'web']]),
      logConfiguration: { kind: 'awslogs', group: '/app/web' },
      region: 'eu-west-1',
    });
    const lines = diffTaskDefinitions(previous, next);
    expect(lines).toEqual([
      'containerDefinitions[app].image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1.0.0 → web:2.0.0',
      'containerDefinitions[app].environment.NODE_ENV: changed',
      'containerDefinitions[app].environment.FEATURE_X: added',
      'containerDefinitions[app].secrets.API_KEY: changed',
      'containerDefinitions[app].logConfiguration.options.awslogs-group: /ecs/web → /app/web',
      'containerDefinitions[app].logConfiguration.options.awslogs-create-group: added true',
      'containerDefinitions[app].dockerLabels: added {"team":"web"}',
      'cpu: 256 → 512',
      'memory: 512 → 1024',
    ]);
    expect(lines.join('\n')).not.toContain('staging');
    expect(lines.join('\n')).not.toContain('api2');
  });

  test('containers added and removed, members removed', () => {
    const previous = twoContainers();
    const next = structuredClone(previous) as ReturnType<typeof twoContainers> & {
      containerDefinitions: Record<string, unknown>[];
    };
    next.containerDefinitions = [
      { ...next.containerDefinitions[0]!, environment: [] },
      { name: 'xray', image: 'amazon/aws-xray-daemon:3.3.12' },
    ];
    (previous.containerDefinitions as Record<string, unknown>[])[0]!.environment = [
      { name: 'OLD', value: '1' },
    ];
    next.taskRoleArn = 'arn:aws:iam::123456789012:role/api';
    expect(diffTaskDefinitions(previous, next)).toEqual([
      'containerDefinitions[api].environment.OLD: removed',
      'containerDefinitions[envoy]: removed',
      'containerDefinitions[xray]: added (amazon/aws-xray-daemon:3.3.12)',
      'taskRoleArn: added arn:aws:iam::123456789012:role/api',
    ]);
  });

  test('nothing changed: no lines, whatever ECS filled in', () => {
    const rendered = renderTaskDefinition(describeOutput());
    expect(diffTaskDefinitions(asRegistered(rendered), rendered)).toEqual([]);
  });

  test('the first revision of a family', () => {
    expect(diffTaskDefinitions(undefined, twoContainers())).toEqual([
      'family api: first revision',
      'containerDefinitions[api]: added (api:1)',
      'containerDefinitions[envoy]: added (envoyproxy/envoy:v1.31.0)',
    ]);
  });

  test('long values are shortened', () => {
    const previous = twoContainers();
    const next = { ...twoContainers(), volumes: [{ name: 'v'.repeat(200) }] };
    const [line] = diffTaskDefinitions(previous, next);
    expect(line!.length).toBeLessThan(150);
    expect(line).toMatch(/^volumes: added \[.*…$/);
  });
});

describe('members named like Object.prototype properties', () => {
  test.each([
    ['a docker label "constructor"', { dockerLabels: new Map([['constructor', 'y']]) }],
    ['a docker label "toString"', { dockerLabels: new Map([['toString', 'y']]) }],
  ])('%s: the diff names it instead of crashing', (_name, changes) => {
    const before = renderTaskDefinition(describeOutput(), {});
    const after = renderTaskDefinition(describeOutput(), changes);
    const key = [...changes.dockerLabels.keys()][0];
    expect(diffTaskDefinitions(before, after)).toEqual([
      `containerDefinitions[app].dockerLabels: added {"${key}":"y"}`,
    ]);
    expect(isSameDefinition(after, before)).toBe(false);
  });

  test('a top-level "constructor" member of a task definition', () => {
    const before = renderTaskDefinition(describeOutput(), {});
    const after = { ...renderTaskDefinition(describeOutput(), {}), constructor: 'x' };
    expect(diffTaskDefinitions(before, after)).toEqual(['constructor: added x']);
    expect(diffTaskDefinitions(after, before)).toEqual(['constructor: removed (was x)']);
  });

  test('docker-labels: constructor=y added to a container that has other labels', () => {
    const before = renderTaskDefinition(describeOutput(), { dockerLabels: new Map([['team', 'web']]) });
    const after = renderTaskDefinition(describeOutput(), {
      dockerLabels: new Map([
        ['team', 'web'],
        ['constructor', 'y'],
      ]),
    });
    expect(diffTaskDefinitions(before, after)).toEqual([
      'containerDefinitions[app].dockerLabels.constructor: added y',
    ]);
    expect(diffTaskDefinitions(after, before)).toEqual([
      'containerDefinitions[app].dockerLabels.constructor: removed (was y)',
    ]);
  });

  test('a label present on both sides with "constructor" among them', () => {
    const before = renderTaskDefinition(describeOutput(), { dockerLabels: new Map([['constructor', 'a']]) });
    const after = renderTaskDefinition(describeOutput(), { dockerLabels: new Map([['constructor', 'b']]) });
    expect(diffTaskDefinitions(before, after)).toEqual([
      'containerDefinitions[app].dockerLabels.constructor: a → b',
    ]);
  });
});
