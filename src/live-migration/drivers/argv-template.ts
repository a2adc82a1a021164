// Operator-configured command lines: each template element becomes exactly one argv element, so
// values are never seen by a shell and cannot add, split or remove arguments.
import type { MigrationJob } from './migration-driver';
import { HOST_ADDRESS_RULE } from '../../common/host-address';
import { hostArgument, isVmIdentifier, VM_IDENTIFIER_RULE } from './placeholder-grammar';

export const ARGV_PLACEHOLDERS = ['vm', 'vmId', 'sourceHost', 'sourceHostId', 'targetHost', 'targetHostId', 'migrationId'] as const;
export type ArgvPlaceholder = (typeof ARGV_PLACEHOLDERS)[number];

const PLACEHOLDER = /\{([A-Za-z]+)\}/g;

/** Throws on an empty template, an unknown placeholder, or a placeholder in the executable. */
export function validateArgvTemplate(template: readonly string[], label = 'argv template'): void {
  const value: unknown = template; // from settings: the shape is checked here, not trusted
  if (!Array.isArray(value) || template.length === 0 || template.some((part) => typeof part !== 'string')) {
    throw new Error(`${label} must be a non-empty array of strings`);
  }
  if (template[0].trim() === '') throw new Error(`${label}: the executable (first element) is empty`);
  if (/\{[A-Za-z]+\}/.test(template[0])) {
    throw new Error(`${label}: the executable (first element) must not contain placeholders`);
  }
  for (const part of template) {
    for (const match of part.matchAll(PLACEHOLDER)) {
      if (!(ARGV_PLACEHOLDERS as readonly string[]).includes(match[1])) {
        throw new Error(`${label}: unknown placeholder {${match[1]}} (known: ${ARGV_PLACEHOLDERS.map((p) => `{${p}}`).join(' ')})`);
      }
    }
  }
}

/** The placeholders the templates use. */
export function usedPlaceholders(...templates: (readonly string[] | undefined)[]): Set<ArgvPlaceholder> {
  const used = new Set<ArgvPlaceholder>();
  for (const template of templates) {
    for (const part of template ?? []) {
      for (const match of part.matchAll(PLACEHOLDER)) {
        if ((ARGV_PLACEHOLDERS as readonly string[]).includes(match[1])) used.add(match[1] as ArgvPlaceholder);
      }
    }
  }
  return used;
}

/**
 * Why the job cannot be expressed in a template using `used`, or null: {vm} takes only a
 * conservative identifier, {sourceHost}/{targetHost} only a host address (see placeholder-grammar).
 */
export function placeholderRefusal(used: ReadonlySet<ArgvPlaceholder>, job: MigrationJob): string | null {
  if (used.has('vm') && !isVmIdentifier(job.vm.name)) {
    return `the VM name ${JSON.stringify(job.vm.name)} cannot fill {vm}: it must be ${VM_IDENTIFIER_RULE}; rename the VM or use {vmId}`;
  }
  for (const [placeholder, host] of [
    ['sourceHost', job.source],
    ['targetHost', job.target],
  ] as const) {
    if (used.has(placeholder) && hostArgument(host) === null) {
      return (
        `host ${JSON.stringify(host.name)} cannot fill {${placeholder}}: its address must be ${HOST_ADDRESS_RULE}` +
        (host.address ? '' : ', and it has none while its name is not one; set its address')
      );
    }
  }
  return null;
}

/** Values for the placeholders; check placeholderRefusal first (a host without a usable address gets "" here). */
export function placeholderValues(job: MigrationJob): Record<ArgvPlaceholder, string> {
  return {
    vm: job.vm.name,
    vmId: job.vm.id,
    sourceHost: hostArgument(job.source) ?? '',
    sourceHostId: job.source.id,
    targetHost: hostArgument(job.target) ?? '',
    targetHostId: job.target.id,
    migrationId: job.migrationId,
  };
}

export class UnsafeArgumentError extends Error {}

/**
 * Fills the placeholders in one pass (a value containing "{vm}" stays literal). Refuses an
 * argument that starts with "-" only because of a substituted value: a VM named "--unsafe" must
 * not become an option of the migration tool. Use "--domain={vm}"-style templates for such names.
 */
export function expandArgvTemplate(template: readonly string[], values: Record<ArgvPlaceholder, string>): string[] {
  return template.map((part) => {
    const expanded = part.replace(PLACEHOLDER, (whole, name: string) =>
      Object.prototype.hasOwnProperty.call(values, name) ? String(values[name as ArgvPlaceholder]) : whole,
    );
    if (expanded.startsWith('-') && !part.startsWith('-')) {
      throw new UnsafeArgumentError(`refusing argument ${JSON.stringify(expanded)}: a substituted value would be read as an option`);
    }
    if (expanded.includes('\0')) {
      throw new UnsafeArgumentError(`refusing argument ${JSON.stringify(expanded)}: it contains a NUL byte`);
    }
    return expanded;
  });
}
