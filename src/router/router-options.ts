/** Options of the ProxyRouter (proxy.ts). */
import type { Logger } from '../shared/log.js';
import type { ConnectionInfo } from '../wire/connection-file.js';
import type { Requirement as RequirementRef } from '../shared/requirement.js';
import type { RequestResolver } from './resolver.js';
import type { RestartPolicy } from './restart-policy.js';
import type { BackendDirectory } from './types.js';

export type RouterState = 'running' | 'stopping' | 'stopped';

export const DEFAULT_MAX_MESSAGE_BYTES = 2 ** 30;

export interface RouterOptions {
  /** The connection file Jupyter wrote for "the kernel", i.e. for us. */
  connection: ConnectionInfo;
  directory: BackendDirectory;
  /** The launch-time requirement: started at once so it is warm for the first kernel_info. */
  requirement: RequirementRef;
  /** Per-request resolution (cell directive, message metadata, sticky choice); default: always `requirement`. */
  resolver?: RequestResolver;
  logger: Logger;
  /** Inbound messages larger than this, from clients and backends, are refused and counted. Default 1 GiB. */
  maxMessageBytes?: number;
  /** Requests held per backend while it starts; beyond this they are refused with an error reply. */
  maxPending?: number;
  /** Backend heartbeat silence that is reported to clients. Default 2500 ms. */
  heartbeatTimeoutMs?: number;
  /** Automatic restarts of a backend that died; `limit: 0` turns them off. */
  restartPolicy?: RestartPolicy;
  /** Called once when the router has stopped; the CLI turns it into the process exit code. */
  onStopped?: (exitCode: number) => void;
}
