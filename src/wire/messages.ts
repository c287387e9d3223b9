/** Message types from the Jupyter messaging spec (5.x), by channel. */
export type Channel = 'shell' | 'control' | 'stdin' | 'iopub' | 'hb';
export const CHANNELS: readonly Channel[] = ['shell', 'control', 'stdin', 'iopub', 'hb'];

export type ShellMessageType =
  | 'execute_request' | 'execute_reply'
  | 'inspect_request' | 'inspect_reply'
  | 'complete_request' | 'complete_reply'
  | 'history_request' | 'history_reply'
  | 'is_complete_request' | 'is_complete_reply'
  | 'comm_info_request' | 'comm_info_reply'
  | 'kernel_info_request' | 'kernel_info_reply'
  | 'comm_open' | 'comm_msg' | 'comm_close'
  | 'shutdown_request' | 'shutdown_reply';

export type ControlMessageType =
  | 'shutdown_request' | 'shutdown_reply'
  | 'interrupt_request' | 'interrupt_reply'
  | 'debug_request' | 'debug_reply'
  | 'kernel_info_request' | 'kernel_info_reply';

export type StdinMessageType = 'input_request' | 'input_reply';

export type IOPubMessageType =
  | 'status' | 'stream' | 'display_data' | 'update_display_data' | 'execute_input' | 'execute_result'
  | 'error' | 'clear_output' | 'comm_open' | 'comm_msg' | 'comm_close' | 'debug_event' | 'iopub_welcome'
  | 'shutdown_reply';

export type MessageType = ShellMessageType | ControlMessageType | StdinMessageType | IOPubMessageType;

export interface Header<T extends string = MessageType> {
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
