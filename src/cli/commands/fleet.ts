import type { Command } from 'commander';
import { registerCleanup } from './cleanup.js';
import { registerDashboard } from './dashboard.js';
import { registerFind } from './find.js';
import { registerHealth } from './health.js';
import { registerInterrupt } from './interrupt.js';
import { registerList } from './list.js';
import { registerLogs } from './logs.js';
import { registerSpawn } from './spawn.js';
import { registerStop, registerStopAll } from './stop.js';
import { registerTop } from './top.js';

/** The commands that show and manage the fleet through its manager (issue #3). */
export function registerFleetCommands(program: Command): void {
  registerSpawn(program);
  registerFind(program);
  registerList(program);
  registerTop(program);
  registerStop(program);
  registerStopAll(program);
  registerInterrupt(program);
  registerCleanup(program);
  registerHealth(program);
  registerLogs(program);
  registerDashboard(program);
}
