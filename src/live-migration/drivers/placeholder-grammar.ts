// What a placeholder of a command template may carry. Each element of a template is one argument,
// but inside it a value is still text the tool parses: a host name with "/", "?" or "#" turns
// qemu+ssh://{targetHost}/system into another URL. So values must match a grammar that can only
// mean one host or one VM, and templates whose program is a shell are refused.
import { isHostAddress } from '../../common/host-address';
import { posix, win32 } from 'node:path';

/** Conservative VM identifier for {vm}: what virsh, qm and xl accept as a domain name, and every UUID. */
const VM_IDENTIFIER = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isVmIdentifier(value: unknown): value is string {
  return typeof value === 'string' && VM_IDENTIFIER.test(value);
}

export const VM_IDENTIFIER_RULE = 'letters, digits, ".", "_" and "-", starting with a letter or digit, at most 128 characters';

/** What {sourceHost} and {targetHost} become: the address, or the name when there is none and it is itself an address. */
export function hostArgument(host: { name: string; address?: string | null }): string | null {
  if (host.address !== undefined && host.address !== null) return isHostAddress(host.address) ? host.address : null;
  return isHostAddress(host.name) ? host.name : null;
}

// ---- shells --------------------------------------------------------------------------------------

/** Programs that run their arguments as code. Compared by basename, without a version suffix or ".exe". */
const SHELLS = new Set([
  'sh',
  'ash',
  'dash',
  'bash',
  'rbash',
  'zsh',
  'ksh',
  'ksh93',
  'mksh',
  'pdksh',
  'oksh',
  'loksh',
  'yash',
  'posh',
  'csh',
  'tcsh',
  'fish',
  'rc',
  'es',
  'xonsh',
  'nu',
  'elvish',
  'pwsh',
  'powershell',
  'cmd',
  'busybox',
  'toybox',
]);
/** Programs that run another program given among their arguments. */
const WRAPPERS = new Set([
  'env',
  'nice',
  'nohup',
  'setsid',
  'timeout',
  'stdbuf',
  'ionice',
  'chrt',
  'taskset',
  'sudo',
  'doas',
  'su',
  'runuser',
  'time',
  'xargs',
  'flock',
  'chroot',
  'unshare',
  'nsenter',
  'setpriv',
  'prlimit',
  'systemd-run',
  'script',
  'watch',
  'exec',
]);

function programName(argument: string): string {
  const base = win32.basename(posix.basename(argument)).toLowerCase();
  return base.replace(/\.exe$/, '').replace(/-?\d+(?:\.\d+)*$/, '');
}

export function isShellProgram(argument: string): boolean {
  return SHELLS.has(programName(argument));
}

/** env's long options that take the next argument as their value (short ones: -u, -C, -S). */
const ENV_LONG_OPTIONS_WITH_VALUE = new Set(['--unset', '--chdir', '--split-string']);

/**
 * The shell a template would run, directly or through env (with or without options) or another
 * wrapper such as nice or timeout; null when it runs none. `env -S 'sh -c …'` counts too.
 */
export function shellOf(argv: readonly string[]): string | null {
  if (argv.length === 0) return null;
  const [program, ...rest] = argv;
  if (isShellProgram(program)) return programName(program);
  const name = programName(program);
  if (!WRAPPERS.has(name)) return null;
  if (name === 'env') return shellThroughEnv(rest);
  // Other wrappers take positional values of their own (timeout's duration, chroot's directory):
  // any argument naming a shell counts.
  for (let i = 0; i < rest.length; i++) {
    const found = shellOf(rest.slice(i));
    if (found) return found;
  }
  return null;
}

/** env [OPTION]... [NAME=VALUE]... [PROGRAM [ARG]...]: the program after the options and assignments, and -S's command line. */
function shellThroughEnv(args: readonly string[]): string | null {
  const splitString = (text: string) =>
    shellOf(
      text
        .trim()
        .split(/\s+/)
        .filter((part) => part !== ''),
    );
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') return shellOf(args.slice(i + 1));
    if (arg.startsWith('--')) {
      const [option, value] = arg.split(/=(.*)/s);
      const needsNext = ENV_LONG_OPTIONS_WITH_VALUE.has(option) && value === undefined;
      const text = needsNext ? (args[++i] ?? '') : (value ?? '');
      if (option === '--split-string' && splitString(text)) return splitString(text);
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      // A cluster of short options such as -iu NAME or -vS'sh -c …': u, C and S take a value.
      for (let c = 1; c < arg.length; c++) {
        if (!'uCS'.includes(arg[c])) continue;
        const text = c + 1 < arg.length ? arg.slice(c + 1) : (args[++i] ?? '');
        if (arg[c] === 'S' && splitString(text)) return splitString(text);
        break;
      }
      continue;
    }
    if (/^[^=]+=/.test(arg)) continue;
    return shellOf(args.slice(i));
  }
  return null;
}

/** Throws when the template's program is a shell, unless the operator allowed it. */
export function assertNoShell(template: readonly string[], label: string, allowShell: boolean): void {
  if (allowShell) return;
  const shell = shellOf(template);
  if (shell) {
    throw new Error(
      `${label} runs the shell "${shell}": a shell would run VM and host names as code. Run the tool directly ` +
        '(e.g. ["virsh","migrate","--live","{vm}","qemu+ssh://{targetHost}/system"]), or set MIGRATION_COMMAND_ALLOW_SHELL=true ' +
        'if the script quotes every placeholder itself',
    );
  }
}
