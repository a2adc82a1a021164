import { ApiProperty } from '@nestjs/swagger';
import { HOST_STATES } from '../../inventory/host.entity';
import { DEFAULT_TOP_VMS } from '../core';

// The balance report as GET /clusters/{id}/balance sends it: for the OpenAPI document only (the
// service sends the planner core's plain objects).

export class HostUtilizationView {
  @ApiProperty({ format: 'uuid' }) hostId: string;
  @ApiProperty() hostName: string;
  @ApiProperty({ enum: HOST_STATES }) state: string;
  @ApiProperty({ description: 'VM CPU entitlements over capacity (1 = 100 %)' }) cpu: number;
  @ApiProperty({ description: 'VM memory entitlements over capacity (1 = 100 %)' }) memory: number;
}

export class HeldVmView {
  @ApiProperty({ format: 'uuid' }) vmId: string;
  @ApiProperty() vmName: string;
  @ApiProperty({ format: 'uuid' }) hostId: string;
  @ApiProperty({ description: 'Why its platform holds it where it is' }) heldBy: string;
}

export class HostContentionView {
  @ApiProperty({ format: 'uuid' }) hostId: string;
  @ApiProperty() hostName: string;
  @ApiProperty({ description: 'CPU demand of its powered-on VMs' }) cpuDemandMhz: number;
  @ApiProperty({ description: 'Capacity × the CPU ceiling: what the host serves' }) cpuUsableMhz: number;
  @ApiProperty() cpuDemandUnmetMhz: number;
  @ApiProperty({ description: 'Active memory of its powered-on VMs (active plus the idle tax)' }) memoryActiveMib: number;
  @ApiProperty({ description: 'Capacity × the memory ceiling; active memory above it swaps' }) memoryUsableMib: number;
  @ApiProperty() memoryDemandUnmetMib: number;
  @ApiProperty() poweredOnVms: number;
  @ApiProperty({ description: 'Powered-on VMs short of CPU or memory' }) contendedVms: number;
}

export class VmContentionView {
  @ApiProperty({ format: 'uuid' }) vmId: string;
  @ApiProperty() vmName: string;
  @ApiProperty({ format: 'uuid' }) hostId: string;
  @ApiProperty() cpuDemandMhz: number;
  @ApiProperty({ minimum: 0, maximum: 1, description: 'CPU served / demanded' }) cpuServedShare: number;
  @ApiProperty() memoryActiveMib: number;
  @ApiProperty({ minimum: 0, maximum: 1, description: 'Active memory held in RAM / active memory' }) memoryServedShare: number;
  @ApiProperty({ minimum: 0, maximum: 1, description: '1 − min(CPU share, memory share); 0 = fully served' }) contention: number;
}

export class ContentionView {
  @ApiProperty({ minimum: 0, maximum: 100, description: "Cluster score: the demand-weighted mean of the VMs' served shares × 100" })
  score: number;
  @ApiProperty() cpuDemandMhz: number;
  @ApiProperty() cpuDemandUnmetMhz: number;
  @ApiProperty() memoryActiveMib: number;
  @ApiProperty() memoryDemandUnmetMib: number;
  @ApiProperty({ description: 'Powered-on VMs short of CPU or memory' }) contendedVms: number;
  @ApiProperty() poweredOnVms: number;
  @ApiProperty({ type: [HostContentionView] }) hosts: HostContentionView[];
  @ApiProperty({ type: [VmContentionView], maxItems: DEFAULT_TOP_VMS, description: 'The most contended VMs, most contended first' })
  mostContendedVms: VmContentionView[];
}

export class BalanceView {
  @ApiProperty({ format: 'uuid' }) clusterId: string;
  @ApiProperty({ type: [HostUtilizationView] }) hosts: HostUtilizationView[];
  @ApiProperty({ description: 'Population σ of CPU utilization over connected hosts' }) sigmaCpu: number;
  @ApiProperty() sigmaMemory: number;
  @ApiProperty({ description: 'I = sqrt(w_cpu σ_cpu² + w_mem σ_mem²)' }) imbalance: number;
  @ApiProperty({ nullable: true, type: Number, description: '(5 − L) / (10 √N); null (no limit) with no connected host' })
  target: number | null;
  @ApiProperty({
    description:
      'The part of I that the sampling error of the demand estimates alone accounts for (σ²/k per VM over its window); 0 without CPU spreads',
  })
  samplingNoise: number;
  @ApiProperty({ description: 'sqrt(I² − samplingNoise²) ≤ target, and maxMinGap ≤ gapLimit' }) balanced: boolean;
  @ApiProperty({ description: 'Balanced although I itself is above the target: samplingNoise accounts for the rest' })
  balancedWithinNoise: boolean;
  @ApiProperty({ description: 'Max over resources of (max u − min u) over connected hosts' }) maxMinGap: number;
  @ApiProperty({ nullable: true, type: Number }) gapLimit: number | null;
  @ApiProperty() connectedHosts: number;
  @ApiProperty({ type: [HeldVmView] }) heldVms: HeldVmView[];
  @ApiProperty({ type: ContentionView }) contention: ContentionView;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Demand statistic, window, bases and the policy used' })
  inputs: Record<string, unknown>;
}
