import { buildSummary, emptyReport, type PushReport } from '../src/summary.js';
import type { LoginResult, Pushed, RepositoryResult, ScanGateResult } from '../src/stages.js';

const HOST = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const DIGEST = `sha256:${'c'.repeat(64)}`;

const login: LoginResult = {
  registry: { host: HOST, endpoint: `https://${HOST}`, username: 'AWS', password: 'unused' },
  dockerHosts: [HOST],
  dockerSkipped: undefined,
};
const ensured: RepositoryResult = {
  repository: {},
  changes: [],
  created: false,
  registryId: '123456789012',
  repositoryUri: `${HOST}/team/app`,
};
const pushed: Pushed = {
  digest: DIGEST,
  how: 'Pushed the OCI layout /w/out without a docker daemon.',
  sizeBytes: 3 * 1024 * 1024,
  blobs: { total: 3, uploaded: 2, skipped: 1, mounted: 0, bytesUploaded: 2048 },
};

function report(overrides: Partial<PushReport>): PushReport {
  return { ...emptyReport(), repository: 'team/app', tags: ['main', 'sha-0123456'], ...overrides };
}

test('a push: facts as label rows, without an empty header row', () => {
  const html = buildSummary(report({ stage: 'push', login, ensured, pushed })).toString();
  expect(html).not.toContain('<th></th>');
  expect(html).toContain(
    `<table><tr><th>Image</th><td>${HOST}/team/app@${DIGEST}</td></tr><tr><th>Tags</th><td>main, sha-0123456</td></tr>`,
  );
  expect(html).toContain('<tr><th>Size</th><td>3.0 MiB</td></tr>');
  expect(html).toContain(
    `<tr><th>Login</th><td>Got an ECR token for ${HOST}; docker logged in to ${HOST}</td></tr>`,
  );
  expect(html).toContain('<tr><th>Repository</th><td>exists, left as it is</td></tr>');
  expect(html).toContain('<tr><th>Scan</th><td>not asked (scan: none)</td></tr>');
  expect(html).toContain('<p>Pushed the OCI layout /w/out without a docker daemon.</p>');
});

test('a failure says where the step stopped, and what was not done', () => {
  const html = buildSummary(
    report({
      stage: 'repository',
      login,
      error: 'ECR CreateRepository failed: AccessDeniedException: no\nhint',
    }),
  ).toString();
  expect(html).toContain(
    '<p>Failed while making sure of the repository: ECR CreateRepository failed: AccessDeniedException: no. Nothing was pushed.</p>',
  );
  expect(html).toContain(
    '<tr><th>Repository</th><td>failed: ECR CreateRepository failed: AccessDeniedException: no</td></tr>',
  );
  expect(html).toContain('<tr><th>Push</th><td>not done: the step ended before</td></tr>');
  expect(html).not.toContain('hint');
});

test('a scan gate that failed: the image is pushed, the gate failed, every severity counted', () => {
  const scan: ScanGateResult = {
    report: {
      status: 'COMPLETE',
      counts: { CRITICAL: 1, HIGH: 0, MEDIUM: 0, LOW: 0, INFORMATIONAL: 0, UNDEFINED: 0 },
      findings: [
        { name: 'CVE-1', severity: 'CRITICAL', packageName: 'openssl 3', description: 'bad', uri: undefined },
      ],
    },
    failOn: 'HIGH',
    failed: true,
    atOrAbove: 1,
  };
  const html = buildSummary(
    report({
      stage: 'scan',
      login,
      ensured,
      pushed,
      scanAsked: true,
      scan,
      error: 'The scan found 1 finding(s)',
    }),
  ).toString();
  expect(html).toContain(
    '<p>Failed at the scan gate: The scan found 1 finding(s). The image is pushed and tagged.</p>',
  );
  expect(html).toContain(
    '<tr><th>Scan</th><td>gate failed: 1 finding(s) at or above HIGH, the most severe CRITICAL CVE-1 (openssl 3)</td></tr>',
  );
  expect(html).toContain('<tr><td>1</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td></tr>');
  expect(html).toContain('<tr><td>CRITICAL</td><td>CVE-1</td><td>openssl 3</td><td>bad</td></tr>');
});

test('bad inputs: nothing was called in AWS', () => {
  const html = buildSummary({ ...emptyReport(), error: 'Input "tags": expected …' }).toString();
  expect(html).toContain('<h2>ecr-push</h2>');
  expect(html).toContain('Nothing was called or changed in AWS.');
});
