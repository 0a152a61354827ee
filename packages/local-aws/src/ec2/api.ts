// The EC2 reads (EC2's flavour of Query, version 2016-11-15): DescribeVpcs, DescribeSubnets,
// DescribeSecurityGroups, DescribeNetworkInterfaces and DescribeAvailabilityZones, with ids and
// filters as the AWS CLI sends them (`VpcId.1`, `Filter.1.Name`, `Filter.1.Value.1`), EC2's
// filter semantics (values of one filter OR'ed, filters AND'ed, `*` and `?` wildcards, `tag:<key>`
// and `tag-key`) and EC2's error codes.
import type { RequestContext } from '../service.js';
import { AwsError } from '../service.js';
import {
  availabilityZones,
  partitionOf,
  type Ec2NetworkModel,
  type IpPermission,
  type NetworkInterface,
  type SecurityGroup,
  type Subnet,
  type Tag,
  type Vpc,
} from './network.js';
import { list, paramTree, scalar, strings, struct, toXml, type ParamTree, type XmlValue } from './wire.js';

type Operation = (params: URLSearchParams, ctx: RequestContext) => string;

/** Filter name → the values a resource has for it (a filter matches when any value does). */
type FilterFields = Record<string, string[]>;

interface Filter {
  name: string;
  values: string[];
}

function filtersOf(tree: Record<string, ParamTree>): Filter[] {
  return list(tree.Filter).map((f) => {
    const filter = struct(f);
    return { name: scalar(filter.Name) ?? '', values: strings(filter.Value) };
  });
}

/** EC2's wildcards: `*` any run of characters, `?` one character; everything else literal. */
function wildcard(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 's');
}

function tagFields(tags: Tag[]): FilterFields {
  const fields: FilterFields = { 'tag-key': tags.map((t) => t.Key) };
  for (const t of tags) fields[`tag:${t.Key}`] = [t.Value];
  return fields;
}

/** Keeps the resources every filter matches; an unknown filter name is EC2's InvalidParameterValue. */
function applyFilters<T>(
  resources: T[],
  filters: Filter[],
  known: readonly string[],
  fieldsOf: (r: T) => FilterFields,
): T[] {
  for (const f of filters) {
    if (!known.includes(f.name) && !f.name.startsWith('tag:'))
      throw new AwsError('InvalidParameterValue', `The filter '${f.name}' is invalid`);
  }
  return resources.filter((r) => {
    const fields = fieldsOf(r);
    return filters.every((f) => {
      const have = fields[f.name] ?? [];
      return f.values.some((v) => have.some((h) => wildcard(v).test(h)));
    });
  });
}

/** MaxResults/NextToken over a list (the token is an offset, opaque to clients). */
function page<T>(items: T[], tree: Record<string, ParamTree>): { items: T[]; nextToken?: string } {
  const max = scalar(tree.MaxResults);
  const token = scalar(tree.NextToken);
  let start = 0;
  if (token !== undefined) {
    start = Number(Buffer.from(token, 'base64url').toString('utf8'));
    if (!Number.isInteger(start) || start < 0)
      throw new AwsError('InvalidNextToken', `The token '${token}' is invalid.`);
  }
  if (max === undefined) return { items: items.slice(start) };
  const size = Number(max);
  if (!Number.isInteger(size) || size < 5 || size > 1000)
    throw new AwsError(
      'InvalidParameterValue',
      `Value ( ${max} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`,
    );
  const end = start + size;
  return {
    items: items.slice(start, end),
    ...(end < items.length ? { nextToken: Buffer.from(String(end)).toString('base64url') } : {}),
  };
}

/**
 * The resources named by id, in the order found; an id of the wrong form is `<Kind>.Malformed`,
 * one that does not exist `<Kind>.NotFound` (the first missing one is named, as EC2 does).
 */
function byIds<T>(
  resources: T[],
  ids: string[],
  idOf: (r: T) => string,
  kind: { prefix: string; malformed: string; notFound: string; noun: string },
): T[] {
  for (const id of ids) {
    if (!new RegExp(`^${kind.prefix}-[0-9a-f]{8}([0-9a-f]{9})?$`).test(id))
      throw new AwsError(kind.malformed, `Invalid id: "${id}" (expecting "${kind.prefix}-...")`);
  }
  const missing = ids.find((id) => !resources.some((r) => idOf(r) === id));
  if (missing !== undefined)
    throw new AwsError(kind.notFound, `The ${kind.noun} '${missing}' does not exist`);
  return ids.length === 0 ? resources : resources.filter((r) => ids.includes(idOf(r)));
}

const bool = (b: boolean) => String(b);

function tagSet(tags: Tag[]): XmlValue {
  return tags.map((t) => ({ key: t.Key, value: t.Value }));
}

// ---------------------------------------------------------------------------------------------
// Renderings, with EC2's wire names

function vpcXml(vpc: Vpc): XmlValue {
  return {
    ownerId: vpc.ownerId,
    instanceTenancy: 'default',
    cidrBlockAssociationSet: [
      {
        associationId: vpc.cidrAssociationId,
        cidrBlock: vpc.cidrBlock,
        cidrBlockState: { state: 'associated' },
      },
    ],
    isDefault: vpc.isDefault,
    blockPublicAccessStates: { internetGatewayBlockMode: 'off' },
    ...(vpc.tags.length > 0 ? { tagSet: tagSet(vpc.tags) } : {}),
    vpcId: vpc.vpcId,
    state: 'available',
    cidrBlock: vpc.cidrBlock,
    dhcpOptionsId: vpc.dhcpOptionsId,
  };
}

function subnetXml(subnet: Subnet, available: number): XmlValue {
  return {
    availabilityZoneId: subnet.availabilityZoneId,
    mapCustomerOwnedIpOnLaunch: false,
    ownerId: subnet.ownerId,
    assignIpv6AddressOnCreation: false,
    ipv6CidrBlockAssociationSet: [],
    ...(subnet.tags.length > 0 ? { tagSet: tagSet(subnet.tags) } : {}),
    subnetArn: `arn:${partitionOf(subnet.region)}:ec2:${subnet.region}:${subnet.ownerId}:subnet/${subnet.subnetId}`,
    enableDns64: false,
    ipv6Native: false,
    privateDnsNameOptionsOnLaunch: {
      hostnameType: 'ip-name',
      enableResourceNameDnsARecord: false,
      enableResourceNameDnsAAAARecord: false,
    },
    blockPublicAccessStates: { internetGatewayBlockMode: 'off' },
    subnetId: subnet.subnetId,
    state: 'available',
    vpcId: subnet.vpcId,
    cidrBlock: subnet.cidrBlock,
    availableIpAddressCount: available,
    availabilityZone: subnet.availabilityZone,
    defaultForAz: subnet.defaultForAz,
    mapPublicIpOnLaunch: subnet.mapPublicIpOnLaunch,
  };
}

function permissionXml(p: IpPermission): XmlValue {
  return {
    ipProtocol: p.ipProtocol,
    fromPort: p.fromPort,
    toPort: p.toPort,
    groups: p.groups.map((g) => ({ userId: g.userId, groupId: g.groupId })),
    ipRanges: p.ipRanges.map((cidrIp) => ({ cidrIp })),
    ipv6Ranges: [],
    prefixListIds: [],
  };
}

function securityGroupXml(group: SecurityGroup): XmlValue {
  return {
    groupId: group.groupId,
    ipPermissionsEgress: group.egress.map(permissionXml),
    ...(group.tags.length > 0 ? { tagSet: tagSet(group.tags) } : {}),
    vpcId: group.vpcId,
    securityGroupArn: `arn:${partitionOf(group.region)}:ec2:${group.region}:${group.ownerId}:security-group/${group.groupId}`,
    ownerId: group.ownerId,
    groupName: group.groupName,
    groupDescription: group.description,
    ipPermissions: group.ingress.map(permissionXml),
  };
}

function networkInterfaceXml(eni: NetworkInterface): XmlValue {
  const association = eni.association && {
    ipOwnerId: eni.association.ipOwnerId,
    publicDnsName: eni.association.publicDnsName,
    publicIp: eni.association.publicIp,
  };
  return {
    association,
    attachment: eni.attachment && {
      attachTime: new Date(eni.attachment.attachTime),
      attachmentId: eni.attachment.attachmentId,
      deleteOnTermination: eni.attachment.deleteOnTermination,
      deviceIndex: eni.attachment.deviceIndex,
      networkCardIndex: eni.attachment.networkCardIndex,
      instanceOwnerId: eni.attachment.instanceOwnerId,
      status: eni.attachment.status,
    },
    availabilityZone: eni.availabilityZone,
    availabilityZoneId: eni.availabilityZoneId,
    description: eni.description,
    groupSet: eni.groups.map((g) => ({ groupId: g.groupId, groupName: g.groupName })),
    interfaceType: eni.interfaceType,
    ipv6AddressesSet: [],
    macAddress: eni.macAddress,
    networkInterfaceId: eni.networkInterfaceId,
    ownerId: eni.ownerId,
    privateDnsName: eni.privateDnsName,
    privateIpAddress: eni.privateIpAddress,
    privateIpAddressesSet: [
      {
        association,
        primary: true,
        privateDnsName: eni.privateDnsName,
        privateIpAddress: eni.privateIpAddress,
      },
    ],
    requesterId: eni.requesterId,
    requesterManaged: eni.requesterManaged,
    sourceDestCheck: eni.sourceDestCheck,
    status: eni.status,
    subnetId: eni.subnetId,
    tagSet: tagSet(eni.tags),
    vpcId: eni.vpcId,
  };
}

// ---------------------------------------------------------------------------------------------
// Filters per resource, as EC2 names them

const VPC_FILTERS = [
  'vpc-id',
  'cidr',
  'cidr-block-association.cidr-block',
  'cidr-block-association.association-id',
  'cidr-block-association.state',
  'dhcp-options-id',
  'is-default',
  'isDefault',
  'owner-id',
  'state',
  'tag-key',
] as const;

const vpcFields = (vpc: Vpc): FilterFields => ({
  'vpc-id': [vpc.vpcId],
  cidr: [vpc.cidrBlock],
  'cidr-block-association.cidr-block': [vpc.cidrBlock],
  'cidr-block-association.association-id': [vpc.cidrAssociationId],
  'cidr-block-association.state': ['associated'],
  'dhcp-options-id': [vpc.dhcpOptionsId],
  'is-default': [bool(vpc.isDefault)],
  isDefault: [bool(vpc.isDefault)],
  'owner-id': [vpc.ownerId],
  state: ['available'],
  ...tagFields(vpc.tags),
});

const SUBNET_FILTERS = [
  'subnet-id',
  'subnetId',
  'vpc-id',
  'vpcId',
  'availability-zone',
  'availabilityZone',
  'availability-zone-id',
  'availabilityZoneId',
  'cidr-block',
  'cidr',
  'cidrBlock',
  'default-for-az',
  'defaultForAz',
  'map-public-ip-on-launch',
  'owner-id',
  'state',
  'subnet-arn',
  'available-ip-address-count',
  'tag-key',
] as const;

const SECURITY_GROUP_FILTERS = [
  'group-id',
  'group-name',
  'description',
  'vpc-id',
  'owner-id',
  'tag-key',
] as const;

const securityGroupFields = (g: SecurityGroup): FilterFields => ({
  'group-id': [g.groupId],
  'group-name': [g.groupName],
  description: [g.description],
  'vpc-id': [g.vpcId],
  'owner-id': [g.ownerId],
  ...tagFields(g.tags),
});

const NETWORK_INTERFACE_FILTERS = [
  'network-interface-id',
  'addresses.private-ip-address',
  'addresses.primary',
  'addresses.association.public-ip',
  'addresses.association.owner-id',
  'association.public-ip',
  'association.public-dns-name',
  'association.ip-owner-id',
  'attachment.attachment-id',
  'attachment.attach-time',
  'attachment.delete-on-termination',
  'attachment.device-index',
  'attachment.instance-owner-id',
  'attachment.status',
  'availability-zone',
  'description',
  'group-id',
  'group-name',
  'interface-type',
  'mac-address',
  'owner-id',
  'private-dns-name',
  'private-ip-address',
  'requester-id',
  'requester-managed',
  'source-dest-check',
  'status',
  'subnet-id',
  'vpc-id',
  'tag-key',
] as const;

const networkInterfaceFields = (eni: NetworkInterface): FilterFields => {
  const publicIp = eni.association ? [eni.association.publicIp] : [];
  const a = eni.attachment;
  return {
    'network-interface-id': [eni.networkInterfaceId],
    'addresses.private-ip-address': [eni.privateIpAddress],
    'addresses.primary': ['true'],
    'addresses.association.public-ip': publicIp,
    'addresses.association.owner-id': eni.association ? [eni.association.ipOwnerId] : [],
    'association.public-ip': publicIp,
    'association.public-dns-name': eni.association ? [eni.association.publicDnsName] : [],
    'association.ip-owner-id': eni.association ? [eni.association.ipOwnerId] : [],
    'attachment.attachment-id': a ? [a.attachmentId] : [],
    'attachment.attach-time': a ? [new Date(a.attachTime).toISOString()] : [],
    'attachment.delete-on-termination': a ? [bool(a.deleteOnTermination)] : [],
    'attachment.device-index': a ? [String(a.deviceIndex)] : [],
    'attachment.instance-owner-id': a ? [a.instanceOwnerId] : [],
    'attachment.status': a ? [a.status] : [],
    'availability-zone': [eni.availabilityZone],
    description: [eni.description],
    'group-id': eni.groups.map((g) => g.groupId),
    'group-name': eni.groups.map((g) => g.groupName),
    'interface-type': [eni.interfaceType],
    'mac-address': [eni.macAddress],
    'owner-id': [eni.ownerId],
    'private-dns-name': [eni.privateDnsName],
    'private-ip-address': [eni.privateIpAddress],
    'requester-id': eni.requesterId !== undefined ? [eni.requesterId] : [],
    'requester-managed': [bool(eni.requesterManaged)],
    'source-dest-check': [bool(eni.sourceDestCheck)],
    status: [eni.status],
    'subnet-id': [eni.subnetId],
    'vpc-id': [eni.vpcId],
    ...tagFields(eni.tags),
  };
};

// ---------------------------------------------------------------------------------------------

/**
 * The request's parameters as a tree. `DryRun=true` answers as EC2 does for a caller allowed to
 * make the call (every signed caller is, here): 412 DryRunOperation.
 */
function request(params: URLSearchParams): Record<string, ParamTree> {
  const tree = paramTree(params);
  if (scalar(tree.DryRun) === 'true')
    throw new AwsError('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);
  return tree;
}

export function createEc2Operations(network: Ec2NetworkModel): Record<string, Operation> {
  const account = (ctx: RequestContext) => ctx.identity.accountId;

  const subnetFields = (s: Subnet): FilterFields => ({
    'subnet-id': [s.subnetId],
    subnetId: [s.subnetId],
    'vpc-id': [s.vpcId],
    vpcId: [s.vpcId],
    'availability-zone': [s.availabilityZone],
    availabilityZone: [s.availabilityZone],
    'availability-zone-id': [s.availabilityZoneId],
    availabilityZoneId: [s.availabilityZoneId],
    'cidr-block': [s.cidrBlock],
    cidr: [s.cidrBlock],
    cidrBlock: [s.cidrBlock],
    'default-for-az': [bool(s.defaultForAz)],
    defaultForAz: [bool(s.defaultForAz)],
    'map-public-ip-on-launch': [bool(s.mapPublicIpOnLaunch)],
    'owner-id': [s.ownerId],
    state: ['available'],
    'subnet-arn': [`arn:${partitionOf(s.region)}:ec2:${s.region}:${s.ownerId}:subnet/${s.subnetId}`],
    'available-ip-address-count': [String(network.availableIpAddressCount(s))],
    ...tagFields(s.tags),
  });

  return {
    DescribeVpcs: (params, ctx) => {
      const tree = request(params);
      const found = byIds(network.vpcs(account(ctx), ctx.region), strings(tree.VpcId), (v) => v.vpcId, {
        prefix: 'vpc',
        malformed: 'InvalidVpcID.Malformed',
        notFound: 'InvalidVpcID.NotFound',
        noun: 'vpc ID',
      });
      const { items, nextToken } = page(applyFilters(found, filtersOf(tree), VPC_FILTERS, vpcFields), tree);
      return toXml({ vpcSet: items.map(vpcXml), nextToken }, 'item');
    },

    DescribeSubnets: (params, ctx) => {
      const tree = request(params);
      const found = byIds(
        network.subnets(account(ctx), ctx.region),
        strings(tree.SubnetId),
        (s) => s.subnetId,
        {
          prefix: 'subnet',
          malformed: 'InvalidSubnetID.Malformed',
          notFound: 'InvalidSubnetID.NotFound',
          noun: 'subnet ID',
        },
      );
      const { items, nextToken } = page(
        applyFilters(found, filtersOf(tree), SUBNET_FILTERS, subnetFields),
        tree,
      );
      return toXml(
        { subnetSet: items.map((s) => subnetXml(s, network.availableIpAddressCount(s))), nextToken },
        'item',
      );
    },

    DescribeSecurityGroups: (params, ctx) => {
      const tree = request(params);
      const all = network.securityGroups(account(ctx), ctx.region);
      let found = byIds(all, strings(tree.GroupId), (g) => g.groupId, {
        prefix: 'sg',
        malformed: 'InvalidGroupId.Malformed',
        notFound: 'InvalidGroup.NotFound',
        noun: 'security group',
      });
      // Names are looked up in the default VPC, as EC2 does.
      const names = strings(tree.GroupName);
      if (names.length > 0) {
        const defaultVpc = network.defaultVpc(account(ctx), ctx.region).vpcId;
        for (const name of names) {
          if (!all.some((g) => g.vpcId === defaultVpc && g.groupName === name))
            throw new AwsError(
              'InvalidGroup.NotFound',
              `The security group '${name}' does not exist in default VPC '${defaultVpc}'`,
            );
        }
        found = found.filter((g) => g.vpcId === defaultVpc && names.includes(g.groupName));
      }
      const { items, nextToken } = page(
        applyFilters(found, filtersOf(tree), SECURITY_GROUP_FILTERS, securityGroupFields),
        tree,
      );
      return toXml({ securityGroupInfo: items.map(securityGroupXml), nextToken }, 'item');
    },

    DescribeNetworkInterfaces: (params, ctx) => {
      const tree = request(params);
      const found = byIds(
        network.networkInterfaces(account(ctx), ctx.region),
        strings(tree.NetworkInterfaceId),
        (e) => e.networkInterfaceId,
        {
          prefix: 'eni',
          malformed: 'InvalidNetworkInterfaceID.Malformed',
          notFound: 'InvalidNetworkInterfaceID.NotFound',
          noun: 'networkInterface ID',
        },
      );
      const { items, nextToken } = page(
        applyFilters(found, filtersOf(tree), NETWORK_INTERFACE_FILTERS, networkInterfaceFields),
        tree,
      );
      return toXml({ networkInterfaceSet: items.map(networkInterfaceXml), nextToken }, 'item');
    },

    DescribeAvailabilityZones: (params, ctx) => {
      const tree = request(params);
      const zones = availabilityZones(ctx.region).map((z) => ({ ...z, region: ctx.region }));
      const names = strings(tree.ZoneName);
      const ids = strings(tree.ZoneId);
      for (const name of names)
        if (!zones.some((z) => z.name === name))
          throw new AwsError('InvalidParameterValue', `The zone '${name}' does not exist in this region.`);
      const selected = zones.filter(
        (z) => (names.length === 0 || names.includes(z.name)) && (ids.length === 0 || ids.includes(z.id)),
      );
      const filtered = applyFilters(
        selected,
        filtersOf(tree),
        ['zone-name', 'zone-id', 'region-name', 'state', 'zone-type', 'opt-in-status', 'group-name'],
        (z) => ({
          'zone-name': [z.name],
          'zone-id': [z.id],
          'region-name': [z.region],
          state: ['available'],
          'zone-type': ['availability-zone'],
          'opt-in-status': ['opt-in-not-required'],
          'group-name': [z.region],
        }),
      );
      return toXml(
        {
          availabilityZoneInfo: filtered.map((z) => ({
            optInStatus: 'opt-in-not-required',
            messageSet: [],
            regionName: z.region,
            zoneName: z.name,
            zoneId: z.id,
            groupName: z.region,
            networkBorderGroup: z.region,
            zoneType: 'availability-zone',
            zoneState: 'available',
          })),
        },
        'item',
      );
    },
  };
}
