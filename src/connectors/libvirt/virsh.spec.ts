// How virsh failures become ConnectorErrors, on error texts captured from real libvirt 9 hosts (fixtures/err-*.txt).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConnectorError } from '../connector';
import { classifyVirshFailure, Virsh } from './virsh';

const stderrOf = (name: string) => readFileSync(join(__dirname, 'fixtures', name), 'utf8');
const exited = (name: string) => ({
  error: Object.assign(new Error('Command failed'), { code: 1 }),
  stderr: stderrOf(name),
  timeoutMs: 10_000,
  aborted: false,
});

describe('classifyVirshFailure', () => {
  it('a host whose daemon is down is unreachable, named, with the cause libvirt gave', () => {
    const error = classifyVirshFailure('h1', 'list', exited('err-daemon-stopped.txt'));
    expect(error).toBeInstanceOf(ConnectorError);
    expect(error.host).toBe('h1');
    expect(error.reason).toBe('unreachable');
    expect(error.message).toContain("h1: virsh list: unable to connect to server at '10.213.0.6:16509': Connection refused");
  });

  it('an address where something else than libvirtd answers is unreachable too', () => {
    expect(classifyVirshFailure('h9', 'nodeinfo', exited('err-not-libvirt.txt')).reason).toBe('unreachable');
    expect(classifyVirshFailure('h9', 'nodeinfo', exited('err-connection-refused.txt')).reason).toBe('unreachable');
  });

  it('failed SASL authentication is auth, without the password prompts', () => {
    const error = classifyVirshFailure('h1', 'nodeinfo', exited('err-auth.txt'));
    expect(error.reason).toBe('auth');
    expect(error.message).toContain('authentication failed');
    expect(error.message).not.toContain('Please enter');
  });

  it('a password the SASL daemon refuses is auth, said once, with what to check', () => {
    // libvirt answers an unknown user with the very same text (its own log tells them apart).
    const error = classifyVirshFailure('kvm-01', 'nodeinfo', exited('err-auth-wrong-password.txt'));
    expect(error).toMatchObject({ host: 'kvm-01', reason: 'auth' });
    expect(error.message).toBe("kvm-01: virsh nodeinfo: authentication failed (check the credentials and the daemon's auth settings)");
  });

  it("no credentials for a daemon that wants a SASL login says so in plain words, not in the SASL library's", () => {
    for (const fixture of ['err-auth-no-credentials.txt', 'err-auth.txt']) {
      const error = classifyVirshFailure('kvm-02', 'list', exited(fixture));
      expect(error).toMatchObject({ host: 'kvm-02', reason: 'auth' });
      expect(error.message).toBe(
        "kvm-02: virsh list: authentication failed: the host requires a SASL user name and password and none were given (set the connector's credentials)",
      );
    }
  });

  it('an unknown domain is not-found; an operation the domain is not in a state for is refused', () => {
    expect(classifyVirshFailure('h0', 'dominfo', exited('err-unknown-domain.txt')).reason).toBe('not-found');
    expect(classifyVirshFailure('h0', 'domjobabort', exited('err-domjobabort-nojob.txt')).reason).toBe('refused');
    expect(classifyVirshFailure('h1', 'domjobinfo', exited('err-domjobinfo-destination.txt')).reason).toBe('refused');
  });

  it('a call killed at its time limit is a timeout that says how long it waited', () => {
    const error = classifyVirshFailure('h2', 'nodeinfo', {
      error: Object.assign(new Error('killed'), { killed: true, signal: 'SIGKILL' as const, code: null }),
      stderr: '',
      timeoutMs: 2500,
      aborted: false,
    });
    expect(error.reason).toBe('timeout');
    expect(error.message).toBe('h2: virsh nodeinfo got no answer within 2.5 s');
  });

  it('a missing virsh says which package to install', () => {
    const error = classifyVirshFailure('h0', 'nodeinfo', {
      error: Object.assign(new Error('spawn virsh ENOENT'), { code: 'ENOENT' }),
      stderr: '',
      timeoutMs: 1,
      aborted: false,
    });
    expect(error.message).toContain('libvirt-clients');
  });
});

describe('Virsh', () => {
  it('puts the URI after -c and passes extra environment, never credentials, in argv', () => {
    const virsh = new Virsh('h0', 'qemu+ssh://root@kvm-01/system?keyfile=/etc/drs/id_ed25519', {
      env: { SSH_AUTH_SOCK: '/run/agent.sock' },
    });
    expect(virsh.argv(['nodeinfo'])).toEqual(['-q', '-c', 'qemu+ssh://root@kvm-01/system?keyfile=/etc/drs/id_ed25519', 'nodeinfo']);
    expect(virsh.environment()).toMatchObject({ LC_ALL: 'C', SSH_AUTH_SOCK: '/run/agent.sock' });
  });

  it('a program that is not there rejects with a ConnectorError naming the host', async () => {
    const virsh = new Virsh('h0', 'qemu+tcp://127.0.0.1/system', { virshPath: '/nonexistent/virsh' });
    await expect(virsh.run(['nodeinfo'])).rejects.toMatchObject({ host: 'h0', reason: 'other' });
  });
});
