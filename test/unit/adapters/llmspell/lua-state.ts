/**
 * A real Lua 5.4 (the reference implementation in WebAssembly, wasmoon) to run the adapter's probe
 * chunks in, as llmspell would: `print` writes lines to what the probe's stdout stream would carry.
 */
import { LuaFactory } from 'wasmoon';

export interface LuaState {
  /** Runs a chunk; resolves to what it printed, one `\n`-ended line per print. Rejects on a Lua error. */
  run(code: string): Promise<string>;
  close(): void;
}

export async function luaState(): Promise<LuaState> {
  const engine = await new LuaFactory().createEngine({ openStandardLibs: true, injectObjects: false });
  let printed = '';
  // A host function, as llmspell's own print is: probes must describe it as built in.
  engine.global.set('print', (...values: unknown[]) => {
    printed += `${values.map((v) => String(v)).join('\t')}\n`;
  });
  return {
    async run(code) {
      printed = '';
      await engine.doString(code);
      return printed;
    },
    close() {
      engine.global.close();
    },
  };
}
