import fc from 'fast-check';
import { JsonShapeScanner, ShapeBreach, ShapeLimits } from './json-scanner';

const WIDE: ShapeLimits = { maxDepth: 32, maxElements: 100, maxValues: 1000 };

/** Feeds `text` in chunks of the given sizes (cycled), as a socket might deliver it. */
function scan(text: string, limits: ShapeLimits = WIDE, sizes: number[] = [1 << 30]): ShapeBreach | undefined {
  const scanner = new JsonShapeScanner(limits);
  const bytes = Buffer.from(text);
  let found: ShapeBreach | undefined;
  for (let at = 0, k = 0; at < bytes.length; k++) {
    const size = Math.max(1, sizes[k % sizes.length]);
    found = scanner.write(bytes.subarray(at, at + size)) ?? found;
    at += size;
  }
  return found;
}

/** Every way to cut the text in two, and one byte at a time. */
function everySplit(text: string, limits: ShapeLimits = WIDE): (ShapeBreach | undefined)[] {
  const length = Buffer.byteLength(text);
  const out = [scan(text, limits, [1])];
  for (let cut = 1; cut < length; cut++) out.push(scan(text, limits, [cut, length]));
  return out;
}

const nested = (depth: number) => '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1);

describe('JsonShapeScanner', () => {
  it('lets a body within every limit through, however it is cut', () => {
    const body = JSON.stringify({ samples: [{ vmId: 'x', cpuMhz: 1.5e3, tags: ['a', 'b'], note: null, ok: true }], n: -0.5 });
    expect(everySplit(body).filter(Boolean)).toEqual([]);
  });

  it('refuses the level past the depth limit, naming where it is', () => {
    expect(scan(nested(32))).toBeUndefined();
    const breach = scan(nested(33));
    expect(breach).toMatchObject({ rule: 'maxDepth', field: Array(32).fill('a').join('.') });
    expect(scan(`{"name":${'['.repeat(40)}${']'.repeat(40)}}`)).toMatchObject({ rule: 'maxDepth', field: `name${'.0'.repeat(31)}` });
  });

  it('refuses an array past the element limit, naming the array', () => {
    const items = (n: number) => Array(n).fill('{}').join(',');
    expect(scan(`{"samples":[${items(100)}]}`)).toBeUndefined();
    expect(scan(`{"samples":[${items(101)}]}`)).toEqual({
      field: 'samples',
      rule: 'maxElements',
      message: expect.stringContaining('samples has more than 100 elements'),
    });
    expect(scan(`{"vms":[{},{},{"tags":[${Array(101).fill('"t"').join(',')}]}]}`)).toMatchObject({
      field: 'vms.2.tags',
      rule: 'maxElements',
    });
    expect(scan(`[${Array(101).fill('0').join(',')}]`)).toMatchObject({ field: 'body', rule: 'maxElements' });
  });

  it('refuses an object past the member limit', () => {
    const members = (n: number) => Array.from({ length: n }, (_, i) => `"k${i}":0`).join(',');
    expect(scan(`{"policy":{${members(100)}}}`)).toBeUndefined();
    expect(scan(`{"policy":{${members(101)}}}`)).toMatchObject({
      field: 'policy',
      rule: 'maxElements',
      message: expect.stringContaining('members'),
    });
  });

  it('refuses a body past the total number of values, containers included', () => {
    const limits = { ...WIDE, maxValues: 10 };
    // the body, the array and 8 numbers: 10 values
    expect(scan(`{"a":[1,2,3,4,5,6,7,8]}`, limits)).toBeUndefined();
    expect(scan(`{"a":[1,2,3,4,5,6,7,8],"b":9}`, limits)).toMatchObject({ rule: 'maxValues', field: 'b' });
    expect(scan(`[[1,2],[3,4],[5,6],[7]]`, limits)).toMatchObject({ rule: 'maxValues', field: '3' });
  });

  it('does not count brackets, commas and escaped quotes inside strings', () => {
    const limits = { maxDepth: 2, maxElements: 2, maxValues: 4 };
    const body = String.raw`{"a":["[{,,,,]}", "\"],[\\"]}`;
    expect(everySplit(body, limits).filter(Boolean)).toEqual([]);
    expect(JSON.parse(body)).toEqual({ a: ['[{,,,,]}', '"],[\\'] });
  });

  it('refuses prototype keys, escaped or split across chunks, wherever they are; as values they are plain text', () => {
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      const body = `{"a":[{"ok":1},{"${key}":{"admin":true}}]}`;
      for (const breach of everySplit(body)) expect(breach).toMatchObject({ rule: 'forbiddenKey', field: `a.1.${key}` });
    }
    const escaped = String.raw`{"\u005f_proto__":{}}`;
    expect(JSON.parse(escaped)).toHaveProperty(['__proto__']);
    for (const breach of everySplit(escaped)) expect(breach).toMatchObject({ rule: 'forbiddenKey', field: '__proto__' });
    expect(scan('{"name":"__proto__","constructor_":1,"prototypes":["constructor"]}')).toBeUndefined();
  });

  it('names keys in error paths whole, however they are cut, escapes decoded', () => {
    const body = String.raw`{"héllo wörld":{"x\"y":[${Array(101).fill(0).join(',')}]}}`;
    for (const breach of everySplit(body)) expect(breach).toMatchObject({ rule: 'maxElements', field: 'héllo wörld.x"y' });
  });

  it('keeps answering the first breach once found', () => {
    const scanner = new JsonShapeScanner({ ...WIDE, maxElements: 1 });
    const first = scanner.write(Buffer.from('{"a":[1,2'));
    expect(first).toMatchObject({ field: 'a' });
    expect(scanner.write(Buffer.from(']}'))).toBe(first);
  });

  it('agrees with the parsed value on depth, widest container and value count, for any JSON cut anywhere', () => {
    const shape = (v: unknown, depth = 0): { depth: number; widest: number; values: number } => {
      if (v === null || typeof v !== 'object') return { depth, widest: 0, values: 1 };
      const children = Array.isArray(v) ? v : Object.values(v);
      const inner = children.map((c) => shape(c, depth + 1));
      return {
        depth: Math.max(depth + 1, ...inner.map((s) => s.depth)),
        widest: Math.max(children.length, ...inner.map((s) => s.widest)),
        values: 1 + inner.reduce((sum, s) => sum + s.values, 0),
      };
    };
    const forbidden = /"(__proto__|constructor|prototype)":/;
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 6 }).filter((v) => v !== null && typeof v === 'object'),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }),
        (value, sizes) => {
          const text = JSON.stringify(value, null, sizes[0] % 3);
          fc.pre(!forbidden.test(text));
          const exact = shape(value);
          const limits = { maxDepth: exact.depth, maxElements: Math.max(1, exact.widest), maxValues: exact.values };
          expect(scan(text, limits, sizes)).toBeUndefined();
          if (exact.depth > 1) expect(scan(text, { ...limits, maxDepth: exact.depth - 1 }, sizes)?.rule).toBe('maxDepth');
          if (exact.widest > 1) expect(scan(text, { ...limits, maxElements: exact.widest - 1 }, sizes)?.rule).toBe('maxElements');
          expect(scan(text, { ...limits, maxValues: exact.values - 1 }, sizes)?.rule).toBe('maxValues');
        },
      ),
      { numRuns: 300 },
    );
  });
});
