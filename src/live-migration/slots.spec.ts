import { retryDelayMs, SlotBook } from './slots';

const move = (id: string, source: string, target: string, clusterId = 'c1', vmId = `vm-${id}`) => ({
  id,
  clusterId,
  vmId,
  sourceHostId: source,
  targetHostId: target,
});

describe('SlotBook', () => {
  it('counts a migration against both its source and its target host', () => {
    const book = new SlotBook({ perHost: 2, perCluster: 10 });
    book.take(move('a', 'h1', 'h2'));
    book.take(move('b', 'h3', 'h1'));
    expect(book.hostLoad('h1')).toBe(2);
    expect(book.blocker(move('c', 'h1', 'h4'))).toBe('the source host is at its cap');
    expect(book.blocker(move('c', 'h4', 'h1'))).toBe('the target host is at its cap');
    expect(book.blocker(move('c', 'h2', 'h3'))).toBeNull();
    expect(book.full().hostIds).toEqual(['h1']);
  });

  it('caps each cluster separately', () => {
    const book = new SlotBook({ perHost: 10, perCluster: 1 });
    book.take(move('a', 'h1', 'h2', 'c1'));
    expect(book.blocker(move('b', 'h3', 'h4', 'c1'))).toBe('the cluster is at its cap');
    expect(book.blocker(move('b', 'h5', 'h6', 'c2'))).toBeNull();
    expect(book.full().clusterIds).toEqual(['c1']);
  });

  it("applies a cluster policy's own caps, the defaults elsewhere", () => {
    const book = new SlotBook({ perHost: 4, perCluster: 16 });
    book.setClusterLimits(new Map([['strict', { perHost: 1, perCluster: 2 }]]));
    book.take(move('a', 'h1', 'h2', 'strict'));
    expect(book.blocker(move('b', 'h1', 'h3', 'strict'))).toBe('the source host is at its cap');
    expect(book.full().hostIds.sort()).toEqual(['h1', 'h2']);
    book.take(move('b', 'h3', 'h4', 'strict'));
    expect(book.blocker(move('c', 'h5', 'h6', 'strict'))).toBe('the cluster is at its cap');
    book.take(move('d', 'x1', 'x2', 'relaxed'));
    expect(book.blocker(move('e', 'x1', 'x3', 'relaxed'))).toBeNull();
  });

  it('lets one migration per VM run at a time, and frees every slot on release', () => {
    const book = new SlotBook({ perHost: 1, perCluster: 1 });
    book.take(move('a', 'h1', 'h2', 'c1', 'vm'));
    expect(book.blocker(move('b', 'h3', 'h4', 'c2', 'vm'))).toBe('its VM is already migrating');
    expect(() => book.take(move('c', 'h1', 'h5'))).toThrow(/cap/);
    book.release('a');
    expect(book.size).toBe(0);
    expect(book.full()).toEqual({ hostIds: [], clusterIds: [] });
    expect(book.blocker(move('b', 'h1', 'h2', 'c1', 'vm'))).toBeNull();
  });
});

describe('retryDelayMs', () => {
  it('doubles from the base with each failed attempt, up to an hour', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(30, n))).toEqual([30_000, 60_000, 120_000, 240_000]);
    expect(retryDelayMs(30, 50)).toBe(3_600_000);
    expect(retryDelayMs(0, 3)).toBe(0);
  });
});
