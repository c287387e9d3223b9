/**
 * A kernelspec's `env` as jupyter_client applies it, in one place: for the backends' kernelspecs
 * the manager launches (fleet/plan.ts) and for the router's own (tests and the bench start the
 * router as Jupyter would).
 */
type Env = Readonly<Record<string, string | undefined>>;

/**
 * Pure: a kernelspec env as jupyter_client applies it (provisioner_base.py: `Template(v).safe_substitute(env)`
 * over each value, then merged over its own environment), for tests and the bench that start
 * the router as Jupyter would.
 */
export function applyKernelEnv(specEnv: Readonly<Record<string, string>>, env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return { ...out, ...substituteKernelEnv(specEnv, env) };
}

/**
 * Pure: a kernelspec's env values filled from `env` as jupyter_client does it (Python's
 * `Template.safe_substitute`: `$NAME` and `${NAME}` filled, `$$` is a dollar, an unknown name
 * stays as written). The one substitution for the router's kernelspec and the backends' ones.
 */
export function substituteKernelEnv(specEnv: Readonly<Record<string, string>>, env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, template] of Object.entries(specEnv)) {
    out[k] = template.replace(/\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (whole, dollar?: string, braced?: string, bare?: string) =>
      dollar !== undefined ? '$' : (env[braced ?? bare ?? ''] ?? whole),
    );
  }
  return out;
}
