/**
 * The one word `%llmspell status`, `%llmspell list` and `llmspell-fleet list` show for a
 * backend, derived the same way for a router's view (its slot) and the manager's (its entry).
 */

/** 'spare' only in the manager's view: a ready backend of the pre-warmed pool that nobody has taken yet. */
export type BackendCondition = 'starting' | 'ready' | 'busy' | 'restarting' | 'stopping' | 'dead' | 'spare';

export interface BackendFacts {
  /** Where the process is in its life. */
  lifecycle: 'starting' | 'ready' | 'stopping' | 'exited';
  /** It is being replaced (a restart stops it) or it replaces one that died or was restarted. */
  restart: boolean;
  /** Its iopub says it is executing a request (a status busy not yet followed by idle). */
  busy: boolean;
}

/**
 * Pure. A restart shows as "restarting" from the moment the old process is told to stop until
 * the new one answers; a plain stop (linger, `stop`) is "stopping" for the moment it takes.
 */
export function backendCondition(facts: BackendFacts): BackendCondition {
  switch (facts.lifecycle) {
    case 'exited':
      return 'dead';
    case 'stopping':
      return facts.restart ? 'restarting' : 'stopping';
    case 'starting':
      return facts.restart ? 'restarting' : 'starting';
    case 'ready':
      return facts.busy ? 'busy' : 'ready';
  }
}
