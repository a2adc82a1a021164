import { checkConnectorConfig } from '../connector-kinds';

const FINGERPRINT = 'AB:'.repeat(31) + 'AB';
const fieldsOf = (result: unknown) => (Array.isArray(result) ? result.map((p: { field: string }) => p.field).sort() : []);

describe('the proxmox connector settings', () => {
  it('accepts endpoints with a pinned fingerprint and a token, normalising the fingerprint', () => {
    const checked = checkConnectorConfig(
      'proxmox',
      { endpoints: ['https://pve1.example.com:8006/', 'https://10.0.0.2:8006'], certificateSha256: FINGERPRINT, allowLocalDisks: true },
      { tokenId: 'drs@pve!scheduler', secret: 'a1b2c3d4-0000-4000-8000-000000000001' },
    );
    expect(checked).toEqual({
      settings: {
        endpoints: ['https://pve1.example.com:8006', 'https://10.0.0.2:8006'],
        certificateSha256: 'ab'.repeat(32),
        allowLocalDisks: true,
      },
      credentials: { tokenId: 'drs@pve!scheduler', secret: 'a1b2c3d4-0000-4000-8000-000000000001' },
    });
  });

  it('names every bad field', () => {
    const result = checkConnectorConfig(
      'proxmox',
      { endpoints: ['http://pve1:8006', 'https://u:p@pve2:8006'], caCertificate: 'nope', migrationTimeLimitSeconds: 0, extra: 1 },
      { tokenId: 'root@pam', secret: 'has space', other: 'x' },
    );
    expect(fieldsOf(result)).toEqual([
      'credentials.other',
      'credentials.secret',
      'credentials.tokenId',
      'settings.caCertificate',
      'settings.endpoints.0',
      'settings.endpoints.1',
      'settings.extra',
      'settings.migrationTimeLimitSeconds',
    ]);
    // A message about the secret never repeats it.
    expect(JSON.stringify(result)).not.toContain('has space');
  });

  it('wants one way to trust the certificate, not none nor two, and 1 to 16 distinct endpoints', () => {
    expect(fieldsOf(checkConnectorConfig('proxmox', { endpoints: ['https://pve1:8006'] }, undefined))).toEqual(['settings.caCertificate']);
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    expect(
      fieldsOf(
        checkConnectorConfig(
          'proxmox',
          { endpoints: ['https://pve1:8006'], caCertificate: pem, certificateSha256: FINGERPRINT },
          undefined,
        ),
      ),
    ).toEqual(['settings.certificateSha256']);
    const many = Array.from({ length: 17 }, (_, i) => `https://pve${i}:8006`);
    expect(fieldsOf(checkConnectorConfig('proxmox', { endpoints: many, certificateSha256: FINGERPRINT }, undefined))).toEqual([
      'settings.endpoints',
    ]);
    expect(
      fieldsOf(
        checkConnectorConfig(
          'proxmox',
          { endpoints: ['https://pve1:8006', 'https://pve1:8006/'], certificateSha256: FINGERPRINT },
          undefined,
        ),
      ),
    ).toEqual(['settings.endpoints']);
  });
});
