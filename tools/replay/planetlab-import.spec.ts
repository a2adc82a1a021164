import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTrace } from '../../src/simulator/trace';
import { main, planetlabCsv } from './planetlab-import';

describe('PlanetLab day import', () => {
  it('writes one row per VM file, in code-point order of the names, under a t0… header', () => {
    const csv = planetlabCsv([
      { name: 'planetlab1_b', text: '5\n0\n100\n' },
      { name: 'Zeta_a', text: '24\r\n34\r\n29' },
      { name: 'alpha', text: '7\n8\n9\n\n' },
      { name: 'uni-passau_de_ rnp', text: '1\n2\n3\n' },
    ]);
    expect(csv).toBe('vm,t0,t1,t2\nZeta_a,24,34,29\nalpha,7,8,9\nplanetlab1_b,5,0,100\nuni-passau_de__rnp,1,2,3\n');
    const trace = parseTrace(csv);
    expect(trace.names).toEqual(['Zeta_a', 'alpha', 'planetlab1_b', 'uni-passau_de__rnp']);
    expect(trace.utilization[2]).toEqual([5, 0, 100]);
  });

  it('refuses files that do not fit, naming the file and the line', () => {
    expect(() => planetlabCsv([])).toThrow('no VM files');
    expect(() => planetlabCsv([{ name: 'vm1', text: '5\nhigh\n7\n' }])).toThrow('vm1 line 2: "high" is not a utilization in percent');
    expect(() => planetlabCsv([{ name: 'vm1', text: '5\n-3\n' }])).toThrow('vm1 line 2');
    expect(() => planetlabCsv([{ name: 'vm1', text: '\n\n' }])).toThrow('vm1: no samples');
    expect(() =>
      planetlabCsv([
        { name: 'a', text: '1\n2\n3\n' },
        { name: 'b', text: '1\n2\n' },
      ]),
    ).toThrow('b: 2 samples, where a has 3');
    expect(() =>
      planetlabCsv([
        { name: 'a', text: '1\n2\n3\n' },
        { name: 'host b', text: '1\n2\n' },
      ]),
    ).toThrow('host b: 2 samples, where a has 3');
    expect(() =>
      planetlabCsv([
        { name: 'host b', text: '1\n' },
        { name: 'host_b', text: '2\n' },
      ]),
    ).toThrow('"host b" and "host_b" would both be VM host_b (spaces become underscores)');
    expect(() => planetlabCsv([{ name: 'x,y', text: '1\n' }])).toThrow('x,y: a VM file');
  });

  it('reads a day folder (files only) and writes the CSV', () => {
    const dir = mkdtempSync(join(tmpdir(), 'drs-planetlab-'));
    try {
      const day = join(dir, '20110309');
      mkdirSync(join(day, 'nested'), { recursive: true });
      writeFileSync(join(day, 'vm-b'), '10\n20\n');
      writeFileSync(join(day, 'vm-a'), '30\n40\n');
      const out = join(dir, 'day.csv');
      expect(main([day, out])).toBe(`wrote 2 VMs of 2 samples each to ${out}`);
      expect(readFileSync(out, 'utf8')).toBe('vm,t0,t1\nvm-a,30,40\nvm-b,10,20\n');
      expect(() => main([day])).toThrow('give the day folder and the CSV to write');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
