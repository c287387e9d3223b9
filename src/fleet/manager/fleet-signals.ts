/**
 * Who hears of the fleet: listeners of manager events for attached routers (a restart, say),
 * and observers of each change of what `list` shows (the HTTP event streams).
 */
import type { Logger } from '../../shared/log.js';
import type { RouterRef } from './entry.js';
import type { FleetEventListener, FleetExit } from './fleet-options.js';
import type { ManagerEvent } from './protocol.js';

export class FleetSignals {
  readonly #listeners = new Set<FleetEventListener>();
  /** Told when what `list` shows may have changed, with the exit when one ended. */
  readonly #observers = new Set<(exit?: FleetExit) => void>();

  constructor(private readonly log: Logger) {}

  onEvent(listener: FleetEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  observe(observer: (exit?: FleetExit) => void): () => void {
    this.#observers.add(observer);
    return () => this.#observers.delete(observer);
  }

  get observerCount(): number {
    return this.#observers.size;
  }

  emit(event: ManagerEvent, to: readonly RouterRef[]): void {
    if (to.length === 0) return;
    for (const listener of this.#listeners) listener(event, to);
  }

  changed(exit?: FleetExit): void {
    for (const observer of this.#observers) {
      try {
        observer(exit);
      } catch (error) {
        this.log.error({ err: String(error) }, 'fleet observer failed');
      }
    }
  }
}
