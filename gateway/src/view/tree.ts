// SPDX-License-Identifier: Apache-2.0
/**
 * The merge tree as an SVG drawn by hand: leaves (y = 1) at the bottom, the target (h, 1) at the top,
 * each number (y, x) centred over the leaves it covers. Node classes carry the state (waiting,
 * ready, filed, zero) and the holder's shard colour; the stylesheet does the colouring, so a live
 * update only changes classes and the browser animates the fill.
 */
import { leafRange } from '@ledgerwork/core';
import type { TreeModel, TreeNode } from './model';
import { escapeHtml, short } from './html';

const MAX_WIDTH = 1120;
const ROW = 56;
const MARGIN = { top: 34, right: 150, bottom: 22, left: 44 };

export function shardClass(tree: TreeModel, shard: string | undefined): string {
    const index = shard === undefined ? -1 : tree.shards.indexOf(shard);
    return index < 0 ? 'sx' : `s${index % 8}`;
}

export function treeSvg(tree: TreeModel, result?: string): string {
    const { shape } = tree;
    const slot = Math.min(64, Math.max(4, MAX_WIDTH / shape.nodeCount));
    const width = slot * shape.nodeCount;
    const height = (shape.height - 1) * ROW;
    const cx = (n: { y: number; x: number }): number => {
        const { first, last } = leafRange(n);
        return MARGIN.left + ((first + last) / 2 - 0.5) * slot;
    };
    const cy = (y: number): number => MARGIN.top + (shape.height - y) * ROW;
    const radius = (y: number): number => Math.min(17, Math.max(2, 0.4 * slot * 2 ** (y - 1)));
    const byKey = new Map(tree.nodes.map((n) => [`${n.y}/${n.x}`, n]));

    const edges: string[] = [];
    for (const n of tree.nodes) {
        if (n.y === 1) {
            continue;
        }
        for (const child of [byKey.get(`${n.y - 1}/${2 * n.x - 1}`), byKey.get(`${n.y - 1}/${2 * n.x}`)]) {
            if (child !== undefined) {
                const cls = child.state === 'filed' ? `e done ${shardClass(tree, child.holder?.shard)}` : child.state === 'zero' ? 'e zero' : 'e';
                edges.push(`<line class="${cls}" x1="${fmt(cx(child))}" y1="${fmt(cy(child.y))}" x2="${fmt(cx(n))}" y2="${fmt(cy(n.y))}"/>`);
            }
        }
    }
    const rows: string[] = [];
    for (let y = 1; y <= shape.height; y++) {
        rows.push(`<text class="axis" x="${MARGIN.left - 14}" y="${fmt(cy(y) + 4)}">y=${y}</text>`);
    }
    const nodes = tree.nodes.map((n) => nodeSvg(tree, n, cx(n), cy(n.y), radius(n.y)));
    const goal = byKey.get(`${tree.target.y}/${tree.target.x}`);
    const gx = goal === undefined ? 0 : cx(goal);
    const targetLabel = [
        `<g class="target-label" id="target-label">`,
        `<text x="${fmt(gx + 26)}" y="${fmt(cy(shape.height) - 4)}">target (${tree.target.y}, ${tree.target.x})</text>`,
        result === undefined
            ? `<text class="pending" x="${fmt(gx + 26)}" y="${fmt(cy(shape.height) + 12)}">${goal?.state === 'filed' ? 'filed' : 'not filed yet'}</text>`
            : `<text class="result" x="${fmt(gx + 26)}" y="${fmt(cy(shape.height) + 14)}">= ${escapeHtml(clip(result, 24))}</text>`,
        `</g>`,
    ].join('');
    const totalWidth = MARGIN.left + width + MARGIN.right;
    const totalHeight = MARGIN.top + height + MARGIN.bottom;
    return [
        `<svg class="tree" id="tree" viewBox="0 0 ${fmt(totalWidth)} ${fmt(totalHeight)}" width="${fmt(totalWidth)}" height="${fmt(totalHeight)}" role="img" aria-label="merge tree of ${shape.nodeCount} nodes, ${tree.filed} of ${tree.nodes.length} numbers filed">`,
        `<g class="rows">${rows.join('')}</g>`,
        `<g class="edges">${edges.join('')}</g>`,
        `<g class="nodes">${nodes.join('')}</g>`,
        targetLabel,
        `</svg>`,
    ].join('');
}

function nodeSvg(tree: TreeModel, n: TreeNode, x: number, y: number, r: number): string {
    const isTarget = n.y === tree.target.y && n.x === tree.target.x;
    const cls = ['n', n.state, n.filing === undefined ? '' : 'done', shardClass(tree, n.holder?.shard), isTarget ? 'goal' : '', n.rejections > 0 ? 'rejected' : ''].filter((c) => c !== '').join(' ');
    const label = r >= 13 ? `<text x="${fmt(x)}" y="${fmt(y + 3.5)}">${n.y},${n.x}</text>` : '';
    const ring = isTarget ? `<circle class="ring" cx="${fmt(x)}" cy="${fmt(y)}" r="${fmt(r + 5)}"/>` : '';
    const title = [
        `(${n.y}, ${n.x}) ${n.kind === 'zero' ? 'ZERO' : n.kind}`,
        `rank ${n.rank}${n.holder === undefined ? '' : ` · ${n.holder.executorId} (${n.holder.shard})`}`,
        n.filing !== undefined ? `filed by ${n.filing.executorId}${n.filing.sha256 === undefined ? '' : ` · sha256 ${short(n.filing.sha256)}`}` : n.state,
        n.rejections > 0 ? `${n.rejections} rejected filing${n.rejections === 1 ? '' : 's'}` : '',
    ]
        .filter((t) => t !== '')
        .join('\n');
    return `<g class="${cls}" id="n${n.y}-${n.x}" data-state="${n.state}">${ring}<circle cx="${fmt(x)}" cy="${fmt(y)}" r="${fmt(r)}"/>${label}<title>${escapeHtml(title)}</title></g>`;
}

function fmt(value: number): string {
    return String(Math.round(value * 10) / 10);
}

function clip(text: string, length: number): string {
    const clean = text.trim();
    return clean.length > length ? `${clean.slice(0, length - 1)}…` : clean;
}
