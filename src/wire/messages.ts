/**
 * Jupyter messaging spec (5.x) types: channels, the header, and what `content` holds for each
 * msg_type we send or read. Field names stay snake_case, as they travel on the wire.
 */
export type Channel = 'shell' | 'control' | 'stdin' | 'iopub' | 'hb';
export const CHANNELS: readonly Channel[] = ['shell', 'control', 'stdin', 'iopub', 'hb'];

export interface Header<T extends string = string> {
  msg_id: string;
  msg_type: T;
  session: string;
  username: string;
  date: string;
  version: string;
  subshell_id?: string | null;
}

export type ExecutionState = 'starting' | 'busy' | 'idle' | 'restarting' | 'dead';

export const PROTOCOL_VERSION = '5.4';

type Json = Record<string, unknown>;
/** `data` of execute_result, display_data and inspect_reply: one entry per MIME type. */
export type MimeBundle = Record<string, unknown>;

/** Every reply carries a status; an error reply carries the exception instead of its usual fields. */
export interface ReplyError {
  status: 'error';
  ename: string;
  evalue: string;
  traceback: string[];
}
type Reply<Ok> = ({ status: 'ok' } & Ok) | ReplyError | { status: 'abort' | 'aborted' };

export interface ExecuteRequest {
  code: string;
  silent: boolean;
  store_history: boolean;
  user_expressions: Json;
  allow_stdin: boolean;
  stop_on_error: boolean;
}
export type ExecuteReply = Reply<{ execution_count: number; payload?: Json[]; user_expressions?: Json }> & {
  execution_count?: number | null;
};

export interface KernelInfoReply {
  status: 'ok' | 'error';
  protocol_version: string;
  implementation: string;
  implementation_version: string;
  language_info: { name: string; version: string; mimetype?: string; file_extension?: string; [more: string]: unknown };
  banner: string;
  debugger?: boolean;
  help_links?: { text: string; url: string }[];
  [more: string]: unknown;
}

export interface CompleteRequest { code: string; cursor_pos: number }
export type CompleteReply = Reply<{ matches: string[]; cursor_start: number; cursor_end: number; metadata: Json }>;

export interface InspectRequest { code: string; cursor_pos: number; detail_level: 0 | 1 }
export type InspectReply = Reply<{ found: boolean; data: MimeBundle; metadata: Json }>;

export interface IsCompleteRequest { code: string }
export interface IsCompleteReply {
  status: 'complete' | 'incomplete' | 'invalid' | 'unknown';
  indent?: string;
}

export type HistoryRequest =
  | { output: boolean; raw: boolean; hist_access_type: 'tail'; n: number }
  | { output: boolean; raw: boolean; hist_access_type: 'range'; session: number; start: number; stop: number }
  | { output: boolean; raw: boolean; hist_access_type: 'search'; n: number; pattern: string; unique?: boolean };
/** Each entry is (session, line_number, input) or, with output, (session, line_number, [input, output]). */
export type HistoryReply = Reply<{ history: [number, number, string | [string, string | null]][] }>;

export interface CommInfoRequest { target_name?: string }
export type CommInfoReply = Reply<{ comms: Record<string, { target_name: string }> }>;

export interface ShutdownRequest { restart: boolean }
export type ShutdownReply = Reply<{ restart: boolean }>;

export type InterruptReply = Reply<object>;

export interface InputRequest { prompt: string; password: boolean }
export interface InputReply { value: string }

export interface CommOpen { comm_id: string; target_name: string; data: Json; target_module?: string }
export interface CommMsg { comm_id: string; data: Json }
export interface CommClose { comm_id: string; data: Json }

export interface Status { execution_state: ExecutionState }
export interface Stream { name: 'stdout' | 'stderr'; text: string }
export interface ExecuteInput { code: string; execution_count: number }
export interface ExecuteResult { execution_count: number; data: MimeBundle; metadata: Json }
export interface DisplayData { data: MimeBundle; metadata: Json; transient?: { display_id?: string } }
export interface ErrorContent { ename: string; evalue: string; traceback: string[] }
export interface ClearOutput { wait: boolean }
export interface IopubWelcome { subscription: string }

/** What a client sends on shell or control and expects a `<name>_reply` to. */
export interface RequestContent {
  execute_request: ExecuteRequest;
  kernel_info_request: Record<string, never>;
  complete_request: CompleteRequest;
  inspect_request: InspectRequest;
  is_complete_request: IsCompleteRequest;
  history_request: HistoryRequest;
  comm_info_request: CommInfoRequest;
  shutdown_request: ShutdownRequest;
  interrupt_request: Record<string, never>;
  debug_request: Json;
}

export interface ReplyContent {
  execute_reply: ExecuteReply;
  kernel_info_reply: KernelInfoReply;
  complete_reply: CompleteReply;
  inspect_reply: InspectReply;
  is_complete_reply: IsCompleteReply;
  history_reply: HistoryReply;
  comm_info_reply: CommInfoReply;
  shutdown_reply: ShutdownReply;
  interrupt_reply: InterruptReply;
  debug_reply: Json;
}

/** Sent without a reply: stdin answers and comm traffic (either direction). */
export interface OneWayContent {
  input_request: InputRequest;
  input_reply: InputReply;
  comm_open: CommOpen;
  comm_msg: CommMsg;
  comm_close: CommClose;
}

export interface IopubContent {
  status: Status;
  stream: Stream;
  execute_input: ExecuteInput;
  execute_result: ExecuteResult;
  display_data: DisplayData;
  update_display_data: DisplayData;
  error: ErrorContent;
  clear_output: ClearOutput;
  iopub_welcome: IopubWelcome;
  debug_event: Json;
}

export type RequestType = keyof RequestContent;
export type ReplyType = keyof ReplyContent;
export type IopubType = keyof IopubContent;
export type MessageContent = RequestContent & ReplyContent & OneWayContent & IopubContent;
export type MessageType = keyof MessageContent;

/** `kernel_info_request` -> `kernel_info_reply`, as the spec pairs them. */
export type ReplyTypeOf<R extends string> = R extends `${infer Name}_request` ? `${Name}_reply` : string;

/** The content type for a msg_type; anything not in the map is a plain JSON object. */
export type ContentOf<T extends string> = T extends MessageType ? MessageContent[T] : Json;

/** Which request may go on control (the spec's list); everything else goes on shell. */
export const CONTROL_REQUESTS: ReadonlySet<string> = new Set(['shutdown_request', 'interrupt_request', 'debug_request']);
