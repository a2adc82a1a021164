// With the command driver, hosts and VMs the configured templates could not name are refused when
// written, not when a migration finally runs (which checks again).
import type { FieldProblem } from '../common/domain-error';
import { HOST_ADDRESS_RULE } from '../common/host-address';
import type { ArgvPlaceholder } from './drivers/argv-template';
import { hostArgument, isVmIdentifier, VM_IDENTIFIER_RULE } from './drivers/placeholder-grammar';
import type { LiveMigrationSettings } from './live-migration.settings';
import { commandPlaceholders } from './migration-settings';

export class CommandPlaceholderCheck {
  private readonly hostsNamed: boolean;
  private readonly vmsNamed: boolean;

  constructor(used: ReadonlySet<ArgvPlaceholder>) {
    this.hostsNamed = used.has('sourceHost') || used.has('targetHost');
    this.vmsNamed = used.has('vm');
  }

  static from(settings: LiveMigrationSettings): CommandPlaceholderCheck {
    return new CommandPlaceholderCheck(commandPlaceholders(settings));
  }

  /** `prefix` names the item in a bulk request ("hosts.3."). */
  hostProblems(host: { name: string; address?: string | null }, prefix = ''): FieldProblem[] {
    if (!this.hostsNamed || hostArgument(host) !== null) return [];
    return [
      {
        field: `${prefix}address`,
        rule: 'hostAddress',
        message:
          `host ${JSON.stringify(host.name)} needs an address for the migration command ({sourceHost}/{targetHost}): ` +
          `its name is not one, and an address must be ${HOST_ADDRESS_RULE}`,
      },
    ];
  }

  vmProblems(vm: { name: string }, prefix = ''): FieldProblem[] {
    if (!this.vmsNamed || isVmIdentifier(vm.name)) return [];
    return [
      {
        field: `${prefix}name`,
        rule: 'vmIdentifier',
        message: `the migration command puts the VM name in {vm}, so it must be ${VM_IDENTIFIER_RULE}`,
      },
    ];
  }
}
