import type { WireMessage } from '../../wire/codec.js';
import type { History, HistoryRequest } from './history.js';
import { ProbeJob } from './jobs.js';
import { completionContext, completionProbe, completionReply, inspectProbe, inspectReply, nameAt } from './lua-probes.js';

export interface ShellState {
  history: History;
  /** Global names from the last completion probe: what a busy kernel completes from. */
  globals: readonly string[];
  onGlobals(names: string[]): void;
}

/** What the adapter does for one shell request that is not execute, kernel_info or is_complete. */
export type ShellAnswer =
  | { reply: { msgType?: string; content?: object; publish?: { msgType: string; content: object } } }
  | { job: ProbeJob };

/** undefined: nothing to do (comm messages for comms that do not exist). */
export function answerShell(msg: WireMessage, state: ShellState): ShellAnswer | undefined {
  const type = msg.msgType;
  switch (type) {
    case 'history_request':
      return { reply: { msgType: 'history_reply', content: state.history.reply(msg.content<HistoryRequest>()) } };
    case 'comm_info_request':
      return { reply: { msgType: 'comm_info_reply', content: { status: 'ok', comms: {} } } };
    case 'comm_open': {
      // The spec's answer to a comm nobody can open: close it at once, with the reason.
      const commId = msg.content<{ comm_id?: unknown }>().comm_id;
      const data = { error: 'llmspell kernels have no comms: widgets and other comm-based extensions need a kernel that supports them (e.g. Python)' };
      return { reply: { publish: { msgType: 'comm_close', content: { comm_id: commId, data } } } };
    }
    case 'comm_msg':
    case 'comm_close':
      return undefined;
    case 'complete_request': {
      const { code, cursor_pos } = msg.content<{ code?: unknown; cursor_pos?: unknown }>();
      const text = typeof code === 'string' ? code : '';
      const context = completionContext(text, typeof cursor_pos === 'number' ? cursor_pos : [...text].length);
      const answer = (printed: string | undefined) => {
        if (printed !== undefined && context.path.length === 0 && context.prefix === '') state.onGlobals(printed.split('\n').filter(Boolean));
        const known = printed ?? (context.path.length === 0 ? state.globals.join('\n') : undefined);
        return { msgType: 'complete_reply', content: completionReply(context, known) };
      };
      // A prefix-free root probe lists every global, which refreshes the busy-time cache too.
      const probe = completionProbe(context.path.length === 0 ? { ...context, prefix: '' } : context);
      return { job: new ProbeJob(msg, probe, answer) };
    }
    case 'inspect_request': {
      const { code, cursor_pos } = msg.content<{ code?: unknown; cursor_pos?: unknown }>();
      const text = typeof code === 'string' ? code : '';
      const path = nameAt(text, typeof cursor_pos === 'number' ? cursor_pos : [...text].length);
      const answer = (printed: string | undefined) => ({ msgType: 'inspect_reply', content: inspectReply(path, printed) });
      return { job: new ProbeJob(msg, path ? inspectProbe(path) : '', answer) };
    }
    default:
      if (type.endsWith('_request')) {
        const evalue = `the llmspell adapter does not implement ${type}`;
        return { reply: { msgType: type.replace(/_request$/, '_reply'), content: { status: 'error', ename: 'NotImplementedError', evalue, traceback: [evalue] } } };
      }
      return undefined;
  }
}
