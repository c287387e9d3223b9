import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { Command } from 'commander';
import { httpInfoPath, readHttpInfo, type HttpInfo } from '../../fleet/manager/http/http-file.js';
import { managerLogPath } from '../../fleet/manager/files.js';
import type { ManagerInfo } from '../../fleet/manager/protocol.js';
import { CliError, action, fleetContext, withCommonOptions, withManager, writeJson, type CommonFlags } from './fleet-shared.js';

/** Pure: the dashboard's URL with the token; the page trades it for a cookie and drops it from the address bar. */
export function dashboardUrl(info: HttpInfo): string {
  return `${info.url}/?token=${info.token}`;
}

/** Pure: the lines `dashboard` prints, as `jupyter server list` does: URL with token :: home. */
export function dashboardLines(info: HttpInfo, home: string): string {
  const api = `${info.url}/api/v1`;
  return [
    `fleet manager dashboard (pid ${info.pid}):`,
    `${dashboardUrl(info)} :: ${home}`,
    `API:     ${api}  (header "Authorization: Bearer ${info.token}"; OpenAPI: ${api}/openapi.json)`,
    `metrics: ${info.url}/metrics`,
    '',
  ].join('\n');
}

export function registerDashboard(program: Command): void {
  withCommonOptions(program.command('dashboard'))
    .description(
      "print the fleet manager's HTTP API base URL with its token (starting the manager if needed), like `jupyter server list`. " +
        'Open the URL in a browser for the live dashboard; the JSON API is under /api/v1 and Prometheus metrics at /metrics.',
    )
    .option('--open', 'open the dashboard in the desktop browser (xdg-open or open)')
    .action(
      action(async (flags: CommonFlags & { open?: boolean }) => {
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
        if (ctx.json) writeJson({ url: info.url, dashboard: dashboardUrl(info), api: `${info.url}/api/v1`, metrics: `${info.url}/metrics`, token: info.token, pid: info.pid, home: ctx.home });
        else process.stdout.write(dashboardLines(info, ctx.home));
        if (flags.open === true) await openInBrowser(dashboardUrl(info));
      }),
    );
}

/** Pure: the program that opens a URL on this platform's desktop. */
export function opener(platform: NodeJS.Platform): string {
  return platform === 'darwin' ? 'open' : 'xdg-open';
}

/** The URL in the desktop browser: execFile, no shell, so nothing in it is interpreted. */
async function openInBrowser(url: string): Promise<void> {
  const name = opener(process.platform);
  const dirs = (process.env.PATH ?? '').split(delimiter).filter((d) => d.length > 0);
  const found = await Promise.all(dirs.map((d) => access(join(d, name), constants.X_OK).then(() => join(d, name), () => undefined)));
  const program = found.find((p) => p !== undefined);
  if (program === undefined) throw new CliError(`cannot open a browser: no ${name} on PATH; open the URL above yourself`);
  await new Promise<void>((resolve, reject) => {
    execFile(program, [url], { timeout: 30_000 }, (error) => (error === null ? resolve() : reject(new CliError(`${name} failed: ${error.message}; open the URL above yourself`))));
  });
}
