// SPDX-License-Identifier: Apache-2.0
/**
 * The pages as HTML strings, rendered on the server from the ViewModel: complete without
 * JavaScript (the plain fallback), and the same `<main>` the live stream sends to the browser.
 */
import { realMergeCount, treeShape } from '@ledgerwork/core';
import type { JobEntry, TaskStateName, TreeModel, ViewModel } from './model';
import { organizationsOf, treeOf } from './model';
import { escapeHtml as h, grouped, percent, short, utc } from './html';
import { shardClass, treeSvg } from './tree';

/** What the header shows about the connection. */
export interface SiteInfo {
    readonly channel: string;
    readonly chaincode: string;
    readonly peer: string;
    readonly mspId: string;
}

export interface Page {
    readonly status: number;
    readonly title: string;
    /** The inner HTML of `<main>`. */
    readonly main: string;
}

const NAV: readonly { path: string; label: string }[] = [
    { path: '/', label: 'Jobs' },
    { path: '/orgs', label: 'Organizations' },
    { path: '/events', label: 'Events' },
];

/** The whole document around a page's main. */
export function documentOf(page: Page, path: string, site: SiteInfo): string {
    const section = path.startsWith('/jobs/') ? '/' : path;
    return [
        '<!doctype html>',
        '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
        `<title>${h(page.title)}</title>`,
        '<link rel="stylesheet" href="/assets/style.css"><link rel="icon" href="/assets/icon.svg" type="image/svg+xml">',
        '<script src="/assets/app.js" defer></script>',
        `</head><body data-path="${h(path)}">`,
        '<header class="top"><a class="brand" href="/"><img src="/assets/icon.svg" alt="" width="22" height="22">ledgerwork</a>',
        `<nav>${NAV.map((n) => `<a href="${n.path}"${n.path === section ? ' class="here"' : ''}>${n.label}</a>`).join('')}</nav>`,
        `<span class="where" title="peer ${h(site.peer)} as ${h(site.mspId)}">${h(site.channel)} · ${h(site.chaincode)}</span>`,
        '<span id="live" class="live off" title="live updates">static</span>',
        '</header>',
        `<main id="main">${page.main}</main>`,
        '<noscript><p class="note">JavaScript is off: this page shows the ledger as it was when loaded — reload to refresh.</p></noscript>',
        '</body></html>',
    ].join('\n');
}

/** The banner for the view's own event stream (a down network shows here, pages keep what they had). */
function streamBanner(model: ViewModel): string {
    if (model.status.state === 'down') {
        return `<p class="banner down" id="stream">The ledger's event stream is down (${h(model.status.message)}). Showing what the view last saw; it reconnects by itself.</p>`;
    }
    if (model.status.state === 'connecting') {
        return '<p class="banner" id="stream">Connecting to the ledger…</p>';
    }
    return `<p class="stream" id="stream">block ${model.status.block.toString()}</p>`;
}

// ----- jobs

function jobState(job: JobEntry): string {
    return job.record?.state ?? job.ended ?? 'open';
}

function badge(state: string): string {
    return `<span class="badge ${h(state)}">${h(state)}</span>`;
}

function escrowOf(job: JobEntry): bigint | undefined {
    const record = job.record;
    if (record === undefined) {
        return undefined;
    }
    const replicas = BigInt(record.verify === 'signature' ? 1 : record.verify.maxReplicas);
    const merges = record.merge === undefined ? 0n : BigInt(record.merge.reward) * BigInt(realMergeCount(treeShape(record.taskCount))) * replicas;
    return BigInt(record.taskEscrow) + merges;
}

/** Done and total units of a job: numbers filed of 2M − 1 for a ranked job, finished tasks for an open one. */
export function progressOf(job: JobEntry): { done: number; total: number; unit: string } {
    if (job.assignment === 'ranked' && job.taskCount > 0) {
        return { done: job.filings.size, total: 2 * treeShape(job.taskCount).nodeCount - 1, unit: 'numbers filed' };
    }
    const tasks = job.progress?.tasks;
    if (tasks !== undefined) {
        return { done: tasks.completed + tasks.failed + tasks.cancelled, total: job.taskCount, unit: 'tasks done' };
    }
    const done = [...job.tasks.values()].filter((t) => t.state === 'completed' || t.state === 'failed' || t.state === 'cancelled').length;
    return { done, total: job.taskCount, unit: 'tasks done' };
}

function bar(done: number, total: number, state: string): string {
    return `<span class="bar ${h(state)}"><span style="width:${percent(done, total)}%"></span></span>`;
}

function verification(job: JobEntry): string {
    const record = job.record as (JobEntry['record'] & { verify?: unknown }) | undefined;
    if (record === undefined) {
        return '—';
    }
    return `${policyText(record.verify)} <span class="dim">(${h(record.mode)})</span>`;
}

export function jobsPage(model: ViewModel): Page {
    const jobs = [...model.jobs.values()].sort((a, b) => (a.lastBlock === b.lastBlock ? (a.id < b.id ? -1 : 1) : a.lastBlock > b.lastBlock ? -1 : 1));
    const rows = jobs.map((job) => {
        const state = jobState(job);
        const progress = progressOf(job);
        const escrow = escrowOf(job);
        return [
            `<tr id="job-${h(job.id)}">`,
            `<td><a href="/jobs/${encodeURIComponent(job.id)}">${h(job.id)}</a><div class="dim">${h(job.record?.description ?? '')}</div></td>`,
            `<td>${badge(state)}</td>`,
            `<td>${h(job.assignment)}</td>`,
            `<td class="progress">${bar(progress.done, progress.total, state)}<span class="num">${progress.done}/${progress.total}</span> <span class="dim">${progress.unit}</span></td>`,
            `<td class="num">${escrow === undefined ? '—' : grouped(escrow)}</td>`,
            `<td>${job.record === undefined ? '—' : `<span class="mono" title="${h(job.record.publisher)}">${h(short(job.record.publisher))}</span> <span class="dim">${h(job.record.publisherMsp)}</span>`}</td>`,
            `<td>${verification(job)}</td>`,
            `<td class="num dim">${job.lastBlock.toString()}</td>`,
            '</tr>',
        ].join('');
    });
    const main = [
        streamBanner(model),
        `<h1>Jobs <span class="count">${jobs.length}</span></h1>`,
        jobs.length === 0
            ? '<p class="empty">No jobs on this channel yet. Publish one with <code>ledgerwork job publish</code>; it appears here as soon as it commits.</p>'
            : `<table class="jobs"><thead><tr><th>Job</th><th>State</th><th>Assignment</th><th>Progress</th><th class="num">Escrow</th><th>Publisher</th><th>Verification</th><th class="num">Block</th></tr></thead><tbody>${rows.join('')}</tbody></table>`,
    ].join('');
    return { status: 200, title: 'Jobs · ledgerwork', main };
}

// ----- one job

const TASK_STATES: readonly TaskStateName[] = ['published', 'assigned', 'claimed', 'completed', 'failed', 'cancelled'];

function jobFacts(job: JobEntry, tree: TreeModel | undefined): string {
    const record = job.record;
    const escrow = escrowOf(job);
    const facts: [string, string][] = [
        ['Assignment', h(job.assignment)],
        ['Tasks', `${record?.publishedCount ?? job.taskIds.length} of ${job.taskCount} published`],
        ['Shards', record === undefined || record.shards.length === 0 ? 'any' : record.shards.map((s) => `<span class="chip ${tree === undefined ? '' : shardClass(tree, s)}">${h(s)}</span>`).join(' ')],
        ['Escrow', escrow === undefined ? '—' : `${grouped(escrow)} credits`],
        ['Merge reward', record?.merge === undefined ? '—' : `${h(record.merge.reward)} per real merge`],
        ['Verification', verification(job)],
        ['Publisher', record === undefined ? '—' : `<span class="mono" title="${h(record.publisher)}">${h(short(record.publisher))}</span> ${h(record.publisherMsp)}`],
        ['Deadline', record === undefined ? '—' : utc(record.deadline)],
    ];
    return `<dl class="facts">${facts.map(([k, v]) => `<div><dt>${k}</dt><dd>${v}</dd></div>`).join('')}</dl>`;
}

function treeSection(job: JobEntry, tree: TreeModel): string {
    const goal = tree.nodes.find((n) => n.y === tree.target.y && n.x === tree.target.x);
    const counts = { waiting: 0, ready: 0, filed: 0, zero: 0 };
    for (const n of tree.nodes) {
        counts[n.state]++;
    }
    const at = `(${tree.target.y}, ${tree.target.x})`;
    const outcome =
        job.result === undefined
            ? `Target ${at} not filed yet.`
            : `Target ${at} filed by <b>${h(goal?.filing?.executorId ?? '?')}</b> — result <output id="result">${h(job.result.text.trim())}</output> <span class="dim">(${job.result.bytes} bytes, sha256 ${h(short(goal?.filing?.sha256 ?? ''))})</span>`;
    return [
        `<section class="card"><h2>Merge tree <span class="dim">N = ${tree.shape.taskCount} tasks on M = ${tree.shape.nodeCount} nodes, ${tree.nodes.length} numbers, target ${at}</span></h2>`,
        `<div class="legend"><span class="key waiting">waiting ${counts.waiting}</span><span class="key ready">ready ${counts.ready}</span><span class="key filed">filed ${counts.filed}</span><span class="key zero">ZERO ${counts.zero}</span>`,
        tree.shards.map((s) => `<span class="chip ${shardClass(tree, s)}">${h(s)}</span>`).join(''),
        '</div>',
        `<div class="tree-wrap">${treeSvg(tree, job.result?.text)}</div>`,
        `<p class="target" id="target">${outcome}</p></section>`,
    ].join('');
}

export function jobPage(model: ViewModel, job: JobEntry): Page {
    const state = jobState(job);
    const progress = progressOf(job);
    const tree = treeOf(job);
    const description = job.record?.description ?? '';
    const recent = model.events.filter((e) => e.jobId === job.id).slice(0, 12);
    const main = [
        streamBanner(model),
        `<p class="crumbs"><a href="/">Jobs</a> /</p>`,
        `<h1>${h(job.id)} ${badge(state)}</h1>`,
        description === '' ? '' : `<p class="lead">${h(description)}</p>`,
        `<div class="summary"><div class="big">${bar(progress.done, progress.total, state)}<span id="progress"><b>${progress.done}</b> / ${progress.total} ${progress.unit}</span></div>`,
        `${jobFacts(job, tree)}</div>`,
        tree === undefined ? taskGrid(job) : treeSection(job, tree),
        replicasSection(job),
        `<section class="card"><h2>Recent events</h2>${eventsTable(recent, false)}</section>`,
    ];
    return { status: 200, title: `${job.id} · ledgerwork`, main: main.join('') };
}

function taskGrid(job: JobEntry): string {
    if (job.taskIds.length === 0) {
        return `<section class="card"><h2>Tasks</h2><p class="empty">${job.taskCount > 4096 ? 'Too many tasks to draw; counts above.' : 'No tasks published yet.'}</p></section>`;
    }
    const counts = new Map<TaskStateName, number>();
    const cells = job.taskIds.map((id, i) => {
        const task = job.tasks.get(id);
        const state = task?.state ?? 'published';
        counts.set(state, (counts.get(state) ?? 0) + 1);
        const title = `${id} · ${state}${task?.executorId === undefined || task.executorId === '' ? '' : ` · ${task.executorId}`}`;
        return `<span class="t ${state}" id="t${i + 1}" title="${h(title)}"></span>`;
    });
    const legend = TASK_STATES.filter((s) => (counts.get(s) ?? 0) > 0)
        .map((s) => `<span class="key t-${s}">${s} ${counts.get(s) ?? 0}</span>`)
        .join('');
    return `<section class="card"><h2>Tasks</h2><div class="legend">${legend}</div><div class="grid">${cells.join('')}</div></section>`;
}

function policyText(verify: unknown): string {
    if (typeof verify !== 'object' || verify === null) {
        return h(String(verify));
    }
    const p = verify as { policy?: string; k?: number; trust?: string; maxReplicas?: number };
    if (p.policy === 'quorum') {
        return `quorum: ${String(p.k)} agreeing of at most ${String(p.maxReplicas)} replicas`;
    }
    if (p.policy === 'credibility') {
        return `credibility ≥ ${h(String(p.trust))}, at most ${String(p.maxReplicas)} replicas`;
    }
    return h(JSON.stringify(verify));
}

/**
 * A replicated job (quorum or credibility): per task, its replicas — executor, shard, state,
 * revealed hash, verdict — and how far they agree. Jobs verified by signature alone show nothing.
 */
function replicasSection(job: JobEntry): string {
    const verify: unknown = job.record?.verify;
    if (verify === undefined || verify === 'signature') {
        return '';
    }
    const rows = job.taskIds.flatMap((taskId) => {
        const view = job.replication.get(taskId);
        if (view === undefined) {
            return [];
        }
        const hashes = new Map<string, number>();
        for (const r of view.replicas) {
            if (r.resultSha256 !== undefined) {
                hashes.set(r.resultSha256, (hashes.get(r.resultSha256) ?? 0) + 1);
            }
        }
        const best = Math.max(0, ...hashes.values());
        const revealed = [...hashes.values()].reduce((a, b) => a + b, 0);
        const agreement = revealed === 0 ? '—' : `${best} of ${revealed} agree${hashes.size > 1 ? ` <span class="warn">(${hashes.size} values)</span>` : ''}`;
        const settled = view.settlement === undefined ? view.state : view.settlement.kind === 'open' ? `open, ${view.settlement.openSlots} slot${view.settlement.openSlots === 1 ? '' : 's'}` : view.settlement.kind;
        const replicas = view.replicas
            .map((r) => `<span class="replica ${h(r.verdict ?? r.state)}" title="${h(`${r.executorId} (${r.shard}) · ${r.state}${r.verdict === undefined ? '' : ` · ${r.verdict}`} · credibility ${(r.credibilityPpm / 10000).toFixed(2)} %${r.reason === undefined ? '' : ` · ${r.reason}`}`)}">${h(r.executorId)} <span class="mono">${h(r.resultSha256 === undefined ? r.state : short(r.resultSha256))}</span></span>`)
            .join(' ');
        return [`<tr id="rep-${h(taskId)}"><td>${h(taskId)}</td><td>${badge(view.state)}</td><td>${h(settled)}</td><td>${agreement}</td><td>${replicas}</td></tr>`];
    });
    return `<section class="card"><h2>Replicas <span class="dim">${policyText(verify)}</span></h2>${
        rows.length === 0 ? '<p class="empty">No replicas yet.</p>' : `<table class="replicas"><thead><tr><th>Task</th><th>State</th><th>Settlement</th><th>Agreement</th><th>Replicas (revealed hash)</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
    }</section>`;
}

export function unknownJobPage(model: ViewModel, jobId: string): Page {
    return {
        status: 404,
        title: 'No such job · ledgerwork',
        main: `${streamBanner(model)}<p class="crumbs"><a href="/">Jobs</a> /</p><h1>No job “${h(jobId)}”</h1><p class="empty">The ledger has no job with this id on this channel. The <a href="/">jobs page</a> lists every job.</p>`,
    };
}

export function errorPage(model: ViewModel, status: number, heading: string, message: string): Page {
    return { status, title: `${heading} · ledgerwork`, main: `${streamBanner(model)}<h1>${h(heading)}</h1><p class="banner down">${h(message)}</p>` };
}

// ----- organizations

export function orgsPage(model: ViewModel): Page {
    const { orgs, executors } = organizationsOf(model);
    const shardOrder = orgs.map((o) => o.shard);
    const cls = (shard: string): string => `s${shardOrder.indexOf(shard) % 8}`;
    const cards = orgs.map((o) =>
        [
            `<section class="org ${cls(o.shard)}" id="org-${h(o.shard)}"><h2>${h(o.shard)}</h2><dl>`,
            `<div><dt>executors</dt><dd data-k="executors">${o.executors}</dd></div>`,
            `<div><dt>ranks held</dt><dd data-k="ranks">${o.ranksHeld}</dd></div>`,
            `<div><dt>tasks done</dt><dd data-k="tasks">${grouped(o.tasksDone)}</dd></div>`,
            `<div><dt>merges</dt><dd data-k="merges">${grouped(o.merges)}</dd></div>`,
            `<div><dt>credits earned</dt><dd data-k="earned">${grouped(o.earned)}</dd></div>`,
            `<div><dt>reputation</dt><dd data-k="reputation">${grouped(o.reputation)}</dd></div>`,
            `<div><dt>suspended</dt><dd data-k="suspended" class="${o.suspended > 0 ? 'warn' : ''}">${o.suspended}</dd></div>`,
            '</dl></section>',
        ].join(''),
    );
    const rows = executors.map((e) =>
        [
            `<tr id="ex-${h(e.id)}" class="${e.status === 'active' ? '' : h(e.status)}">`,
            `<td><span class="dot ${cls(e.shard)}"></span>${h(e.id)}</td><td>${h(e.shard)}</td><td>${h(e.mode)}</td>`,
            `<td>${e.status === 'active' ? 'active' : `<span class="badge ${h(e.status)}" title="${h(e.statusReason ?? '')}">${h(e.status)}</span>`}</td>`,
            `<td class="num" data-k="ranks">${e.ranksHeld}</td><td class="num" data-k="tasks">${e.tasksDone}</td><td class="num" data-k="merges">${e.merges}</td>`,
            `<td class="num" data-k="earned">${grouped(e.earned)}</td><td class="num" data-k="reputation">${grouped(e.reputation)}</td>`,
            '</tr>',
        ].join(''),
    );
    const main = [
        streamBanner(model),
        '<h1>Organizations and executors</h1>',
        orgs.length === 0 ? '<p class="empty">No executors registered yet.</p>' : `<div class="orgs">${cards.join('')}</div>`,
        executors.length === 0
            ? ''
            : `<section class="card"><h2>Executors <span class="count">${executors.length}</span></h2><table class="executors"><thead><tr><th>Executor</th><th>Shard</th><th>Mode</th><th>Status</th><th class="num">Ranks held</th><th class="num">Tasks done</th><th class="num">Merges</th><th class="num">Credits earned</th><th class="num">Reputation</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`,
        '<p class="dim">Ranks held counts ranks in jobs that have not ended. Credits and reputation are the ledger\'s own figures (<code>queries:GetExecutor</code>).</p>',
    ].join('');
    return { status: 200, title: 'Organizations · ledgerwork', main };
}

// ----- events

function eventsTable(events: ViewModel['events'], withJob: boolean): string {
    if (events.length === 0) {
        return '<p class="empty">No events yet.</p>';
    }
    const rows = events.map(
        (e) =>
            `<tr><td class="num">${e.blockNumber.toString()}</td><td class="mono" title="${h(e.transactionId)}">${h(e.transactionId.slice(0, 10))}</td><td><span class="ev ${h(e.name)}">${h(e.name)}</span></td>${
                withJob ? `<td>${e.jobId === undefined ? '' : `<a href="/jobs/${encodeURIComponent(e.jobId)}">${h(e.jobId)}</a>`}</td>` : ''
            }<td>${h(e.summary)}</td></tr>`,
    );
    return `<table class="events"><thead><tr><th class="num">Block</th><th>Transaction</th><th>Event</th>${withJob ? '<th>Job</th>' : ''}<th>What</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

export function eventsPage(model: ViewModel): Page {
    return {
        status: 200,
        title: 'Events · ledgerwork',
        main: `${streamBanner(model)}<h1>Events <span class="dim">the ${model.events.length} most recent ledgerwork transactions</span></h1>${eventsTable(model.events.slice(0, 200), true)}`,
    };
}
