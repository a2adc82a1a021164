import { StampedCache } from './stamped-cache';

describe('StampedCache', () => {
  it('reuses a value while the stamp is the same and it is young enough', async () => {
    const cache = new StampedCache<number>(10, 1000);
    let computed = 0;
    const compute = async () => ++computed;
    expect(await cache.get('a', 's1', 0, compute)).toBe(1);
    expect(await cache.get('a', 's1', 999, compute)).toBe(1);
    expect(await cache.get('a', 's2', 999, compute)).toBe(2); // a write changed the stamp
    expect(await cache.get('a', 's2', 2000, compute)).toBe(3); // too old
    expect(await cache.get('a', 's2', 1500, compute)).toBe(4); // time went back: not trusted
    expect(await cache.get('b', 's2', 1500, compute)).toBe(5); // another key
  });

  it('lets requests that come during a computation share it, and keeps no failure', async () => {
    const cache = new StampedCache<string>(10, 1000);
    let release!: (v: string) => void;
    let calls = 0;
    const slow = () => {
      calls++;
      return new Promise<string>((resolve) => (release = resolve));
    };
    const first = cache.get('k', 's', 0, slow);
    const second = cache.get('k', 's', 1, slow);
    release('done');
    expect(await Promise.all([first, second])).toEqual(['done', 'done']);
    expect(calls).toBe(1);

    await expect(cache.get('x', 's', 0, () => Promise.reject(new Error('gone')))).rejects.toThrow('gone');
    expect(await cache.get('x', 's', 1, async () => 'again')).toBe('again');
  });

  it('keeps at most maxEntries, dropping the oldest', async () => {
    const cache = new StampedCache<number>(2, 1000);
    let computed = 0;
    const compute = async () => ++computed;
    await cache.get('a', 's', 0, compute);
    await cache.get('b', 's', 0, compute);
    await cache.get('c', 's', 0, compute);
    expect(await cache.get('b', 's', 0, compute)).toBe(2);
    expect(await cache.get('a', 's', 0, compute)).toBe(4); // evicted, recomputed
  });
});
