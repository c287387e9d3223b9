import { describe, expect, it } from 'vitest';
import { planPool, type PoolPlanInput, type SpareFacts } from '../../../../src/fleet/manager/pool-plan.js';

const spare = (kernelId: string, key: string, startedAt: number, rssMb?: number): SpareFacts => ({ kernelId, key, startedAt, ...(rssMb === undefined ? {} : { rssMb }) });
const PY = 'python/openai';
const JS = 'javascript/openai';

function input(over: Partial<PoolPlanInput>): PoolPlanInput {
  return { pool: {}, spares: [], typicalMb: {}, blocked: new Set(), ...over };
}

describe('planPool', () => {
  it.each<[string, Partial<PoolPlanInput>, { start: string[]; retire: [string, string][]; held: [string, string][] }]>([
    ['nothing asked, nothing runs', {}, { start: [], retire: [], held: [] }],
    ['one asked, none runs: start it', { pool: { [PY]: { count: 1 } } }, { start: [PY], retire: [], held: [] }],
    ['one asked, one runs: nothing to do', { pool: { [PY]: { count: 1 } }, spares: [spare('a', PY, 1)] }, { start: [], retire: [], held: [] }],
    ['two asked of two keys: started in turn', { pool: { [PY]: { count: 2 }, [JS]: { count: 1 } } }, { start: [PY, JS, PY], retire: [], held: [] }],
    ['an entry removed: its spare retires', { spares: [spare('a', PY, 1)] }, { start: [], retire: [['a', 'not in [pool]']], held: [] }],
    ['an entry set to 0: its spare retires', { pool: { [PY]: { count: 0 } }, spares: [spare('a', PY, 1)] }, { start: [], retire: [['a', 'not in [pool]']], held: [] }],
    ['count lowered: the newest retires', { pool: { [PY]: { count: 1 } }, spares: [spare('new', PY, 9), spare('old', PY, 1)] }, { start: [], retire: [['new', 'more than [pool] asks']], held: [] }],
    [
      'over pool_max_mb: the newest retire until under',
      { pool: { [PY]: { count: 3 } }, maxMb: 120, spares: [spare('a', PY, 1, 60), spare('b', PY, 2, 60), spare('c', PY, 3, 60)] },
      { start: [], retire: [['c', 'pool_max_mb']], held: [[PY, 'pool_max_mb']] },
    ],
    [
      'a spare whose size is not known yet counts as the last one seen',
      { pool: { [PY]: { count: 2 } }, maxMb: 100, typicalMb: { [PY]: 60 }, spares: [spare('a', PY, 1)] },
      { start: [], retire: [], held: [[PY, 'pool_max_mb']] },
    ],
    ['a size never seen does not hold a start (it is retired once measured)', { pool: { [PY]: { count: 1 } }, maxMb: 10 }, { start: [PY], retire: [], held: [] }],
    [
      'under pool_max_mb: only as many as fit are started',
      { pool: { [PY]: { count: 3 } }, maxMb: 130, typicalMb: { [PY]: 60 } },
      { start: [PY, PY], retire: [], held: [[PY, 'pool_max_mb']] },
    ],
    ['no room under max_backends: none started', { pool: { [PY]: { count: 1 } }, room: 0 }, { start: [], retire: [], held: [[PY, 'max_backends']] }],
    ['room for one of two', { pool: { [PY]: { count: 1 }, [JS]: { count: 1 } }, room: 1 }, { start: [PY], retire: [], held: [[JS, 'max_backends']] }],
    [
      'over max_backends (user backends came): the newest spare retires',
      { pool: { [PY]: { count: 2 } }, room: -1, spares: [spare('a', PY, 1), spare('b', PY, 2)] },
      { start: [], retire: [['b', 'max_backends']], held: [[PY, 'max_backends']] },
    ],
    ['startup failed lately: held', { pool: { [PY]: { count: 1 }, [JS]: { count: 1 } }, blocked: new Set([PY]) }, { start: [JS], retire: [], held: [[PY, 'failed lately']] }],
  ])('%s', (_name, over, expected) => {
    const plan = planPool(input(over));
    expect(plan.start).toEqual(expected.start);
    expect(plan.retire.map((r) => [r.kernelId, r.why])).toEqual(expected.retire);
    expect(plan.held.map((h) => [h.key, h.why])).toEqual(expected.held);
  });
});
