/**
 * The manager's HTTP transport (node:http, no framework): token check, route match, JSON in and
 * out, and the same operations the socket runs. Every API answer needs the token; /metrics is
 * open unless [http] metrics_auth = true. A wrong or missing token gets 401 and nothing else.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isFleetError } from '../../../shared/errors.js';
import type { Logger } from '../../../shared/log.js';
import { httpOrigin, isLoopbackHost, listenWarning, parseListenAddress } from '../../http-address.js';
import type { HttpConfig } from '../../types.js';
import { DEFAULT_LOG_TAIL, runOperation, type OperationContext } from '../operations.js';
import type { BackendLog } from '../protocol.js';
import { BadRequest, answer, checkedRequest, errorAnswer, tailParam, type ApiAnswer } from './api.js';
import { hostAllowed, newToken, presentedToken, tokenCookie, tokenMatches } from './auth.js';
import { removeHttpInfo, writeHttpInfo } from './http-file.js';
import { CSRF_HEADER, CSRF_VALUE, DASHBOARD_HEADERS, csrfAllowed, dashboardAsset } from './dashboard.js';
import { streamEvents } from './event-stream.js';
import { followLog, followParam } from './log-follow.js';
import { openApiDocument } from './openapi.js';
import { matchRoute } from './routes.js';

const MAX_BODY = 64 * 1024;

// Built once: it depends only on the routes and schemas, which are fixed for the process's life.
let openApi: Record<string, unknown> | undefined;

export interface MetricsSource {
  contentType: string;
  render(): Promise<string>;
}

export interface ManagerHttpOptions {
  context: OperationContext;
  config: HttpConfig;
  logger: Logger;
  metrics?: MetricsSource;
  /** Called when a request starts or ends (the idle clock reads `inFlight`). */
  onActivity: () => void;
}

export class ManagerHttp {
  /** Requests being answered now: each holds the manager like a socket request does. */
  inFlight = 0;
  readonly #port: number;
  readonly #loopback: boolean;
  #closing: Promise<void> | undefined;
  /** Open event and log streams: they never end on their own, so close() ends them. */
  readonly #streams = new Set<ServerResponse>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly token: string,
    private readonly options: ManagerHttpOptions,
    bound: AddressInfo,
  ) {
    this.#port = bound.port;
    this.#loopback = isLoopbackHost(bound.address);
  }

  /** Listen where [http] listen says, then write http.json. */
  static async start(options: ManagerHttpOptions): Promise<ManagerHttp> {
    const { config, logger } = options;
    const address = parseListenAddress(config.listen);
    // The schema checked it; a config built in code may not have been.
    if (address === undefined) throw new Error(`[http] listen = ${JSON.stringify(config.listen)} is not HOST:PORT`);
    const warning = listenWarning(address.host);
    if (warning !== undefined) logger.warn({ listen: config.listen }, warning);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(address.port, address.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const bound = server.address() as AddressInfo;
    const self = new ManagerHttp(server, httpOrigin(bound.address, bound.port), newToken(), options, bound);
    server.on('request', (req, res) => void self.#serve(req, res));
    await writeHttpInfo(options.context.home, { url: self.url, token: self.token, pid: process.pid });
    logger.info({ url: self.url, file: 'http.json' }, 'HTTP API listening');
    return self;
  }

  /** Stop listening, drop idle keep-alive connections, remove http.json. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        for (const res of this.#streams) res.end();
        this.server.closeIdleConnections();
        setTimeout(() => this.server.closeAllConnections(), 1000).unref();
      });
      await removeHttpInfo(this.options.context.home, this.token).catch(() => undefined);
    })();
    return this.#closing;
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.inFlight++;
    this.options.onActivity();
    try {
      await this.#route(req, res);
    } catch (error) {
      if (!(error instanceof BadRequest) && !isFleetError(error)) this.options.logger.error({ url: redact(req.url), err: String(error) }, 'HTTP request failed unexpectedly');
      if (!res.headersSent) send(res, errorAnswer(error));
      else res.destroy();
    } finally {
      this.inFlight--;
      this.options.onActivity();
    }
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://manager');
    if (!hostAllowed(req.headers.host, this.#port, this.#loopback)) {
      res.writeHead(421, { 'content-length': 0 }).end();
      return;
    }
    const match = matchRoute(req.method ?? 'GET', url.pathname);
    const route = match.kind === 'route' ? match.route : undefined;
    // Open /metrics only where nobody but this machine can ask.
    const open = route?.auth === 'metrics' && !this.options.config.metrics_auth && this.#loopback;
    const shown = presentedToken({ authorization: req.headers.authorization, cookie: req.headers.cookie }, url.searchParams);
    if (!open && !tokenMatches(this.token, shown?.token)) {
      // Nothing else: not even whether the path exists.
      res.writeHead(401, { 'content-length': 0, 'www-authenticate': 'Bearer' }).end();
      return;
    }
    const cookie: Record<string, string> = shown?.via === 'query' ? { 'set-cookie': tokenCookie(this.token) } : {};
    const asset = dashboardAsset(url.pathname);
    if (asset !== undefined && (req.method === 'GET' || req.method === 'HEAD')) {
      // `/?token=…` once: the cookie, then the clean URL, so the token leaves the address bar and history.
      if (shown?.via === 'query') {
        res.writeHead(303, { ...DASHBOARD_HEADERS, ...cookie, location: url.pathname, 'content-length': 0 }).end();
        return;
      }
      res.writeHead(200, { ...DASHBOARD_HEADERS, 'content-type': asset.contentType, 'content-length': Buffer.byteLength(asset.body) }).end(req.method === 'HEAD' ? undefined : asset.body);
      return;
    }
    if (!csrfAllowed(req.method ?? 'GET', shown?.via, req.headers[CSRF_HEADER])) {
      return send(res, { status: 403, body: { error: { code: 'FORBIDDEN', message: `a POST authenticated by the cookie must carry the header X-Requested-With: ${CSRF_VALUE}` } } });
    }
    if (match.kind === 'not-found') return send(res, { status: 404, body: { error: { code: 'NOT_FOUND', message: `no route ${url.pathname}; see /api/v1/openapi.json` } } }, cookie);
    if (match.kind === 'method-not-allowed') {
      return send(res, { status: 405, body: { error: { code: 'METHOD_NOT_ALLOWED', message: `use ${match.allow.join(' or ')} for ${url.pathname}` } } }, { ...cookie, allow: match.allow.join(', ') });
    }
    const { route: r, params } = match;
    if (r.name === 'metrics') {
      const metrics = this.options.metrics;
      if (metrics === undefined) return send(res, { status: 404, body: { error: { code: 'NOT_FOUND', message: 'metrics are off' } } });
      const text = await metrics.render();
      res.writeHead(200, { 'content-type': metrics.contentType, ...cookie }).end(text);
      return;
    }
    if (r.name === 'events') return this.#stream(res, () => streamEvents(this.options.context.fleet, req, res, cookie));
    if (r.name === 'openapi') return send(res, { status: 200, body: (openApi ??= openApiDocument()) }, cookie);
    const body = req.method === 'POST' ? await readJson(req) : undefined;
    const run = async (raw: Record<string, unknown>) => runOperation(this.options.context, undefined, checkedRequest(raw));
    if (r.name === 'backendLogs' && followParam(url.searchParams)) {
      // The same checks and 404 as without follow; then the stream.
      const tail = tailParam(url.searchParams);
      const log = (await run({ op: 'logs', kernelId: params.id, tail })) as BackendLog;
      return this.#stream(res, () => followLog({ fleet: this.options.context.fleet, kernelId: log.kernelId, logFile: log.logFile, tail: typeof tail === 'number' ? tail : DEFAULT_LOG_TAIL }, req, res, cookie));
    }
    send(res, await answer(r.name, { params, query: url.searchParams, body }, run), cookie);
  }

  async #stream(res: ServerResponse, run: () => Promise<void>): Promise<void> {
    this.#streams.add(res);
    try {
      await run();
    } finally {
      this.#streams.delete(res);
    }
  }
}

function send(res: ServerResponse, a: ApiAnswer, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(a.body);
  res.writeHead(a.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers }).end(text);
}

/** The body as JSON; undefined for an empty one; BadRequest for bad JSON or a body too big. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new BadRequest(`body is larger than ${MAX_BODY} bytes`, 'body');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim().length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequest('body is not valid JSON', 'body');
  }
}

/** A URL as the log may show it: never the token. */
function redact(url: string | undefined): string {
  return (url ?? '').replace(/([?&]token=)[^&]*/g, '$1…');
}
