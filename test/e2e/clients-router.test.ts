import { defineClientSuite } from '../helpers/e2e.js';
import { FLEET_JAVASCRIPT, FLEET_PYTHON, setupFleet, stopFleetManager } from '../helpers/fleet-env.js';

/**
 * The same real clients and suites as clients-direct.test.ts, through the llmspell-fleet
 * kernel: what passes against ipykernel and tslab directly must pass through the router.
 */
defineClientSuite({
  label: 'llmspell-fleet router',
  pythonKernel: FLEET_PYTHON,
  tslabKernel: FLEET_JAVASCRIPT,
  setup: (jenv) => setupFleet(jenv, { defaultRuntime: 'python' }),
  // The fleet manager is per user and outlives routers by design; with linger 0 its backends are gone already.
  teardown: (jenv) => stopFleetManager(jenv.homeDir),
  expectIopubWelcome: true,
});
