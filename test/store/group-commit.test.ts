// The group-commit queue shared by the transaction inserter and the webhook intake (src/store/group-commit.ts):
// what arrives in one turn of the event loop is one batch, batches are cut at maxBatch, at most maxInFlight
// batches are written at once, and whatever queued while they ran goes in the next batch.
import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/store/group-commit.js';

interface Gate {
  promise: Promise<void>;
  open: () => void;
}
function gate(): Gate {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('GroupCommit', () => {
  it('writes what was pushed in one turn as one batch, cut at maxBatch', async () => {
    const batches: number[][] = [];
    const queue = new GroupCommit<number>(
      async (batch) => {
        batches.push(batch);
      },
      { maxBatch: 3, maxInFlight: 5 },
    );
    for (let i = 1; i <= 7; i += 1) queue.push(i);
    expect(batches).toEqual([]); // nothing is written synchronously
    await turn();
    expect(batches).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
  });

  it('holds at most maxInFlight batches in flight; what queues meanwhile is the next batch', async () => {
    const gates: Gate[] = [];
    const batches: number[][] = [];
    let inFlight = 0;
    let most = 0;
    const queue = new GroupCommit<number>(
      async (batch) => {
        batches.push(batch);
        inFlight += 1;
        most = Math.max(most, inFlight);
        const g = gate();
        gates.push(g);
        await g.promise;
        inFlight -= 1;
      },
      { maxBatch: 1, maxInFlight: 2 },
    );
    for (const i of [1, 2, 3, 4]) queue.push(i);
    await turn();
    expect(batches).toEqual([[1], [2]]);
    gates[0]?.open();
    await turn();
    await turn();
    expect(batches).toEqual([[1], [2], [3]]);
    gates[1]?.open();
    gates[2]?.open();
    await turn();
    await turn();
    expect(batches).toEqual([[1], [2], [3], [4]]);
    gates[3]?.open();
    expect(most).toBe(2);
  });

  it('defaults to batches of 64 and 3 in flight', async () => {
    const batches: number[] = [];
    const gates: Gate[] = [];
    const queue = new GroupCommit<number>(async (batch) => {
      batches.push(batch.length);
      const g = gate();
      gates.push(g);
      await g.promise;
    });
    for (let i = 0; i < 64 * 4; i += 1) queue.push(i);
    await turn();
    expect(batches).toEqual([64, 64, 64]);
    for (const g of gates) g.open();
    await turn();
    await turn();
    expect(batches).toEqual([64, 64, 64, 64]);
  });
});
