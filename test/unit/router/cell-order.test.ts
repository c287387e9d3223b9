import { describe, expect, it } from 'vitest';
import { CellOrder } from '../../../src/router/cell-order.js';

const settledNow = async (p: Promise<void>) => {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
};

describe('CellOrder', () => {
  it('earlier() waits for the cells started before it, not for those started after', async () => {
    const order = new CellOrder();
    order.started('a');
    order.started('b');
    const waiting = order.earlier();
    order.started('c');
    order.ended('a');
    expect(await settledNow(waiting)).toBe(false);
    order.ended('b');
    expect(await settledNow(waiting)).toBe(true);
    expect(order.has('c')).toBe(true);
  });

  it('with nothing open, earlier() resolves at once; unknown and repeated ends are harmless', async () => {
    const order = new CellOrder();
    order.ended('nobody');
    order.ended(undefined);
    expect(await settledNow(order.earlier())).toBe(true);
    order.started('a');
    order.ended('a');
    order.ended('a');
    expect(order.has('a')).toBe(false);
  });

  it('is bounded: past max the oldest cell is let go', async () => {
    const order = new CellOrder(2);
    order.started('a');
    const waiting = order.earlier();
    order.started('b');
    order.started('c');
    expect(order.has('a')).toBe(false);
    expect(await settledNow(waiting)).toBe(true);
  });
});
