// The cluster's worker nodes: options.nodes (default 3) Ready nodes, as an EKS managed node group
// registers them (names from their private IPs, one per availability zone in turn), with capacity
// and allocatable from options.nodeCapacity (default 2 cpu, 8Gi, 110 pods).
import type { KObject } from '../store.js';
import type { Runtime } from './runtime.js';
import { T } from './types.js';

const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'];

export function nodeIpOf(node: KObject): string {
  const addresses = ((node.status as { addresses?: Array<{ type: string; address: string }> } | undefined)
    ?.addresses ?? []) as Array<{ type: string; address: string }>;
  return addresses.find((a) => a.type === 'InternalIP')?.address ?? '10.0.0.1';
}

export function createNodes(rt: Runtime): void {
  const count = rt.options.nodes ?? 3;
  const capacity = rt.options.nodeCapacity ?? { cpu: '2', memory: '8Gi', pods: '110' };
  const now = new Date(rt.now()).toISOString().replace(/\.\d+Z$/, 'Z');
  for (let i = 0; i < count; i++) {
    const subnet = (i % ZONES.length) + 1;
    const host = 10 + ((i * 37) % 240);
    const ip = `10.0.${subnet}.${host}`;
    const name = `ip-10-0-${subnet}-${host}.ec2.internal`;
    if (rt.store.get(T.nodes, undefined, name)) continue;
    const zone = ZONES[i % ZONES.length]!;
    rt.store.create(T.nodes, {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        labels: {
          'beta.kubernetes.io/arch': 'amd64',
          'beta.kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'kubernetes.io/hostname': name,
          'kubernetes.io/os': 'linux',
          'node.kubernetes.io/instance-type': 'm5.large',
          'topology.kubernetes.io/region': 'us-east-1',
          'topology.kubernetes.io/zone': zone,
          'eks.amazonaws.com/nodegroup': 'default',
          'eks.amazonaws.com/capacityType': 'ON_DEMAND',
        },
        annotations: { 'node.alpha.kubernetes.io/ttl': '0' },
      },
      spec: { providerID: `aws:///${zone}/i-0${(0x1a2b3c4d5e6f7 + i).toString(16)}` },
      status: {
        capacity: { ...capacity, 'ephemeral-storage': '20959212Ki' },
        allocatable: { ...capacity, 'ephemeral-storage': '18242267924' },
        conditions: [
          [
            'MemoryPressure',
            'False',
            'KubeletHasSufficientMemory',
            'kubelet has sufficient memory available',
          ],
          ['DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
          ['PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
          ['Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'],
        ].map(([type, status, reason, message]) => ({
          type,
          status,
          lastHeartbeatTime: now,
          lastTransitionTime: now,
          reason,
          message,
        })),
        addresses: [
          { type: 'InternalIP', address: ip },
          { type: 'InternalDNS', address: name },
          { type: 'Hostname', address: name },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
        nodeInfo: {
          machineID: `ec2${(0xabc123 + i).toString(16)}`,
          systemUUID: `ec2${(0xdef456 + i).toString(16)}`,
          bootID: `boot-${i}`,
          kernelVersion: '6.1.119-129.201.amzn2023.x86_64',
          osImage: 'Amazon Linux 2023.6.20241212',
          containerRuntimeVersion: 'containerd://1.7.23',
          kubeletVersion: 'v1.32.0-eks-aeac579',
          kubeProxyVersion: 'v1.32.0-eks-aeac579',
          operatingSystem: 'linux',
          architecture: 'amd64',
        },
      },
    });
  }
}
