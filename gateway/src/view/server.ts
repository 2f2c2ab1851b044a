// SPDX-License-Identifier: Apache-2.0
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ConfigError } from '../client';
import { organizationsOf, treeOf } from './model';
import { documentOf, errorPage, eventsPage, jobPage, jobsPage, orgsPage, unknownJobPage } from './pages';
import type { Page, SiteInfo } from './pages';
import { UnknownJobError } from './source';
import type { LedgerSource } from './source';

export interface ViewServerOptions {
    readonly source: LedgerSource;
    readonly site: SiteInfo;
    /** Default 127.0.0.1: the view is for the operator's own machine unless told otherwise. */
    readonly host?: string;
    /** 0 picks a free port. */
    readonly port: number;
    /** Least time between two live updates of a page (default 150 ms). */
    readonly throttleMs?: number;
}

export interface ViewServer {
    readonly url: string;
    readonly port: number;
    close(): Promise<void>;
}

/** The stylesheet, script and icon, read once from `assets/` beside this module (copied to dist by the build). */
const ASSETS: Readonly<Record<string, string>> = { 'app.js': 'text/javascript; charset=utf-8', 'style.css': 'text/css; charset=utf-8', 'icon.svg': 'image/svg+xml' };

function loadAssets(): Map<string, Buffer> {
    const dir = path.join(__dirname, 'assets');
    return new Map(Object.keys(ASSETS).map((name) => [name, readFileSync(path.join(dir, name))]));
}

interface Subscriber {
    readonly path: string;
    readonly res: ServerResponse;
    last: string;
}

/**
 * The read-only web view: server-rendered pages (`/`, `/jobs/ID`, `/orgs`, `/events`), their JSON
 * (`/api/…`), and `/live?path=…`, a server-sent-events stream that pushes a page's new `<main>`
 * whenever the ledger changes it. Nothing here writes to the ledger.
 * @throws {ConfigError} when the port is taken or the host cannot be bound
 */
export async function startViewServer(options: ViewServerOptions): Promise<ViewServer> {
    const { source, site } = options;
    const assets = loadAssets();
    const subscribers = new Set<Subscriber>();

    const render = async (pathname: string): Promise<Page> => {
        const model = source.model;
        try {
            if (pathname === '/') {
                return jobsPage(model);
            }
            if (pathname === '/orgs') {
                await source.loadExecutors();
                return orgsPage(model);
            }
            if (pathname === '/events') {
                return eventsPage(model);
            }
            const match = /^\/jobs\/([^/]+)$/.exec(pathname);
            if (match?.[1] !== undefined) {
                const jobId = decodeURIComponent(match[1]);
                if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(jobId)) {
                    return unknownJobPage(model, jobId);
                }
                return jobPage(model, await source.loadJob(jobId));
            }
            return errorPage(model, 404, 'Not found', `There is no page ${pathname}. The view has Jobs (/), Organizations (/orgs) and Events (/events).`);
        } catch (err) {
            if (err instanceof UnknownJobError) {
                return unknownJobPage(model, decodeURIComponent(pathname.slice('/jobs/'.length)));
            }
            return errorPage(model, 503, 'The ledger cannot be reached', `${err instanceof Error ? err.message : String(err)} — the page shows again once the peer answers.`);
        }
    };

    let pending: NodeJS.Timeout | undefined;
    let rendering = false;
    const push = async (): Promise<void> => {
        rendering = true;
        try {
            const byPath = new Map<string, Promise<Page>>();
            for (const sub of subscribers) {
                let page = byPath.get(sub.path);
                if (page === undefined) {
                    page = render(sub.path);
                    byPath.set(sub.path, page);
                }
                const { main, title } = await page;
                if (main !== sub.last) {
                    sub.last = main;
                    sub.res.write(`event: page\ndata: ${JSON.stringify({ title, main })}\n\n`);
                }
            }
        } finally {
            rendering = false;
        }
    };
    const schedule = (): void => {
        if (pending !== undefined || subscribers.size === 0) {
            return;
        }
        pending = setTimeout(() => {
            pending = undefined;
            if (rendering) {
                schedule();
                return;
            }
            void push();
        }, options.throttleMs ?? 150);
    };
    const stopListening = source.onChange(schedule);

    const live = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
        const pagePath = url.searchParams.get('path') ?? '/';
        res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
        // Browsers reconnect by themselves after this many ms (a restarted view is found again).
        res.write('retry: 1000\n\n');
        const page = await render(pagePath);
        const sub: Subscriber = { path: pagePath, res, last: page.main };
        res.write(`event: page\ndata: ${JSON.stringify({ title: page.title, main: page.main })}\n\n`);
        subscribers.add(sub);
        const heartbeat = setInterval(() => {
            res.write(': keep-alive\n\n');
        }, 15_000);
        req.on('close', () => {
            clearInterval(heartbeat);
            subscribers.delete(sub);
        });
    };

    const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
        const url = new URL(req.url ?? '/', 'http://view.invalid');
        if (req.method !== 'GET' && req.method !== 'HEAD') {
            res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('the view is read-only\n');
            return;
        }
        if (url.pathname.startsWith('/assets/')) {
            const name = url.pathname.slice('/assets/'.length);
            const body = assets.get(name);
            const type = ASSETS[name];
            if (body === undefined || type === undefined) {
                res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('no such asset\n');
                return;
            }
            res.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache' }).end(body);
            return;
        }
        if (url.pathname === '/live') {
            await live(req, res, url);
            return;
        }
        if (url.pathname.startsWith('/api/')) {
            const page = url.pathname.slice('/api'.length);
            const json = await apiOf(source, page);
            res.writeHead(json.status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(`${JSON.stringify(json.body, jsonValue)}\n`);
            return;
        }
        const page = await render(url.pathname);
        res.writeHead(page.status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'" }).end(documentOf(page, url.pathname, site));
    };

    const server: Server = createServer((req, res) => {
        handle(req, res).catch((err: unknown) => {
            if (!res.headersSent) {
                res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
            }
            res.end(`internal error: ${err instanceof Error ? err.message : String(err)}\n`);
        });
    });
    const host = options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
        server.once('error', (err: NodeJS.ErrnoException) => {
            reject(new ConfigError(err.code === 'EADDRINUSE' ? `port ${options.port} on ${host} is already in use (choose another with --port)` : `cannot listen on ${host}:${options.port}: ${err.message}`, { cause: err }));
        });
        server.listen(options.port, host, resolve);
    });
    const port = (server.address() as AddressInfo).port;
    return {
        url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
        port,
        close: async () => {
            stopListening();
            clearTimeout(pending);
            for (const sub of subscribers) {
                sub.res.end();
            }
            subscribers.clear();
            server.closeAllConnections();
            await new Promise<void>((resolve) => {
                server.close(() => {
                    resolve();
                });
            });
        },
    };
}

/** JSON of the view model: bigints as decimal strings, maps as objects. */
function jsonValue(_key: string, value: unknown): unknown {
    if (typeof value === 'bigint') {
        return value.toString();
    }
    return value instanceof Map ? Object.fromEntries(value as Map<string, unknown>) : value;
}

/** The JSON behind the pages: `/api/jobs`, `/api/jobs/ID`, `/api/orgs`, `/api/events`. */
async function apiOf(source: LedgerSource, page: string): Promise<{ status: number; body: unknown }> {
    const model = source.model;
    try {
        if (page === '/jobs') {
            return { status: 200, body: [...model.jobs.values()].map((j) => ({ id: j.id, assignment: j.assignment, taskCount: j.taskCount, ended: j.ended, record: j.record, progress: j.progress })) };
        }
        if (page === '/orgs') {
            await source.loadExecutors();
            return { status: 200, body: organizationsOf(model) };
        }
        if (page === '/events') {
            return { status: 200, body: model.events };
        }
        const match = /^\/jobs\/([^/]+)$/.exec(page);
        if (match?.[1] !== undefined) {
            const job = await source.loadJob(decodeURIComponent(match[1]));
            const tree = treeOf(job);
            return { status: 200, body: { ...job, tree: tree === undefined ? undefined : { ...tree, nodes: tree.nodes } } };
        }
        return { status: 404, body: { error: { code: 'NOT_FOUND', message: `no API ${page}` } } };
    } catch (err) {
        if (err instanceof UnknownJobError) {
            return { status: 404, body: { error: { code: 'NOT_FOUND', message: err.message } } };
        }
        return { status: 503, body: { error: { code: 'UNAVAILABLE', message: err instanceof Error ? err.message : String(err) } } };
    }
}
