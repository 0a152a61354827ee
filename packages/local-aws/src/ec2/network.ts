// The network EC2 describes: per account and region a default VPC (172.31.0.0/16) with its
// default security group and one default subnet per Availability Zone (172.31.0.0/20,
// 172.31.16.0/20, …), all with ids derived from the account and region, so they are the same
// every run; plus the VPCs, subnets and security groups tests add, and the network interfaces
// other services (ECS tasks) create. Only the added resources and the interfaces are state.
import { createHash, randomBytes } from 'node:crypto';
import type { StateStore } from '../service.js';
import { AwsError } from '../service.js';

export interface Tag {
  Key: string;
  Value: string;
}

export interface Vpc {
  vpcId: string;
  ownerId: string;
  cidrBlock: string;
  cidrAssociationId: string;
  dhcpOptionsId: string;
  isDefault: boolean;
  tags: Tag[];
}

export interface Subnet {
  subnetId: string;
  vpcId: string;
  ownerId: string;
  region: string;
  cidrBlock: string;
  availabilityZone: string;
  availabilityZoneId: string;
  defaultForAz: boolean;
  mapPublicIpOnLaunch: boolean;
  tags: Tag[];
}

export interface IpPermission {
  ipProtocol: string;
  fromPort?: number;
  toPort?: number;
  groups: { groupId: string; userId: string }[];
  ipRanges: string[];
}

export interface SecurityGroup {
  groupId: string;
  groupName: string;
  description: string;
  vpcId: string;
  ownerId: string;
  region: string;
  ingress: IpPermission[];
  egress: IpPermission[];
  tags: Tag[];
}

export interface NetworkInterface {
  networkInterfaceId: string;
  ownerId: string;
  region: string;
  subnetId: string;
  vpcId: string;
  availabilityZone: string;
  availabilityZoneId: string;
  privateIpAddress: string;
  privateDnsName: string;
  macAddress: string;
  groups: { groupId: string; groupName: string }[];
  description: string;
  interfaceType: string;
  requesterId?: string;
  requesterManaged: boolean;
  status: 'available' | 'in-use';
  sourceDestCheck: boolean;
  association?: { publicIp: string; publicDnsName: string; ipOwnerId: string };
  attachment?: {
    attachmentId: string;
    attachTime: number;
    deleteOnTermination: boolean;
    deviceIndex: number;
    networkCardIndex: number;
    instanceOwnerId: string;
    status: 'attached';
  };
  tags: Tag[];
}

/** What a caller (ECS placing a task) gives to get a network interface in a subnet. */
export interface NetworkInterfaceSpec {
  accountId: string;
  region: string;
  subnetId: string;
  /** Default: the VPC's default security group. */
  securityGroupIds?: string[];
  /** A public IPv4 address too (ECS: `assignPublicIp: ENABLED`). */
  assignPublicIp?: boolean;
  description?: string;
  /** Default 'interface'. */
  interfaceType?: string;
  /** The AWS service that manages it (requesterManaged is then true). */
  requesterId?: string;
  /** Attached as an AWS-managed interface is (Fargate: device index 1, owner amazon-aws). */
  attachment?: { instanceOwnerId?: string; deviceIndex?: number; deleteOnTermination?: boolean };
  tags?: Tag[];
  /** Simulated time of the attachment. */
  now: number;
}

interface RegionState {
  vpcs: Vpc[];
  subnets: Subnet[];
  securityGroups: SecurityGroup[];
  networkInterfaces: Record<string, NetworkInterface>;
  /** Where the next private address search starts, per subnet. */
  ipCursor: Record<string, number>;
  publicIpCounter: number;
}

export interface Ec2State {
  regions: Record<string, RegionState>;
}

/** Availability Zones of the regions whose count differs from three (AWS's, for a new account). */
const ZONE_LETTERS: Record<string, string> = {
  'us-east-1': 'abcdef',
  'us-west-1': 'ac',
  'us-west-2': 'abcd',
  'ap-northeast-1': 'acd',
  'ap-northeast-2': 'abcd',
  'ca-central-1': 'abd',
  'sa-east-1': 'abc',
  'cn-north-1': 'ab',
  'us-gov-west-1': 'abc',
};

const DIRECTIONS: Record<string, string> = {
  east: 'e',
  west: 'w',
  north: 'n',
  south: 's',
  central: 'c',
  northeast: 'ne',
  northwest: 'nw',
  southeast: 'se',
  southwest: 'sw',
};

/** The Availability Zones of a region: names and zone ids (use1-az1 …). */
export function availabilityZones(region: string): { name: string; id: string }[] {
  // us-east-1 → use1, ap-northeast-1 → apne1, us-gov-west-1 → usgw1
  const parts = region.split('-');
  const [direction = '', number = ''] = parts.slice(-2);
  const geo = parts
    .slice(0, -2)
    .join('')
    .replace(/^usgov$/, 'usg');
  const prefix = `${geo}${DIRECTIONS[direction] ?? direction}${number}`;
  return [...(ZONE_LETTERS[region] ?? 'abc')].map((letter, i) => ({
    name: `${region}${letter}`,
    id: `${prefix}-az${i + 1}`,
  }));
}

/** A 17-hex-digit id suffix derived from a seed (the same every run). */
function derivedHex(seed: string): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, 17);
}

const randomHex = (n: number) =>
  randomBytes(Math.ceil(n / 2))
    .toString('hex')
    .slice(0, n);

export function partitionOf(region: string): string {
  return region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
}

// ---------------------------------------------------------------------------------------------
// IPv4 arithmetic

export function ipToNumber(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255))
    return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function numberToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

export function cidrRange(cidr: string): { first: number; size: number } | undefined {
  const [ip, bits] = cidr.split('/');
  const base = ip === undefined ? undefined : ipToNumber(ip);
  const prefix = Number(bits);
  if (base === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  return { first: base - (base % size), size };
}

export function cidrContains(cidr: string, ip: string): boolean {
  const range = cidrRange(cidr);
  const n = ipToNumber(ip);
  return range !== undefined && n !== undefined && n >= range.first && n < range.first + range.size;
}

// ---------------------------------------------------------------------------------------------
// The default network

const DEFAULT_VPC_CIDR = '172.31.0.0/16';

function allTraffic(groupId: string, ownerId: string, to: 'self' | 'anywhere'): IpPermission {
  return to === 'self'
    ? { ipProtocol: '-1', groups: [{ groupId, userId: ownerId }], ipRanges: [] }
    : { ipProtocol: '-1', groups: [], ipRanges: ['0.0.0.0/0'] };
}

/** A VPC's default security group: all traffic in from itself, all traffic out. */
function defaultSecurityGroup(vpc: Vpc, region: string): SecurityGroup {
  const groupId = `sg-${derivedHex(`${vpc.ownerId}/${region}/${vpc.vpcId}/default-sg`)}`;
  return {
    groupId,
    groupName: 'default',
    description: 'default VPC security group',
    vpcId: vpc.vpcId,
    ownerId: vpc.ownerId,
    region,
    ingress: [allTraffic(groupId, vpc.ownerId, 'self')],
    egress: [allTraffic(groupId, vpc.ownerId, 'anywhere')],
    tags: [],
  };
}

function defaultNetwork(
  accountId: string,
  region: string,
): { vpc: Vpc; subnets: Subnet[]; securityGroup: SecurityGroup } {
  const seed = `${accountId}/${region}`;
  const vpc: Vpc = {
    vpcId: `vpc-${derivedHex(`${seed}/vpc`)}`,
    ownerId: accountId,
    cidrBlock: DEFAULT_VPC_CIDR,
    cidrAssociationId: `vpc-cidr-assoc-${derivedHex(`${seed}/vpc-cidr`)}`,
    dhcpOptionsId: `dopt-${derivedHex(`${seed}/dopt`)}`,
    isDefault: true,
    tags: [],
  };
  const subnets = availabilityZones(region).map((zone, i): Subnet => ({
    subnetId: `subnet-${derivedHex(`${seed}/subnet/${zone.name}`)}`,
    vpcId: vpc.vpcId,
    ownerId: accountId,
    region,
    cidrBlock: `172.31.${i * 16}.0/20`,
    availabilityZone: zone.name,
    availabilityZoneId: zone.id,
    defaultForAz: true,
    mapPublicIpOnLaunch: true,
    tags: [],
  }));
  return { vpc, subnets, securityGroup: defaultSecurityGroup(vpc, region) };
}

/**
 * The ids of an account's default network in a region: its VPC, its default subnets (one per
 * Availability Zone, in zone order) and the VPC's default security group. They are derived from
 * the account and region, so a test can name them before local-aws has started.
 */
export function defaultNetworkIds(
  accountId: string,
  region: string,
): { vpcId: string; subnetIds: string[]; securityGroupId: string } {
  const { vpc, subnets, securityGroup } = defaultNetwork(accountId, region);
  return {
    vpcId: vpc.vpcId,
    subnetIds: subnets.map((s) => s.subnetId),
    securityGroupId: securityGroup.groupId,
  };
}

// ---------------------------------------------------------------------------------------------
// The network of every account and region

export class Ec2NetworkModel {
  private readonly defaults = new Map<string, ReturnType<typeof defaultNetwork>>();

  constructor(
    private readonly s: Ec2State,
    private readonly save: () => void,
  ) {}

  static load(state: StateStore): Ec2State {
    return state.namespace<Ec2State>('ec2', () => ({ regions: {} }));
  }

  private region(accountId: string, region: string): RegionState {
    return (this.s.regions[`${accountId}/${region}`] ??= {
      vpcs: [],
      subnets: [],
      securityGroups: [],
      networkInterfaces: {},
      ipCursor: {},
      publicIpCounter: 0,
    });
  }

  private defaultsOf(accountId: string, region: string) {
    const key = `${accountId}/${region}`;
    let network = this.defaults.get(key);
    if (!network) this.defaults.set(key, (network = defaultNetwork(accountId, region)));
    return network;
  }

  defaultVpc(accountId: string, region: string): Vpc {
    return this.defaultsOf(accountId, region).vpc;
  }

  vpcs(accountId: string, region: string): Vpc[] {
    return [
      this.defaultsOf(accountId, region).vpc,
      ...(this.s.regions[`${accountId}/${region}`]?.vpcs ?? []),
    ];
  }

  subnets(accountId: string, region: string): Subnet[] {
    return [
      ...this.defaultsOf(accountId, region).subnets,
      ...(this.s.regions[`${accountId}/${region}`]?.subnets ?? []),
    ];
  }

  securityGroups(accountId: string, region: string): SecurityGroup[] {
    return [
      this.defaultsOf(accountId, region).securityGroup,
      ...(this.s.regions[`${accountId}/${region}`]?.securityGroups ?? []),
    ];
  }

  networkInterfaces(accountId: string, region: string): NetworkInterface[] {
    return Object.values(this.s.regions[`${accountId}/${region}`]?.networkInterfaces ?? {});
  }

  vpc(accountId: string, region: string, vpcId: string): Vpc | undefined {
    return this.vpcs(accountId, region).find((v) => v.vpcId === vpcId);
  }

  subnet(accountId: string, region: string, subnetId: string): Subnet | undefined {
    return this.subnets(accountId, region).find((s) => s.subnetId === subnetId);
  }

  /** The subnet of the VPC whose CIDR holds the address, if any. */
  subnetOfAddress(accountId: string, region: string, vpcId: string, ip: string): Subnet | undefined {
    return this.subnets(accountId, region).find((s) => s.vpcId === vpcId && cidrContains(s.cidrBlock, ip));
  }

  /** Available addresses of a subnet: its size less the five AWS reserves, less those in use. */
  availableIpAddressCount(subnet: Subnet): number {
    const size = cidrRange(subnet.cidrBlock)?.size ?? 0;
    const used = this.networkInterfaces(subnet.ownerId, subnet.region).filter(
      (eni) => eni.subnetId === subnet.subnetId,
    ).length;
    return Math.max(0, size - 5 - used);
  }

  // -------------------------------------------------------------------------------------------
  // Resources tests add

  addVpc(accountId: string, region: string, cidrBlock: string, tags: Tag[] = []): Vpc {
    if (!cidrRange(cidrBlock)) throw new Error(`not an IPv4 CIDR block: ${cidrBlock}`);
    const vpc: Vpc = {
      vpcId: `vpc-${randomHex(17)}`,
      ownerId: accountId,
      cidrBlock,
      cidrAssociationId: `vpc-cidr-assoc-${randomHex(17)}`,
      dhcpOptionsId: this.defaultVpc(accountId, region).dhcpOptionsId,
      isDefault: false,
      tags,
    };
    const r = this.region(accountId, region);
    r.vpcs.push(vpc);
    r.securityGroups.push(defaultSecurityGroup(vpc, region));
    this.save();
    return vpc;
  }

  addSubnet(spec: {
    accountId: string;
    region: string;
    vpcId: string;
    cidrBlock: string;
    availabilityZone?: string;
    mapPublicIpOnLaunch?: boolean;
    tags?: Tag[];
  }): Subnet {
    const { accountId, region } = spec;
    const vpc = this.vpc(accountId, region, spec.vpcId);
    if (!vpc) throw new AwsError('InvalidVpcID.NotFound', `The vpc ID '${spec.vpcId}' does not exist`);
    const range = cidrRange(spec.cidrBlock);
    const vpcRange = cidrRange(vpc.cidrBlock)!;
    if (!range || range.first < vpcRange.first || range.first + range.size > vpcRange.first + vpcRange.size)
      throw new AwsError('InvalidSubnet.Range', `The CIDR '${spec.cidrBlock}' is invalid.`);
    const zones = availabilityZones(region);
    const zone = zones.find((z) => z.name === (spec.availabilityZone ?? zones[0]!.name));
    if (!zone)
      throw new AwsError(
        'InvalidParameterValue',
        `Value (${spec.availabilityZone}) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: ${zones.map((z) => z.name).join(', ')}.`,
      );
    const subnet: Subnet = {
      subnetId: `subnet-${randomHex(17)}`,
      vpcId: vpc.vpcId,
      ownerId: accountId,
      region,
      cidrBlock: spec.cidrBlock,
      availabilityZone: zone.name,
      availabilityZoneId: zone.id,
      defaultForAz: false,
      mapPublicIpOnLaunch: spec.mapPublicIpOnLaunch ?? false,
      tags: spec.tags ?? [],
    };
    this.region(accountId, region).subnets.push(subnet);
    this.save();
    return subnet;
  }

  addSecurityGroup(spec: {
    accountId: string;
    region: string;
    vpcId?: string;
    groupName: string;
    description: string;
    tags?: Tag[];
  }): SecurityGroup {
    const { accountId, region } = spec;
    const vpcId = spec.vpcId ?? this.defaultVpc(accountId, region).vpcId;
    if (!this.vpc(accountId, region, vpcId))
      throw new AwsError('InvalidVpcID.NotFound', `The vpc ID '${vpcId}' does not exist`);
    if (
      this.securityGroups(accountId, region).some((g) => g.vpcId === vpcId && g.groupName === spec.groupName)
    )
      throw new AwsError(
        'InvalidGroup.Duplicate',
        `The security group '${spec.groupName}' already exists for VPC '${vpcId}'`,
      );
    const groupId = `sg-${randomHex(17)}`;
    const group: SecurityGroup = {
      groupId,
      groupName: spec.groupName,
      description: spec.description,
      vpcId,
      ownerId: accountId,
      region,
      ingress: [],
      egress: [allTraffic(groupId, accountId, 'anywhere')],
      tags: spec.tags ?? [],
    };
    this.region(accountId, region).securityGroups.push(group);
    this.save();
    return group;
  }

  // -------------------------------------------------------------------------------------------
  // Network interfaces

  createNetworkInterface(spec: NetworkInterfaceSpec): NetworkInterface {
    const { accountId, region } = spec;
    const subnet = this.subnet(accountId, region, spec.subnetId);
    if (!subnet)
      throw new AwsError('InvalidSubnetID.NotFound', `The subnet ID '${spec.subnetId}' does not exist`);
    const groupIds = spec.securityGroupIds?.length
      ? spec.securityGroupIds
      : [
          this.securityGroups(accountId, region).find(
            (g) => g.vpcId === subnet.vpcId && g.groupName === 'default',
          )!.groupId,
        ];
    const groups = groupIds.map((id) => {
      const group = this.securityGroups(accountId, region).find((g) => g.groupId === id);
      if (!group) throw new AwsError('InvalidGroup.NotFound', `The security group '${id}' does not exist`);
      if (group.vpcId !== subnet.vpcId)
        throw new AwsError(
          'InvalidParameter',
          `Security group ${id} and subnet ${subnet.subnetId} belong to different networks.`,
        );
      return { groupId: group.groupId, groupName: group.groupName };
    });
    const r = this.region(accountId, region);
    const privateIpAddress = this.allocatePrivateIp(r, subnet);
    const eni: NetworkInterface = {
      networkInterfaceId: `eni-${randomHex(17)}`,
      ownerId: accountId,
      region,
      subnetId: subnet.subnetId,
      vpcId: subnet.vpcId,
      availabilityZone: subnet.availabilityZone,
      availabilityZoneId: subnet.availabilityZoneId,
      privateIpAddress,
      privateDnsName: privateDnsName(privateIpAddress, region),
      macAddress: `0e:${randomHex(10).match(/../g)!.join(':')}`,
      groups,
      description: spec.description ?? '',
      interfaceType: spec.interfaceType ?? 'interface',
      ...(spec.requesterId !== undefined ? { requesterId: spec.requesterId } : {}),
      requesterManaged: spec.requesterId !== undefined,
      status: spec.attachment ? 'in-use' : 'available',
      sourceDestCheck: true,
      tags: spec.tags ?? [],
    };
    if (spec.assignPublicIp) {
      const publicIp = numberToIp(ipToNumber('198.18.0.0')! + ++r.publicIpCounter);
      eni.association = { publicIp, publicDnsName: publicDnsName(publicIp, region), ipOwnerId: 'amazon' };
    }
    if (spec.attachment) {
      eni.attachment = {
        attachmentId: `eni-attach-${randomHex(17)}`,
        attachTime: spec.now,
        deleteOnTermination: spec.attachment.deleteOnTermination ?? false,
        deviceIndex: spec.attachment.deviceIndex ?? 1,
        networkCardIndex: 0,
        instanceOwnerId: spec.attachment.instanceOwnerId ?? 'amazon-aws',
        status: 'attached',
      };
    }
    r.networkInterfaces[eni.networkInterfaceId] = eni;
    this.save();
    return eni;
  }

  /** Deletes an interface; false when there was none with that id. */
  deleteNetworkInterface(accountId: string, region: string, networkInterfaceId: string): boolean {
    const r = this.s.regions[`${accountId}/${region}`];
    if (!r?.networkInterfaces[networkInterfaceId]) return false;
    delete r.networkInterfaces[networkInterfaceId];
    this.save();
    return true;
  }

  /**
   * The next free address of the subnet, skipping the five AWS reserves (network, router, DNS,
   * future use, broadcast). Addresses are handed out in turn, so one just freed is not reused
   * at once (a target draining on it would otherwise get a new task's health).
   */
  private allocatePrivateIp(r: RegionState, subnet: Subnet): string {
    const range = cidrRange(subnet.cidrBlock)!;
    const usable = range.size - 5;
    const inUse = new Set(
      Object.values(r.networkInterfaces)
        .filter((e) => e.subnetId === subnet.subnetId)
        .map((e) => e.privateIpAddress),
    );
    for (let tried = 0; tried < usable; tried++) {
      const offset = (r.ipCursor[subnet.subnetId] ?? 0) % usable;
      r.ipCursor[subnet.subnetId] = offset + 1;
      const ip = numberToIp(range.first + 4 + offset);
      if (!inUse.has(ip)) return ip;
    }
    throw new AwsError(
      'InsufficientFreeAddressesInSubnet',
      `insufficient free addresses in subnet ${subnet.subnetId}`,
    );
  }
}

/** ip-172-31-0-4.ec2.internal in us-east-1, ip-172-31-0-4.<region>.compute.internal elsewhere. */
export function privateDnsName(ip: string, region: string): string {
  const host = `ip-${ip.replace(/\./g, '-')}`;
  return region === 'us-east-1' ? `${host}.ec2.internal` : `${host}.${region}.compute.internal`;
}

/** ec2-198-18-0-1.compute-1.amazonaws.com in us-east-1, ec2-….<region>.compute.amazonaws.com elsewhere. */
export function publicDnsName(ip: string, region: string): string {
  const host = `ec2-${ip.replace(/\./g, '-')}`;
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return region === 'us-east-1' ? `${host}.compute-1.amazonaws.com` : `${host}.${region}.compute.${suffix}`;
}
