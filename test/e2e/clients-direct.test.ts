/**
 * Baseline: the end-to-end Python clients (test/e2e/py) against the real kernels directly,
 * ipykernel through the venv's "python3" kernelspec and tslab (--js) through a "tslab"
 * kernelspec written into each test's isolated Jupyter environment.
 *
 * The router suite runs the same clients with other kernel names (defineClientSuite), so
 * any difference between the two is the router's doing.
 */
import { defineClientSuite, installTslabSpec } from '../helpers/e2e.js';

defineClientSuite({
  label: 'direct',
  pythonKernel: 'python3',
  tslabKernel: 'tslab',
  setup: async (jenv) => {
    await installTslabSpec(jenv, { name: 'tslab', js: true });
  },
});
