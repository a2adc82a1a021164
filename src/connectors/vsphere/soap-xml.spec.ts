import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildEnvelope, escapeXml, parseEnvelope, Ref, Typed } from './soap-xml';

const captured = (file: string) => readFileSync(join(__dirname, 'testdata', file), 'utf8');

describe('request envelopes', () => {
  it('escapes the five XML specials in text, so a password like <&>"\' reaches vCenter unchanged', () => {
    const xml = buildEnvelope('Login', { type: 'SessionManager', value: 'SessionManager' }, { userName: 'ops', password: `a<&>"'b` });
    expect(xml).toContain('<userName>ops</userName><password>a&lt;&amp;&gt;&quot;&apos;b</password>');
  });

  it('escapes attribute and text of a managed-object reference (a VM name with <&> in a value)', () => {
    const xml = buildEnvelope('RetrievePropertiesEx', { type: 'PropertyCollector', value: 'pc"<&>' }, {});
    expect(xml).toContain('<_this type="PropertyCollector">pc&quot;&lt;&amp;&gt;</_this>');
  });

  it('writes references, xsi:typed elements and repeated elements in the order given', () => {
    const xml = buildEnvelope(
      'RetrievePropertiesEx',
      { type: 'PropertyCollector', value: 'propertyCollector' },
      {
        specSet: {
          propSet: [{ type: 'HostSystem', pathSet: ['name', 'runtime.powerState'] }],
          objectSet: {
            obj: new Ref({ type: 'ClusterComputeResource', value: 'domain-c7' }),
            skip: true,
            selectSet: [new Typed('TraversalSpec', { name: 'hosts', type: 'ClusterComputeResource', path: 'host', skip: false })],
          },
        },
        options: { maxObjects: 1000 },
      },
    );
    expect(xml).toContain(
      '<RetrievePropertiesEx xmlns="urn:vim25"><_this type="PropertyCollector">propertyCollector</_this><specSet>' +
        '<propSet><type>HostSystem</type><pathSet>name</pathSet><pathSet>runtime.powerState</pathSet></propSet>' +
        '<objectSet><obj type="ClusterComputeResource">domain-c7</obj><skip>true</skip>' +
        '<selectSet xsi:type="TraversalSpec"><name>hosts</name><type>ClusterComputeResource</type><path>host</path><skip>false</skip></selectSet>' +
        '</objectSet></specSet><options><maxObjects>1000</maxObjects></options></RetrievePropertiesEx>',
    );
  });

  it('leaves out undefined arguments and writes dates in ISO 8601', () => {
    const xml = buildEnvelope(
      'QueryPerf',
      { type: 'PerformanceManager', value: 'PerfMgr' },
      {
        querySpec: {
          entity: new Ref({ type: 'VirtualMachine', value: 'vm-1' }),
          startTime: new Date(Date.UTC(2025, 0, 2, 3, 4, 5)),
          endTime: undefined,
        },
      },
    );
    expect(xml).toContain('<startTime>2025-01-02T03:04:05.000Z</startTime>');
    expect(xml).not.toContain('endTime');
  });

  it('refuses text XML cannot carry instead of sending a broken envelope', () => {
    expect(() => escapeXml('bad\u0001name')).toThrow(/control character/);
  });
});

describe('response envelopes captured from vcsim', () => {
  it('reads returnval and decodes entities and numeric character references', () => {
    const parsed = parseEnvelope(captured('inventory.xml'));
    expect(parsed.ok).toBe(true);
    expect(captured('inventory.xml')).toContain('web &lt;&amp;&gt; &#34;1&#34;');
    expect(JSON.stringify(parsed)).toContain('web <&> \\"1\\"');
  });

  it.each([
    ['fault-invalid-login.xml', 'InvalidLogin', 'Login failure'],
    ['fault-not-found.xml', 'ManagedObjectNotFound', 'The object has already been deleted or has not been completely created'],
    ['fault-not-authenticated.xml', 'NotAuthenticated', ''],
    ['fault-invalid-state.xml', 'InvalidState', 'The operation is not allowed in the current state.'],
  ])('reads the fault of %s', (file, type, message) => {
    const parsed = parseEnvelope(captured(file));
    expect(parsed).toMatchObject({ ok: false, fault: { type, message } });
  });

  it('rejects a DOCTYPE (no entity expansion from a server)', () => {
    expect(() => parseEnvelope('<!DOCTYPE x [<!ENTITY a "b">]><Envelope><Body/></Envelope>')).toThrow(/DOCTYPE/);
  });

  it('rejects what is not a SOAP envelope', () => {
    expect(() => parseEnvelope('<html><body>Service unavailable</body></html>')).toThrow(/not a SOAP envelope/);
  });
});
