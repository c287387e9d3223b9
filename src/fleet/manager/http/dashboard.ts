/**
 * The live web dashboard: one page, its stylesheet and its script, all served by the manager
 * (no CDN, no build step). A strict CSP keeps anything but these same-origin files from
 * running; the page reads the JSON API and the event stream with the HttpOnly token cookie.
 * Pure: which asset a path names, and the headers it goes out with.
 */
import { DASHBOARD_SCRIPT } from './dashboard-script.js';

/** What a POST authenticated by the cookie must carry (see README, "CSRF"). */
export const CSRF_HEADER = 'x-requested-with';
export const CSRF_VALUE = 'llmspell-fleet';

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>llmspell-fleet</title>
<link rel="stylesheet" href="/dashboard.css">
<script src="/dashboard.js" defer></script>
</head>
<body>
<header><h1>llmspell-fleet</h1><span id="status">connecting…</span></header>
<main>
<table>
<thead><tr><th>kernel id</th><th>pid</th><th>runtime</th><th>provider</th><th>state</th><th>clients</th><th>cpu</th><th>memory</th><th>msg/s</th><th>uptime</th><th>last exit</th><th></th></tr></thead>
<tbody id="backends"></tbody>
</table>
<section><h2 id="log-title">log</h2><pre id="log">press "logs" on a backend to follow its log</pre></section>
</main>
</body>
</html>
`;

const STYLE = `:root { color-scheme: light dark; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d1d1f; background: #fafafa; }
header { display: flex; align-items: baseline; gap: 1em; padding: 0.5em 1em; background: #263238; color: #eceff1; }
h1 { font-size: 1.2em; margin: 0; }
h2 { font-size: 1em; }
#status { font-size: 0.9em; opacity: 0.8; }
main { padding: 1em; overflow-x: auto; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: 0.3em 0.6em; border-bottom: 1px solid #e0e0e0; }
td.id { font-family: ui-monospace, monospace; }
.state-ready { color: #2e7d32; } .state-busy { color: #ef6c00; } .state-dead { color: #c62828; }
.state-starting, .state-restarting, .state-stopping { color: #1565c0; }
button { margin-right: 0.3em; }
td.cpu, td.memory { white-space: nowrap; }
td.cpu .value, td.memory .value { display: inline-block; min-width: 4.5em; }
svg.spark { width: 60px; height: 16px; vertical-align: middle; margin-left: 0.3em; background: rgba(127, 127, 127, 0.14); border-radius: 2px; }
svg.spark polyline { fill: none; stroke: #1565c0; stroke-width: 1.5; stroke-linejoin: round; vector-effect: non-scaling-stroke; }
@media (prefers-color-scheme: dark) {
  body { color: #e6e6e6; background: #121212; }
  header { background: #0d1418; }
  table { background: #1e1e1e; }
  th, td { border-bottom-color: #3a3a3a; }
  .state-ready { color: #81c784; } .state-busy { color: #ffb74d; } .state-dead { color: #ef9a9a; }
  .state-starting, .state-restarting, .state-stopping { color: #90caf9; }
  svg.spark polyline { stroke: #90caf9; }
}
pre#log { background: #111; color: #ddd; padding: 0.6em; height: 20em; overflow: auto; white-space: pre-wrap; }
`;

export interface DashboardAsset {
  contentType: string;
  body: string;
}

const ASSETS: Readonly<Record<string, DashboardAsset>> = {
  '/': { contentType: 'text/html; charset=utf-8', body: PAGE },
  '/dashboard.css': { contentType: 'text/css; charset=utf-8', body: STYLE },
  '/dashboard.js': { contentType: 'text/javascript; charset=utf-8', body: DASHBOARD_SCRIPT },
};

/** Pure: the dashboard file a path names, if any. */
export function dashboardAsset(pathname: string): DashboardAsset | undefined {
  return Object.hasOwn(ASSETS, pathname) ? ASSETS[pathname] : undefined;
}

/** Headers of every dashboard answer: nothing runs but our own files, no framing, no referrer (the URL may hold the token). */
export const DASHBOARD_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/**
 * Pure: whether a request may change the fleet. A POST that shows the token itself (header or
 * query) is deliberate; one that only carries the cookie must also carry the custom header,
 * which a cross-site page cannot make a browser send.
 */
export function csrfAllowed(method: string, via: 'header' | 'query' | 'cookie' | undefined, header: string | string[] | undefined): boolean {
  if (method !== 'POST' || via !== 'cookie') return true;
  return header === CSRF_VALUE;
}
