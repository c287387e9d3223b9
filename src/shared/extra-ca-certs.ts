/**
 * NODE_EXTRA_CA_CERTS, kept out of the router's own start. Node 20 reads the file it names, and
 * builds its whole root certificate store, before running any code: 60 to 100 ms of a router's
 * start-up on a machine that sets it (issue #12), for TLS the router never speaks. So our
 * kernel.json sets it empty for the router and passes the user's value in a variable of our
 * own (jupyter_client fills `${NAME}` in a kernelspec's env from its own environment); main.ts
 * puts it back first thing, so what the router starts gets it as before. The router hands it to
 * the manager it starts the same way (fleet/manager/autostart.ts, managerEnv).
 */

export const STASHED_CA_VARIABLE = 'LLMSPELL_FLEET_NODE_EXTRA_CA_CERTS';

/** kernel.json's env for the router: Node starts without the bundle, our variable carries it. */
export const ROUTER_KERNEL_ENV: Readonly<Record<string, string>> = {
  NODE_EXTRA_CA_CERTS: '',
  [STASHED_CA_VARIABLE]: '${NODE_EXTRA_CA_CERTS}',
};

type Env = Record<string, string | undefined>;

/**
 * Pure: what NODE_EXTRA_CA_CERTS should be once the router runs. undefined when there is no
 * stash (not started by our kernel.json: the variable is left as it is), null when the stash
 * holds nothing usable (empty, or `${...}` left as is because Jupyter's environment did not set it
 * or the client does not fill templates): then the variable is removed.
 */
export function extraCaCertsToRestore(env: Env): string | null | undefined {
  const stashed = env[STASHED_CA_VARIABLE];
  if (stashed === undefined) return undefined;
  if (stashed === '' || stashed.includes('${')) return null;
  return stashed;
}

/** Puts NODE_EXTRA_CA_CERTS back into `env` (process.env) for what this process starts, and drops the stash. */
export function restoreExtraCaCerts(env: Env): void {
  const value = extraCaCertsToRestore(env);
  if (value === undefined) return;
  delete env[STASHED_CA_VARIABLE];
  if (value === null) delete env.NODE_EXTRA_CA_CERTS;
  else env.NODE_EXTRA_CA_CERTS = value;
}
