/**
 * The recorded wire traces of a real llmspell 0.14.1 (copied from shared/llmspell-traces, whose
 * README explains them): one JSON line per multipart message, in both directions. Read at test
 * time so the tests check the adapter against what llmspell really sent, message for message.
 */
import { readFileSync } from 'node:fs';
import { parseIopub, type LlmspellEvent } from '../../../../src/adapters/llmspell/dialect.js';

export const TRACE_FILES = ['client-identity.trace.jsonl', 'inprocess-client-identity.trace.jsonl'] as const;

export interface TraceEntry {
  t: number;
  channel: string;
  dir: 'to_kernel' | 'from_kernel';
  frames: Buffer[];
}

type RawFrame = string | { b64: string };

export function loadTrace(file: (typeof TRACE_FILES)[number]): TraceEntry[] {
  const text = readFileSync(new URL(`./traces/${file}`, import.meta.url), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const raw = JSON.parse(line) as { t: number; channel: string; dir: TraceEntry['dir']; frames: RawFrame[] };
      const frames = raw.frames.map((f) => (typeof f === 'string' ? Buffer.from(f, 'utf8') : Buffer.from(f.b64, 'base64')));
      return { t: raw.t, channel: raw.channel, dir: raw.dir, frames };
    });
}

/** Every iopub message llmspell published, as recorded. */
export function iopubFrames(file: (typeof TRACE_FILES)[number]): Buffer[][] {
  return loadTrace(file)
    .filter((e) => e.channel === 'iopub' && e.dir === 'from_kernel')
    .map((e) => e.frames);
}

/** What a client sent on shell, read from its standard multipart. */
function shellRequest(entry: TraceEntry): { msgType: string; content: Record<string, unknown> } | undefined {
  const delimiter = entry.frames.findIndex((f) => f.toString('utf8') === '<IDS|MSG>');
  const header = entry.frames[delimiter + 2];
  const content = entry.frames[delimiter + 5];
  if (delimiter < 0 || header === undefined || content === undefined) return undefined;
  return { msgType: (JSON.parse(header.toString('utf8')) as { msg_type: string }).msg_type, content: JSON.parse(content.toString('utf8')) };
}

export interface RecordedExecution {
  code: string;
  /** llmspell's iopub messages after this execute_request and before the next one, parsed. */
  events: LlmspellEvent[];
}

/** The trace's iopub events, grouped by the execute_request they followed. */
export function executions(file: (typeof TRACE_FILES)[number]): RecordedExecution[] {
  const groups: RecordedExecution[] = [];
  for (const entry of loadTrace(file)) {
    if (entry.channel === 'shell' && entry.dir === 'to_kernel') {
      const request = shellRequest(entry);
      if (request?.msgType === 'execute_request') groups.push({ code: String(request.content.code), events: [] });
    } else if (entry.channel === 'iopub' && entry.dir === 'from_kernel') {
      const event = parseIopub(entry.frames);
      if (event === undefined) throw new Error(`unreadable iopub message in ${file} at t=${entry.t}`);
      groups.at(-1)?.events.push(event);
    }
  }
  return groups;
}
