import { describe, expect, it } from 'vitest';
import { backendCondition, type BackendCondition, type BackendFacts } from '../../../src/shared/backend-state.js';

describe('backendCondition', () => {
  it.each<[BackendFacts, BackendCondition]>([
    [{ lifecycle: 'starting', restart: false, busy: false }, 'starting'],
    [{ lifecycle: 'starting', restart: true, busy: false }, 'restarting'],
    [{ lifecycle: 'ready', restart: false, busy: false }, 'ready'],
    [{ lifecycle: 'ready', restart: false, busy: true }, 'busy'],
    // A ready backend is no longer restarting, whatever the flag says.
    [{ lifecycle: 'ready', restart: true, busy: false }, 'ready'],
    [{ lifecycle: 'stopping', restart: false, busy: true }, 'stopping'],
    [{ lifecycle: 'stopping', restart: true, busy: false }, 'restarting'],
    [{ lifecycle: 'exited', restart: false, busy: true }, 'dead'],
    [{ lifecycle: 'exited', restart: true, busy: false }, 'dead'],
  ])('%j -> %s', (facts, expected) => {
    expect(backendCondition(facts)).toBe(expected);
  });
});
