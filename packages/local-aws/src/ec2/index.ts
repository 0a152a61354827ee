// EC2, as far as ECS services and PR previews read it: the default VPC, its subnets and security
// group per account and region, and the network interfaces of tasks (EC2's flavour of Query,
// version 2016-11-15, signing name ec2). Other services reach the same network through the typed
// `Ec2Network` below, never through the API.
import type { QueryService, ServiceFactory } from '../service.js';
import { createEc2Operations } from './api.js';
import {
  Ec2NetworkModel,
  type NetworkInterface,
  type NetworkInterfaceSpec,
  type SecurityGroup,
  type Subnet,
  type Tag,
  type Vpc,
} from './network.js';

export type {
  IpPermission,
  NetworkInterface,
  NetworkInterfaceSpec,
  SecurityGroup,
  Subnet,
  Tag,
  Vpc,
} from './network.js';
export { availabilityZones, cidrContains, defaultNetworkIds, ipToNumber, partitionOf } from './network.js';

export const EC2_VERSION = '2016-11-15';

/**
 * The network as other local-aws services see it (ECS placing a task, ELBv2 checking a target
 * group's VPC or a target's address). Every account and region has a default VPC (172.31.0.0/16)
 * with a default security group and one default subnet per Availability Zone; ids are derived
 * from the account and region, so they are the same on every run.
 */
export interface Ec2Network {
  defaultVpc(accountId: string, region: string): Vpc;
  vpcs(accountId: string, region: string): Vpc[];
  vpc(accountId: string, region: string, vpcId: string): Vpc | undefined;
  subnets(accountId: string, region: string): Subnet[];
  subnet(accountId: string, region: string, subnetId: string): Subnet | undefined;
  /** The subnet of `vpcId` whose CIDR holds `ip`, if any. */
  subnetOfAddress(accountId: string, region: string, vpcId: string, ip: string): Subnet | undefined;
  securityGroups(accountId: string, region: string): SecurityGroup[];
  /**
   * Creates a network interface in a subnet, as ECS does for an awsvpc task: the next free
   * private address of the subnet (never one of the five AWS reserves), the VPC's default
   * security group unless others are given, a public address when `assignPublicIp`. Throws an
   * AwsError in EC2's terms for an unknown subnet (InvalidSubnetID.NotFound) or security group
   * (InvalidGroup.NotFound). DescribeNetworkInterfaces lists it until it is deleted.
   */
  createNetworkInterface(spec: NetworkInterfaceSpec): NetworkInterface;
  /** Deletes an interface (a task stopped); false when there was none. */
  deleteNetworkInterface(accountId: string, region: string, networkInterfaceId: string): boolean;
  networkInterfaces(accountId: string, region: string): NetworkInterface[];
}

/** Test hooks, on the handle startLocalAws() returns as admin.ec2: the network, and more of it. */
export interface Ec2Admin extends Ec2Network {
  /** A VPC besides the default one (with its own default security group). */
  addVpc(accountId: string, region: string, cidrBlock: string, tags?: Tag[]): Vpc;
  /** A subnet in a VPC (not default for its zone; no public IPs unless asked). */
  addSubnet(spec: {
    accountId: string;
    region: string;
    vpcId: string;
    cidrBlock: string;
    availabilityZone?: string;
    mapPublicIpOnLaunch?: boolean;
    tags?: Tag[];
  }): Subnet;
  /** A security group (in the default VPC unless `vpcId`); egress to anywhere, no ingress. */
  addSecurityGroup(spec: {
    accountId: string;
    region: string;
    vpcId?: string;
    groupName: string;
    description: string;
    tags?: Tag[];
  }): SecurityGroup;
}

export const createEc2: ServiceFactory<Ec2Admin> = ({ state }) => {
  const network = new Ec2NetworkModel(Ec2NetworkModel.load(state), () => state.save());
  const ec2: QueryService = {
    protocol: 'query',
    flavour: 'ec2',
    signingName: 'ec2',
    version: EC2_VERSION,
    xmlNamespace: `http://ec2.amazonaws.com/doc/${EC2_VERSION}/`,
    operations: createEc2Operations(network),
  };
  const admin: Ec2Admin = {
    defaultVpc: (a, r) => network.defaultVpc(a, r),
    vpcs: (a, r) => network.vpcs(a, r),
    vpc: (a, r, id) => network.vpc(a, r, id),
    subnets: (a, r) => network.subnets(a, r),
    subnet: (a, r, id) => network.subnet(a, r, id),
    subnetOfAddress: (a, r, vpcId, ip) => network.subnetOfAddress(a, r, vpcId, ip),
    securityGroups: (a, r) => network.securityGroups(a, r),
    createNetworkInterface: (spec) => network.createNetworkInterface(spec),
    deleteNetworkInterface: (a, r, id) => network.deleteNetworkInterface(a, r, id),
    networkInterfaces: (a, r) => network.networkInterfaces(a, r),
    addVpc: (a, r, cidr, tags) => network.addVpc(a, r, cidr, tags),
    addSubnet: (spec) => network.addSubnet(spec),
    addSecurityGroup: (spec) => network.addSecurityGroup(spec),
  };
  return { services: [ec2], routes: [], admin };
};
