/**
 * Lua 5.4's own parser (the reference implementation compiled to WebAssembly by wasmoon), used
 * only to ask "does this chunk compile?". It answers while llmspell is busy and never runs the
 * code. Loaded on first use: most sessions never ask, and the adapter should start fast.
 */

/** The little of wasmoon used here, declared locally: its own typings pull in emscripten's globals. */
interface LuaEngine {
  doString(code: string): Promise<unknown>;
  global: { get(name: string): unknown };
}
interface Wasmoon {
  LuaFactory: new () => { createEngine(options: { openStandardLibs: boolean; injectObjects: boolean }): Promise<LuaEngine> };
}

const WASMOON = 'wasmoon';
let engine: Promise<LuaEngine> | undefined;

async function lua(): Promise<LuaEngine> {
  engine ??= (import(WASMOON) as Promise<Wasmoon>).then(async ({ LuaFactory }) => {
    const e = await new LuaFactory().createEngine({ openStandardLibs: true, injectObjects: false });
    await e.doString('function __fleet_check(src) if load("return " .. src, "=cell") then return nil end local _, err = load(src, "=cell") return err end');
    return e;
  });
  return engine;
}

/** The parser's error for `code`, or null when it compiles. */
export async function luaLoadError(code: string): Promise<string | null> {
  const e = await lua();
  const check = e.global.get('__fleet_check') as (src: string) => string | null | undefined;
  return check(code) ?? null;
}
