import { checkConnectorConfig, isProblems } from '../connector-kinds';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const fields = (settings: unknown, credentials: unknown = { username: 'drs@vsphere.local', password: 's3cret' }) => {
  const checked = checkConnectorConfig('vsphere', settings, credentials);
  return isProblems(checked) ? checked.map((p) => p.field) : checked;
};

describe('vsphere connector settings', () => {
  it('takes an HTTPS SDK URL, a cluster name, a pinned fingerprint normalised to hex, and the credentials', () => {
    const checked = checkConnectorConfig(
      'vsphere',
      {
        url: 'https://vcenter.example.com/sdk',
        cluster: 'prod',
        certificateSha256: 'AB:'.repeat(31) + 'AB',
        migrationTimeLimitSeconds: 600,
      },
      { username: 'drs@vsphere.local', password: 's3cret' },
    );
    expect(checked).toEqual({
      settings: {
        url: 'https://vcenter.example.com/sdk',
        cluster: 'prod',
        certificateSha256: 'ab'.repeat(32),
        migrationTimeLimitSeconds: 600,
      },
      credentials: { username: 'drs@vsphere.local', password: 's3cret' },
    });
    expect(fields({ url: 'https://vc/sdk', cluster: 'c', caCertificate: PEM })).toMatchObject({ settings: { caCertificate: PEM } });
  });

  it('names each field it refuses', () => {
    expect(fields({ url: 'http://vcenter/sdk', cluster: 'prod' })).toEqual(['settings.url']);
    expect(fields({ url: 'https://user:pw@vcenter/sdk', cluster: 'prod' })).toEqual(['settings.url']);
    expect(fields({ url: 'https://vcenter/sdk' })).toEqual(['settings.cluster']);
    expect(fields({ url: 'https://vcenter/sdk', cluster: 'prod', certificateSha256: 'abc' })).toEqual(['settings.certificateSha256']);
    expect(fields({ url: 'https://vcenter/sdk', cluster: 'prod', caCertificate: 'not a pem' })).toEqual(['settings.caCertificate']);
    expect(fields({ url: 'https://vcenter/sdk', cluster: 'prod', caCertificate: PEM, certificateSha256: 'ab'.repeat(32) })).toEqual([
      'settings.certificateSha256',
    ]);
    expect(fields({ url: 'https://vcenter/sdk', cluster: 'prod', migrationTimeLimitSeconds: 0 })).toEqual([
      'settings.migrationTimeLimitSeconds',
    ]);
    expect(fields({ url: 'https://vcenter/sdk', cluster: 'prod', hosts: [] })).toEqual(['settings.hosts']);
    expect(fields({ url: 'https://vcenter/sdk', cluster: 'prod' }, { username: 'drs' })).toEqual(['credentials.password']);
  });

  it('never echoes a refused password', () => {
    const checked = checkConnectorConfig('vsphere', { url: 'https://vc/sdk', cluster: 'c' }, { username: 'u', password: 'x'.repeat(2000) });
    expect(JSON.stringify(checked)).not.toContain('x'.repeat(100));
  });
});
