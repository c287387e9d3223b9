/**
 * What the adapter says about itself and about interrupts. llmspell cannot interrupt a running
 * cell (it has no handler: SIGINT would kill it), so the adapter never forwards one and tells the
 * user what happens instead. Pure.
 */
export type InterruptPolicy = 'notice' | 'restart';

export function interruptNotice(policy: InterruptPolicy, graceMs: number): string {
  if (policy === 'restart') {
    return `Interrupt: llmspell cannot stop a running cell. If this cell is still running in ${formatSeconds(graceMs)}, llmspell will be restarted to stop it, and variables from earlier cells will be lost.\n`;
  }
  return 'Interrupt: llmspell cannot stop a running cell, so it keeps running. To stop it now, restart the kernel (variables are lost), or set interrupt = "restart" for this runtime in fleet.toml.\n';
}

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}

/** llmspell's own kernel_info (kept as it says), completed with what Jupyter front ends use. */
export function adapterKernelInfo(llmspell: Record<string, unknown>): Record<string, unknown> {
  const info = typeof llmspell.language_info === 'object' && llmspell.language_info !== null ? (llmspell.language_info as Record<string, unknown>) : {};
  const banner = typeof llmspell.banner === 'string' ? llmspell.banner : 'LLMSpell';
  return {
    protocol_version: '5.3',
    implementation: llmspell.implementation ?? 'llmspell',
    implementation_version: llmspell.implementation_version ?? '',
    language_info: {
      name: 'lua',
      version: '5.4',
      mimetype: 'text/x-lua',
      file_extension: '.lua',
      pygments_lexer: 'lua',
      codemirror_mode: 'lua',
      ...info,
    },
    banner: `${banner}\nServed through the llmspell-fleet adapter: Lua cells, errors with tracebacks, completion (Tab), history.`,
    help_links: [],
    debugger: false,
    status: 'ok',
  };
}
