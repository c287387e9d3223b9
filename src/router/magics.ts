import type { FleetEntry } from '../shared/backend.js';
import type { BackendCondition } from '../shared/backend-state.js';
import { formatTable } from '../shared/table.js';
import type { WireMessage } from '../wire/codec.js';
import type { RequestChannel } from './backend-link.js';
import type { SlotState } from './backend-slot.js';
import { errorReplyContent, statusContent, streamContent } from './replies.js';
import { fleetMagicCompletions, helpText, parseFleetMagic } from './requirement/magic.js';
import type { StickyChoice } from './resolver.js';
import type { ValuesMagic } from './requirement/values-magic.js';
import type { Requirement as RequirementRef } from '../shared/requirement.js';
import type { BackendDirectory } from './types.js';

/** What the magics read of a backend slot (BackendSlot satisfies it). */
export interface MagicsSlot {
  readonly requirement: RequirementRef;
  readonly state: SlotState;
  readonly failure: string | undefined;
  /** Resolves once the slot is ready or has failed. */
  readonly settled: Promise<void>;
  readonly lease: { readonly kernelId: string; readonly pid: number } | undefined;
  readonly link: { readonly heartbeat: { readonly responsive: boolean; readonly lastReplyAt: number } } | undefined;
  /** What it is doing now: starting, ready, busy, restarting, dead. */
  readonly condition: BackendCondition;
}

export interface MagicsOptions {
  directory: BackendDirectory;
  current(): MagicsSlot;
  slots(): MagicsSlot[];
  /** Set the session's choice; resolves with the slot now serving requests that name nothing. */
  setSticky(choice: StickyChoice | undefined): Promise<MagicsSlot>;
  reply(channel: RequestChannel, request: WireMessage, msgType: string, content: object): void;
  broadcast(msgType: string, content: object, parent?: object): void;
  known?: () => { runtimes: string[]; providers: string[] };
  /** The session's count for a cell the router answers itself (the same sequence as the backends' cells). */
  nextExecutionCount: (request: WireMessage) => number;
  /** The output last shown from a backend's time without a client (replay.ts), if any. */
  lastReplay?: () => string | undefined;
  /** `%llmspell get/put` (src/router/values/transfer.ts). */
  values?: { run(magic: ValuesMagic): Promise<string> };
  /**
   * Resolves once the cells sent before now have ended: status and list describe the session as
   * it is when they run, after the cells above them, as a kernel would (cell-order.ts).
   */
  earlierCells?: () => Promise<void>;
}

/**
 * `%llmspell use|status|list|get|put|help`: answered by the router itself, in any runtime, with the
 * same message sequence a kernel produces (busy, execute_input, output, reply, idle).
 */
export class FleetMagics {
  constructor(private readonly options: MagicsOptions) {}

  /**
   * True if `code` was a fleet magic and has been answered (or will be); for get/put, the
   * answer's promise: the cells after it wait for the copy.
   */
  handle(channel: RequestChannel, msg: WireMessage, code: string): boolean | Promise<void> {
    const magic = parseFleetMagic(code);
    if (!magic) return false;
    const answered = this.#run(channel, msg, code, async () => {
      switch (magic.kind) {
        case 'help': return helpText();
        case 'status': return this.#status();
        case 'list': return this.#list();
        case 'replay': return this.options.lastReplay?.() ?? NOTHING_REPLAYED;
        case 'error': throw new Error(magic.message);
        case 'use': return this.#use({ runtime: magic.runtime, ...(magic.provider ? { provider: magic.provider } : {}) });
        case 'get':
        case 'put':
          if (!this.options.values) throw new Error(`%llmspell ${magic.kind} is not available in this router`);
          return this.options.values.run(magic);
      }
    });
    return magic.kind === 'get' || magic.kind === 'put' ? answered : true;
  }

  /** Completion of the magic's own words; false when the request is not about them. */
  complete(channel: RequestChannel, msg: WireMessage): boolean {
    const { code, cursor_pos: cursor } = msg.content<{ code?: unknown; cursor_pos?: unknown }>();
    if (typeof code !== 'string' || typeof cursor !== 'number') return false;
    const known = this.options.known?.() ?? { runtimes: [], providers: [] };
    const result = fleetMagicCompletions(code, cursor, known);
    if (!result) return false;
    this.options.reply(channel, msg, 'complete_reply', { status: 'ok', ...result, metadata: {} });
    return true;
  }

  #sticky: StickyChoice | undefined;

  async #use(choice: StickyChoice): Promise<string> {
    const before = this.#sticky;
    const slot = await this.options.setSticky(choice);
    await slot.settled;
    if (slot.state !== 'ready') {
      await this.options.setSticky(before);
      throw new Error(`cannot use ${slot.requirement.runtime}/${slot.requirement.provider}: ${slot.failure ?? 'backend unavailable'}`);
    }
    this.#sticky = choice;
    return `Using ${describe(slot)} for this session (cells without a %%llmspell directive or llmspell metadata).\n`;
  }

  async #status(): Promise<string> {
    await this.options.earlierCells?.();
    const slot = this.options.current();
    await slot.settled;
    const fleet = await this.#fleet();
    const lines = [`This session: ${slot.requirement.runtime}/${slot.requirement.provider}`];
    for (const s of this.options.slots()) {
      const entry = s.condition === 'dead' ? undefined : fleet?.find((e) => e.kernelId === s.lease?.kernelId);
      const clients = entry ? `, shared by ${entry.clients} client${entry.clients === 1 ? '' : 's'}` : '';
      lines.push(`  ${s === slot ? '*' : ' '} ${statusLine(s)}${clients}`);
    }
    return lines.join('\n') + '\n';
  }

  async #list(): Promise<string> {
    await this.options.earlierCells?.();
    const fleet = await this.#fleet();
    if (!fleet) return this.options.slots().map((s) => statusLine(s)).join('\n') + '\n';
    if (fleet.length === 0) return 'No backends are running.\n';
    const rows = fleet.map((e) => [e.kernelId, String(e.pid), e.runtime, e.provider, e.state, String(e.clients)]);
    return formatTable(['ID', 'PID', 'RUNTIME', 'PROVIDER', 'STATE', 'CLIENTS'], rows);
  }

  async #fleet(): Promise<FleetEntry[] | undefined> {
    return this.options.directory.list ? this.options.directory.list().catch(() => undefined) : undefined;
  }

  async #run(channel: RequestChannel, msg: WireMessage, code: string, body: () => Promise<string>): Promise<void> {
    const count = this.options.nextExecutionCount(msg);
    const parent = msg.header;
    this.options.broadcast('status', statusContent('busy'), parent);
    this.options.broadcast('execute_input', { code, execution_count: count }, parent);
    try {
      const text = await body();
      this.options.broadcast('stream', streamContent('stdout', text), parent);
      this.options.reply(channel, msg, 'execute_reply', { status: 'ok', execution_count: count, user_expressions: {}, payload: [] });
    } catch (error) {
      const content = errorReplyContent('FleetError', (error as Error).message);
      this.options.broadcast('error', content, parent);
      this.options.reply(channel, msg, 'execute_reply', { ...content, execution_count: count });
    }
    this.options.broadcast('status', statusContent('idle'), parent);
  }
}

const NOTHING_REPLAYED =
  'Nothing was replayed in this session: no backend it uses printed anything while no client was attached.\n' +
  'A backend keeps its output (fleet.toml [replay]) only between its last client leaving and the next one attaching.\n';
/** `lua/openai: busy, backend k1, pid 101`: what `status` says of one backend of the session. */
function statusLine(slot: MagicsSlot): string {
  const r = `${slot.requirement.runtime}/${slot.requirement.provider}`;
  const silent = slot.condition === 'ready' || slot.condition === 'busy' ? silence(slot) : '';
  const backend = slot.lease && slot.condition !== 'dead' ? `, backend ${slot.lease.kernelId}, pid ${slot.lease.pid}` : '';
  const failure = slot.condition === 'dead' && slot.failure ? ` (${slot.failure})` : '';
  return `${r}: ${slot.condition}${backend}${silent}${failure}`;
}

/** `, heartbeat silent for 3.2 s` while the backend's heartbeat goes unanswered, else nothing. */
function silence(slot: MagicsSlot): string {
  const hb = slot.link?.heartbeat;
  return hb && !hb.responsive ? `, heartbeat silent for ${((Date.now() - hb.lastReplyAt) / 1000).toFixed(1)} s` : '';
}

function describe(slot: MagicsSlot): string {
  const r = `${slot.requirement.runtime}/${slot.requirement.provider}`;
  if (slot.state === 'ready' && slot.lease) {
    return `${r}: backend ${slot.lease.kernelId}, pid ${slot.lease.pid}${silence(slot)}`;
  }
  return `${r}: ${slot.state}${slot.failure ? ` (${slot.failure})` : ''}`;
}
