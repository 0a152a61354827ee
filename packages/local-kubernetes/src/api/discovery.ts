// Discovery (/api, /apis, /api/v1, /apis/<group>/<version>), /version, and the OpenAPI v3 documents
// `kubectl apply` reads: kubectl 1.32 checks that each kind's PATCH operation takes the
// `fieldValidation` query parameter (else it wants /openapi/v2 for client-side validation), and uses
// component schemas for 3-way patches when it finds them (none here: it falls back to its own
// built-in types, which carry the same merge keys).
import { createHash } from 'node:crypto';
import { RESOURCE_TYPES, groupVersionOf, type ResourceType } from '../resources.js';

export interface VersionInfo {
  major: string;
  minor: string;
}

const groupVersions = () => {
  const seen = new Map<string, { group: string; version: string }>();
  for (const t of RESOURCE_TYPES)
    if (t.group) seen.set(groupVersionOf(t), { group: t.group, version: t.version });
  return [...seen.values()];
};

export function apiVersions(): unknown {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:443' }],
  };
}

const groupEntry = (group: string) => {
  const versions = groupVersions()
    .filter((gv) => gv.group === group)
    .map((gv) => ({ groupVersion: `${gv.group}/${gv.version}`, version: gv.version }));
  return versions.length ? { name: group, versions, preferredVersion: versions[0] } : undefined;
};

export function apiGroupList(): unknown {
  const groups = [...new Set(groupVersions().map((gv) => gv.group))];
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map(groupEntry) };
}

export function apiGroup(group: string): unknown {
  const entry = groupEntry(group);
  return entry ? { kind: 'APIGroup', apiVersion: 'v1', ...entry } : undefined;
}

const hashOf = (text: string) => createHash('sha256').update(text).digest('base64').slice(0, 11);

function subresourceEntries(t: ResourceType): unknown[] {
  return t.subresources.map((sub) => {
    if (sub === 'scale')
      return {
        name: `${t.plural}/scale`,
        singularName: '',
        namespaced: t.namespaced,
        group: 'autoscaling',
        version: 'v1',
        kind: 'Scale',
        verbs: ['get', 'patch', 'update'],
      };
    if (sub === 'log')
      return {
        name: `${t.plural}/log`,
        singularName: '',
        namespaced: t.namespaced,
        kind: 'Pod',
        verbs: ['get'],
      };
    return {
      name: `${t.plural}/${sub}`,
      singularName: '',
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: ['get', 'patch', 'update'],
    };
  });
}

/** The APIResourceList of a group version, or undefined when it is not served. */
export function apiResourceList(group: string, version: string): unknown {
  const types = RESOURCE_TYPES.filter((t) => t.group === group && t.version === version);
  if (types.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: groupVersionOf({ group, version }),
    resources: types.flatMap((t) => [
      {
        name: t.plural,
        singularName: t.singular,
        namespaced: t.namespaced,
        kind: t.kind,
        verbs: t.verbs,
        ...(t.shortNames.length ? { shortNames: t.shortNames } : {}),
        ...(t.categories ? { categories: t.categories } : {}),
        storageVersionHash: hashOf(`${groupVersionOf(t)}/${t.kind}`),
      },
      ...subresourceEntries(t),
    ]),
  };
}

export function versionInfo(version: VersionInfo | undefined): unknown {
  const major = version?.major ?? '1';
  const minor = version?.minor ?? '32';
  const minorNumber = minor.replace(/\D/g, '');
  return {
    major,
    minor,
    gitVersion: `v${major}.${minorNumber}.9-eks-a1b2c3d`,
    gitCommit: '0a1b2c3d4e5f60718293a4b5c6d7e8f901234567',
    gitTreeState: 'clean',
    buildDate: '2026-10-01T00:00:00Z',
    goVersion: 'go1.23.12',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

const docPath = (gv: { group: string; version: string }) =>
  gv.group ? `apis/${gv.group}/${gv.version}` : `api/${gv.version}`;

/** /openapi/v3: where each group version's document is. */
export function openApiIndex(): unknown {
  const all = [
    { group: '', version: 'v1' },
    ...groupVersions(),
    { group: 'apiextensions.k8s.io', version: 'v1' },
  ];
  return {
    paths: Object.fromEntries(
      all.map((gv) => [
        docPath(gv),
        {
          serverRelativeURL: `/openapi/v3/${docPath(gv)}?hash=${hashOf(docPath(gv)).replace(/[^A-Za-z0-9]/g, 'A')}`,
        },
      ]),
    ),
  };
}

/** /openapi/v3/<api|apis/group>/<version>: a PATCH operation per kind, taking fieldValidation. */
export function openApiDocument(group: string, version: string): unknown {
  const types: Array<Pick<ResourceType, 'group' | 'version' | 'kind' | 'plural' | 'namespaced' | 'verbs'>> =
    RESOURCE_TYPES.filter((t) => t.group === group && t.version === version);
  // No custom resources are served, but kubectl's validation of an unknown kind asks whether CRDs
  // take fieldValidation (then leaves the kind to the API, which has no mapping for it: "no matches
  // for kind"); without this document it gives up with a validation error instead.
  if (group === 'apiextensions.k8s.io' && version === 'v1')
    types.push({
      group,
      version,
      kind: 'CustomResourceDefinition',
      plural: 'customresourcedefinitions',
      namespaced: false,
      verbs: ['patch'],
    });
  if (types.length === 0) return undefined;
  const prefix = group ? `/apis/${group}/${version}` : `/api/${version}`;
  const paths: Record<string, unknown> = {};
  for (const t of types) {
    if (!t.verbs.includes('patch')) continue;
    const path = t.namespaced
      ? `${prefix}/namespaces/{namespace}/${t.plural}/{name}`
      : `${prefix}/${t.plural}/{name}`;
    paths[path] = {
      patch: {
        operationId: `patch${t.kind}`,
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': { group: t.group, version: t.version, kind: t.kind },
        parameters: [
          { name: 'dryRun', in: 'query', schema: { type: 'string', uniqueItems: true } },
          { name: 'fieldManager', in: 'query', schema: { type: 'string', uniqueItems: true } },
          { name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } },
          { name: 'force', in: 'query', schema: { type: 'boolean', uniqueItems: true } },
        ],
        responses: { '200': { description: 'OK' } },
      },
    };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.9' },
    paths,
    components: { schemas: {} },
  };
}

/** The Content-Type of aggregated discovery (apidiscovery.k8s.io/v2), which kubectl asks for first. */
export const AGGREGATED_DISCOVERY = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

/** Whether the client accepts aggregated discovery v2 (kubectl 1.32 does, falling back to plain). */
export const wantsAggregated = (accept: string | undefined) =>
  (accept ?? '')
    .split(',')
    .some((part) => /as=APIGroupDiscoveryList/.test(part) && /v=v2(;|$)/.test(part.replace(/\s/g, '')));

/** /api (core: legacy true) or /apis as one APIGroupDiscoveryList: every resource in one answer. */
export function aggregatedDiscovery(legacy: boolean): unknown {
  const groups = legacy ? [''] : [...new Set(groupVersions().map((gv) => gv.group))];
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: 'apidiscovery.k8s.io/v2',
    metadata: {},
    items: groups.map((group) => {
      const versions = [...new Set(RESOURCE_TYPES.filter((t) => t.group === group).map((t) => t.version))];
      return {
        metadata: { name: group, creationTimestamp: null },
        versions: versions.map((version) => ({
          version,
          resources: RESOURCE_TYPES.filter((t) => t.group === group && t.version === version).map((t) => ({
            resource: t.plural,
            responseKind: { group: t.group, version: t.version, kind: t.kind },
            scope: t.namespaced ? 'Namespaced' : 'Cluster',
            singularResource: t.singular,
            verbs: t.verbs,
            ...(t.shortNames.length ? { shortNames: t.shortNames } : {}),
            ...(t.categories ? { categories: t.categories } : {}),
            ...(t.subresources.length
              ? {
                  subresources: t.subresources.map((sub) => ({
                    subresource: sub,
                    responseKind:
                      sub === 'scale'
                        ? { group: 'autoscaling', version: 'v1', kind: 'Scale' }
                        : { group: t.group, version: t.version, kind: t.kind },
                    verbs: sub === 'log' ? ['get'] : ['get', 'patch', 'update'],
                  })),
                }
              : {}),
          })),
          freshness: 'Current',
        })),
      };
    }),
  };
}
