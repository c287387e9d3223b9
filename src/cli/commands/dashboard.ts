import type { Command } from 'commander';
import { httpInfoPath, readHttpInfo, type HttpInfo } from '../../fleet/manager/http/http-file.js';
import { managerLogPath } from '../../fleet/manager/files.js';
import type { ManagerInfo } from '../../fleet/manager/protocol.js';
import { CliError, action, fleetContext, withCommonOptions, withManager, writeJson, type CommonFlags } from './fleet-shared.js';

/** Pure: the lines `dashboard` prints, as `jupyter server list` does: URL with token :: home. */
export function dashboardLines(info: HttpInfo, home: string): string {
  const api = `${info.url}/api/v1`;
  return [
    `fleet manager HTTP API (pid ${info.pid}); no web page yet, only the JSON API and /metrics:`,
    `${api}/backends?token=${info.token} :: ${home}`,
    `API:     ${api}  (header "Authorization: Bearer ${info.token}"; OpenAPI: ${api}/openapi.json)`,
    `metrics: ${info.url}/metrics`,
    '',
  ].join('\n');
}

export function registerDashboard(program: Command): void {
  withCommonOptions(program.command('dashboard'))
    .description(
      "print the fleet manager's HTTP API base URL with its token (starting the manager if needed), like `jupyter server list`. " +
        'This slice serves the JSON API under /api/v1 and Prometheus metrics at /metrics; there is no web page yet.',
    )
    .action(
      action(async (flags: CommonFlags) => {
        const ctx = fleetContext(flags);
        // The manager writes http.json before it answers anything, so after a ping it is there.
        const manager = await withManager(ctx, (client) => client.request<ManagerInfo>({ op: 'ping' }));
        const info = await readHttpInfo(ctx.home);
        if (info === undefined || info.pid !== manager.pid) {
          throw new CliError(
            `the fleet manager (pid ${manager.pid}) has no HTTP API: ${httpInfoPath(ctx.home)} is missing or not its own. ` +
              `It is off with [http] enabled = false in fleet.toml, or it could not listen: see ${managerLogPath(ctx.home)}`,
          );
        }
        if (ctx.json) writeJson({ url: info.url, api: `${info.url}/api/v1`, metrics: `${info.url}/metrics`, token: info.token, pid: info.pid, home: ctx.home });
        else process.stdout.write(dashboardLines(info, ctx.home));
      }),
    );
}
