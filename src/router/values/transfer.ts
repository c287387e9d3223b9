/**
 * `%llmspell get/put`: the I/O around the pure converters. The router runs the export snippet
 * on the source backend and the import snippet on the target as requests of its own, through
 * the slot's JupyterClient: BackendLink drops every reply and iopub message whose parent the
 * router sent, so nothing of them (not even their busy/idle) reaches a client.
 */
import { randomUUID } from 'node:crypto';
import { describeError } from '../../shared/errors.js';
import { requirementKey, type Requirement as RequirementRef } from '../../shared/requirement.js';
import type { JupyterClient } from '../../wire/client.js';
import type { WireMessage } from '../../wire/codec.js';
import { executeCell } from '../../wire/execute.js';
import type { ValuesMagic } from '../requirement/values-magic.js';
import { javascript } from './javascript.js';
import type { JsonValue } from './json-value.js';
import { exportMarker, readExport, valueLanguageOf, ValueCrossingError, type ValueConverter, type ValueLanguage } from './language.js';
import { lua } from './lua.js';
import { python } from './python.js';

const CONVERTERS: Record<ValueLanguage, ValueConverter> = { python, javascript, lua };

/** What the transfer needs of a backend slot (BackendSlot satisfies it). */
export interface ValuesSlot {
  readonly requirement: RequirementRef;
  readonly state: string;
  readonly failure: string | undefined;
  /** Resolves once the slot is ready or has failed. */
  readonly settled: Promise<void>;
  readonly link: { readonly client: JupyterClient } | undefined;
}

export interface ValueTransferOptions {
  /** The slot serving this session's cells that name no backend. */
  current(): ValuesSlot;
  /** The slot a cell with `%%llmspell runtime=R [provider=P]` would go to, started if need be. */
  peer(choice: { runtime: string; provider?: string }): ValuesSlot | Promise<ValuesSlot>;
  /** How long each snippet may wait (behind a running cell, say). Default 120 s. */
  timeoutMs?: number;
}

interface Side {
  slot: ValuesSlot;
  client: JupyterClient;
  converter: ValueConverter;
}

export class ValueTransfer {
  /** Per connection to a backend: a restarted backend is a new client and is asked again. */
  readonly #languages = new WeakMap<JupyterClient, Promise<string>>();

  constructor(private readonly options: ValueTransferOptions) {}

  /** Runs the magic; resolves with the line the cell shows, or rejects with what went wrong. */
  async run(magic: ValuesMagic): Promise<string> {
    const here = this.options.current();
    const there = await this.options.peer({ runtime: magic.runtime, ...(magic.provider ? { provider: magic.provider } : {}) });
    if (there === here) throw new Error(`${key(here)} is this session's own backend: its values are already here`);
    const [source, target] = await Promise.all(magic.kind === 'get' ? [this.#side(there), this.#side(here)] : [this.#side(here), this.#side(there)]);
    const bad = magic.names.flatMap((n) => [source.converter.invalidName(n), target.converter.invalidName(n)]).filter((p) => p !== undefined);
    if (bad.length > 0) throw new Error(`cannot copy ${[...new Set(bad)].join('; ')}`);

    const marker = exportMarker(randomUUID());
    const notes: string[] = [];
    const exported = readExport(await this.#execute(source, source.converter.exportCode(magic.names, marker), 'export', notes), marker);
    const failed = exported.flatMap((e) => ('error' in e ? [e.error] : []));
    if (failed.length > 0) throw new Error(`cannot copy from ${key(source.slot)}: ${failed.join('; ')}`);
    const values = exported.map((e) => [e.name, (e as { value: JsonValue }).value] as const);
    let code: string;
    try {
      code = target.converter.importCode(values);
    } catch (error) {
      if (error instanceof ValueCrossingError) throw new Error(`cannot copy into ${key(target.slot)} (${target.converter.language}): ${error.message}`);
      throw error;
    }
    await this.#execute(target, code, 'import', notes);
    const names = magic.names.join(', ');
    const line = magic.kind === 'get' ? `copied ${names} from ${key(there)}\n` : `copied ${names} to ${key(there)}\n`;
    // What a backend said on stderr meanwhile (the adapter's one-time notice, say) is shown, not lost.
    return line + notes.join('');
  }

  async #side(slot: ValuesSlot): Promise<Side> {
    await slot.settled;
    const client = slot.link?.client;
    if (slot.state !== 'ready' || !client) throw new Error(`${key(slot)} is not available: ${slot.failure ?? slot.state}`);
    let asked = this.#languages.get(client);
    if (!asked) {
      asked = this.#languageOf(client);
      this.#languages.set(client, asked);
      // A failed question is asked again next time.
      asked.catch(() => this.#languages.delete(client));
    }
    const name = await asked;
    const language = valueLanguageOf(name);
    if (!language) throw new Error(`${key(slot)} runs ${name || 'a language it does not name'}, and values cross only between ${Object.keys(CONVERTERS).join(', ')}`);
    return { slot, client, converter: CONVERTERS[language] };
  }

  async #languageOf(client: JupyterClient): Promise<string> {
    const reply = await client.request('kernel_info_request', {}, { timeoutMs: this.options.timeoutMs ?? 120_000 });
    const info = reply.content<{ language_info?: { name?: unknown } }>().language_info;
    return typeof info?.name === 'string' ? info.name : '';
  }

  /**
   * Runs a snippet of the router's; resolves with its stdout, rejects with its error. A kernel
   * that aborted it because a cell before it failed (tslab aborts what arrives within 200 ms of
   * an error) is asked once more.
   */
  async #execute(side: Side, code: string, what: 'export' | 'import', notes: string[]): Promise<string> {
    const first = await this.#executeOnce(side, code, what, notes);
    return first !== undefined ? first : ((await this.#executeOnce(side, code, what, notes)) ?? this.#aborted(side, what));
  }

  #aborted(side: Side, what: string): never {
    throw new Error(`the ${what} on ${key(side.slot)} was aborted twice (a cell before it failed); run the magic again`);
  }

  /** Undefined when the kernel aborted the request without running it. */
  async #executeOnce(side: Side, code: string, what: 'export' | 'import', notes: string[]): Promise<string | undefined> {
    let stdout = '';
    let stderr = '';
    const problems: string[] = [];
    let reply: WireMessage<'execute_reply'>;
    try {
      reply = await executeCell(side.client, code, {
        silent: side.converter.silent,
        store_history: false,
        // The snippet's failure must not abort cells the user queued behind it.
        stop_on_error: false,
        timeoutMs: this.options.timeoutMs ?? 120_000,
        onOutput: (msg) => {
          if (msg.msgType === 'stream') {
            const { name, text } = msg.content<{ name?: string; text?: string }>();
            if (name === 'stdout') stdout += text ?? '';
            else if (text) {
              stderr += text;
              problems.push(text.trim());
            }
          } else if (msg.msgType === 'error') {
            const { ename, evalue } = msg.content<{ ename?: string; evalue?: string }>();
            problems.push(`${ename ?? 'Error'}: ${evalue ?? ''}`);
          }
        },
      });
    } catch (error) {
      throw new Error(`the ${what} on ${key(side.slot)} did not finish: ${describeError(error)}`, { cause: error });
    }
    const content = reply.content<{ status?: string; ename?: string; evalue?: string }>();
    if (content.status === 'aborted' || content.status === 'abort') return undefined;
    if (content.status !== 'ok') {
      const why = problems.length > 0 ? problems.join('\n') : `${content.ename ?? content.status}: ${content.evalue ?? ''}`;
      throw new Error(`the ${what} on ${key(side.slot)} failed: ${why}`);
    }
    if (stderr.trim() !== '') notes.push(`${key(side.slot)}: ${stderr.trimEnd()}\n`);
    return stdout;
  }
}

function key(slot: ValuesSlot): string {
  return requirementKey(slot.requirement);
}
