// A service's or RunTask's awsvpcConfiguration checked against EC2, as ECS checks it before it
// creates anything: the subnets and security groups exist, the subnets are in one VPC and the
// security groups in that VPC. ECS reports EC2's answer inside its own InvalidParameterException.
import type { Ec2Network } from '../ec2/index.js';
import { invalidParameter } from './validate.js';

/** ECS gives a task at most five security groups. */
export const MAX_SECURITY_GROUPS = 5;

/** Returns the VPC the subnets are in; throws ECS's InvalidParameterException otherwise. */
export function checkAwsvpcConfiguration(
  network: Ec2Network,
  accountId: string,
  region: string,
  config: { subnets: readonly string[]; securityGroups: readonly string[] },
): string {
  const subnets = config.subnets.map((id) => {
    const subnet = network.subnet(accountId, region, id);
    if (!subnet)
      throw invalidParameter(
        `Error retrieving subnet information for [${id}]: The subnet ID '${id}' does not exist (ErrorCode: InvalidSubnetID.NotFound)`,
      );
    return subnet;
  });
  const vpcIds = [...new Set(subnets.map((s) => s.vpcId))];
  if (vpcIds.length > 1)
    throw invalidParameter(
      `The subnets [${subnets.map((s) => s.subnetId).join(', ')}] belong to different VPCs (${vpcIds.join(', ')}): all the subnets of a task must be in one VPC.`,
    );
  const vpcId = vpcIds[0]!;
  if (config.securityGroups.length > MAX_SECURITY_GROUPS)
    throw invalidParameter(`securityGroups can have at most ${MAX_SECURITY_GROUPS} items.`);
  const groups = network.securityGroups(accountId, region);
  for (const id of config.securityGroups) {
    if (!/^sg-[0-9a-f]{8,17}$/.test(id))
      throw invalidParameter(
        `Error retrieving security group information for [${id}]: Invalid id: "${id}" (expecting "sg-...") (ErrorCode: InvalidGroupId.Malformed)`,
      );
    const group = groups.find((g) => g.groupId === id);
    if (!group)
      throw invalidParameter(
        `Error retrieving security group information for [${id}]: The security group '${id}' does not exist (ErrorCode: InvalidGroup.NotFound)`,
      );
    if (group.vpcId !== vpcId)
      throw invalidParameter(
        `Security group ${id} and subnet ${subnets[0]!.subnetId} belong to different networks.`,
      );
  }
  return vpcId;
}
