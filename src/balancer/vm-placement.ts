import { Injectable, OnModuleInit } from '@nestjs/common';
import { DomainError, ErrorCode } from '../common/domain-error';
import { VmPlacement, VmPlacementPort, VmToPlace } from '../inventory/inventory-ports';
import { MoveCheckPort } from '../live-migration/move-check-port';
import { PoliciesService } from '../policies/policies.service';
import { BalancerService } from './balancer.service';

/**
 * What the modules below ask of the balancer, bound into their ports at start-up: the host of a VM
 * created without one (where it leaves the cluster most even; a manual cluster answers 409 with the
 * ranked hosts instead, for the operator to choose), and the check of a manual move.
 */
@Injectable()
export class BalancerVmPlacement implements VmPlacement, OnModuleInit {
  constructor(
    private readonly placementPort: VmPlacementPort,
    private readonly moveCheckPort: MoveCheckPort,
    private readonly balancer: BalancerService,
    private readonly policies: PoliciesService,
  ) {}

  onModuleInit(): void {
    this.placementPort.bind(this);
    this.moveCheckPort.bind(this.balancer);
  }

  async chooseHost(clusterId: string, vm: VmToPlace): Promise<string> {
    const ranking = await this.balancer.placement(clusterId, vm);
    const policy = await this.policies.resolve(clusterId);
    if (policy.automationLevel === 'manual') {
      throw new DomainError(ErrorCode.Conflict, 'The cluster is manual: choose a hostId; the ranked hosts are attached', [], {
        ranked: ranking.ranked,
        excluded: ranking.excluded,
      });
    }
    if (ranking.ranked.length === 0) {
      throw new DomainError(
        ErrorCode.Unprocessable,
        'No host can take this VM',
        [{ field: 'hostId', message: 'no host has room or satisfies the rules' }],
        {
          excluded: ranking.excluded,
        },
      );
    }
    return ranking.ranked[0].hostId;
  }
}
