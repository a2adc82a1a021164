/** A synthetic inventory of `hosts` hosts and `vms` VMs spread round-robin, as a hypervisor manager would report it. */
export function generateInventory(hosts: number, vms: number, prefix = '') {
  const hostSpecs = Array.from({ length: hosts }, (_, i) => ({
    name: `${prefix}esx-${String(i).padStart(4, '0')}`,
    cpuCores: 64,
    cpuMhz: 64 * 2600,
    memoryMib: 1024 * 1024,
    migrationGbps: 25,
  }));
  const vmSpecs = Array.from({ length: vms }, (_, i) => ({
    name: `${prefix}vm-${String(i).padStart(6, '0')}`,
    hostName: hostSpecs[i % hosts].name,
    vcpus: 1 + (i % 8),
    memoryMib: 1024 * (1 + (i % 16)),
    powerState: i % 50 === 0 ? 'poweredOff' : 'poweredOn',
  }));
  return { hosts: hostSpecs, vms: vmSpecs };
}
