import { CommitGroup } from './commit-group';

describe('CommitGroup', () => {
  it('writes what arrives during a write as one next batch, and resolves each caller after its batch', async () => {
    const batches: number[][] = [];
    let release: () => void = () => undefined;
    const group = new CommitGroup<number>(async (items) => {
      batches.push(items);
      if (batches.length === 1) await new Promise<void>((resolve) => (release = resolve));
    });
    const first = group.add(1);
    await new Promise((resolve) => setImmediate(resolve));
    const later = [group.add(2), group.add(3), group.add(4)];
    release();
    await Promise.all([first, ...later]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('retries the items of a failed batch one by one, failing only the bad one', async () => {
    const written: number[] = [];
    const group = new CommitGroup<number>(async (items) => {
      if (items.includes(13)) throw new Error(`cannot write ${items.join(',')}`);
      written.push(...items);
    });
    const results = await Promise.allSettled([group.add(12), group.add(13), group.add(14)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(written.sort()).toEqual([12, 14]);
    await group.drain();
  });
});
