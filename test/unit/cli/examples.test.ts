import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFleetConfig } from '../../../src/fleet/config.js';
import { LLMSPELL_ARGV } from '../../../src/fleet/defaults.js';

const EXAMPLES = join(import.meta.dirname, '..', '..', '..', 'examples');

describe('examples/fleet.toml', () => {
  const source = join(EXAMPLES, 'fleet.toml');
  const config = parseFleetConfig(readFileSync(source, 'utf8'), source);

  it('parses, with lua as the default runtime', () => {
    expect(config.default_runtime).toBe('lua');
    expect(config.default_provider).toBe('openai');
    expect(Object.keys(config.runtimes).sort()).toEqual(['javascript', 'lua', 'python']);
  });

  it("runs llmspell by its launch contract (kernel-writes, --port 0, no --daemon)", () => {
    const lua = config.runtimes.lua;
    expect(lua?.argv).toEqual([...LLMSPELL_ARGV]);
    expect(lua?.connection).toBe('kernel-writes');
    expect(lua?.language).toBe('lua');
    expect(lua?.argv).not.toContain('--daemon');
  });

  it.each(['openai', 'anthropic', 'ollama'])('provider %s has a config file and LLMSPELL_PROVIDER', (name) => {
    expect(config.providers[name]).toEqual({ config: `~/.llmspell/${name}.toml`, env: { LLMSPELL_PROVIDER: name } });
  });

  it('python uses the python3 kernelspec and javascript runs tslab', () => {
    expect(config.runtimes.python).toEqual({ kernelspec: 'python3' });
    expect(config.runtimes.javascript?.argv?.[0]).toBe('tslab');
  });
});

interface Cell {
  cell_type: string;
  id: string;
  metadata: Record<string, unknown>;
  source: string[] | string;
  execution_count?: number | null;
  outputs?: unknown[];
}

const NOTEBOOKS: Record<string, { runtime: string; provider: string }> = {
  'lua-openai.ipynb': { runtime: 'lua', provider: 'openai' },
  'lua-anthropic.ipynb': { runtime: 'lua', provider: 'anthropic' },
  'python.ipynb': { runtime: 'python', provider: 'openai' },
  'mixed.ipynb': { runtime: 'lua', provider: 'openai' },
};

describe('examples/notebooks', () => {
  const dir = join(EXAMPLES, 'notebooks');
  const load = (name: string) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as Record<string, unknown>;

  it('holds exactly the documented notebooks', () => {
    expect(readdirSync(dir).sort()).toEqual(Object.keys(NOTEBOOKS).sort());
  });

  it.each(Object.entries(NOTEBOOKS))('%s is nbformat 4.5 for the llmspell-fleet kernel, asking for %j', (name, want) => {
    const nb = load(name);
    expect(nb.nbformat).toBe(4);
    expect(nb.nbformat_minor).toBe(5);
    const meta = nb.metadata as Record<string, unknown>;
    expect((meta.kernelspec as Record<string, unknown>).name).toBe('llmspell-fleet');
    expect(typeof (meta.kernelspec as Record<string, unknown>).display_name).toBe('string');
    expect(meta.llmspell).toEqual(want);
    const cells = nb.cells as Cell[];
    expect(cells.length).toBeGreaterThan(1);
    const ids = new Set<string>();
    for (const cell of cells) {
      expect(['code', 'markdown']).toContain(cell.cell_type);
      // nbformat 4.5: 1-64 chars of letters, digits, - and _; unique in the notebook
      expect(cell.id).toMatch(/^[a-zA-Z0-9-_]{1,64}$/);
      expect(ids.has(cell.id)).toBe(false);
      ids.add(cell.id);
      expect(typeof cell.metadata).toBe('object');
      const source = Array.isArray(cell.source) ? cell.source : [cell.source];
      expect(source.every((s) => typeof s === 'string')).toBe(true);
      if (cell.cell_type === 'code') {
        expect(cell.execution_count).toBeNull();
        expect(cell.outputs).toEqual([]);
      } else {
        expect(cell.outputs).toBeUndefined();
      }
    }
  });

  it('mixed.ipynb routes per cell: directive, cell metadata, tag and the use magic', () => {
    const cells = load('mixed.ipynb').cells as Cell[];
    const text = (c: Cell) => (Array.isArray(c.source) ? c.source.join('') : c.source);
    const code = cells.filter((c) => c.cell_type === 'code');
    expect(code.some((c) => text(c).startsWith('%%llmspell runtime=python\n'))).toBe(true);
    expect(code.some((c) => (c.metadata.llmspell as { runtime?: string } | undefined)?.runtime === 'javascript')).toBe(true);
    expect(code.some((c) => (c.metadata.tags as string[] | undefined)?.includes('llmspell:runtime=javascript'))).toBe(true);
    expect(code.some((c) => text(c).trim() === '%llmspell use python')).toBe(true);
    expect(code.some((c) => text(c).trim() === '%llmspell status')).toBe(true);
  });
});
