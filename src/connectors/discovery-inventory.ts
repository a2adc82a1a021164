// A connector's discovery as the inventory sync takes it (src/inventory, PUT …/inventory): hosts and
// VMs matched by name, pruned only when every host answered, so that a host that is down loses nothing.
import type { InventorySyncDto } from '../inventory/dto/inventory-sync.dto';
import type { PowerState } from '../inventory/vm.entity';
import type { DiscoveredPower, Discovery } from './connector';

const POWER: Record<DiscoveredPower, PowerState> = { running: 'poweredOn', paused: 'suspended', stopped: 'poweredOff' };

export function inventoryOf(discovery: Discovery): InventorySyncDto {
  return {
    hosts: discovery.hosts.map((host) => ({
      name: host.name,
      cpuCores: host.cpuCores,
      // A platform that reports no clock rate (0 MHz) still gets a host the sync accepts (at least 1 MHz).
      cpuMhz: Math.max(1, Math.round(host.cpuCores * host.cpuMhzPerCore)),
      memoryMib: Math.max(1, Math.round(host.memoryMib)),
    })),
    vms: discovery.vms.map((vm) => ({
      name: vm.name,
      vcpus: Math.max(1, vm.vcpus),
      memoryMib: Math.max(1, Math.round(vm.memoryMib)),
      powerState: POWER[vm.power],
      hostName: vm.host,
      heldBy: vm.heldBy ?? null,
    })),
    prune: discovery.unreachable.length === 0,
  };
}
