// SPDX-License-Identifier: Apache-2.0
// The ledgerwork view's only script: subscribes to the server's event stream for this page and
// morphs the new <main> into the old one, element by element, so CSS transitions show what
// changed (a merge-tree node filling in). Without it — or when the stream is gone — the page
// stays what the server rendered, and a reload shows the ledger's current state.
'use strict';

(function () {
    const live = document.getElementById('live');
    const main = document.getElementById('main');
    if (live === null || main === null || typeof EventSource === 'undefined') {
        return;
    }

    function setLive(state, text) {
        live.className = 'live ' + state;
        live.textContent = text;
    }

    function syncAttributes(from, to) {
        for (const { name } of Array.from(from.attributes)) {
            if (!to.hasAttribute(name)) {
                from.removeAttribute(name);
            }
        }
        for (const { name, value } of Array.from(to.attributes)) {
            if (from.getAttribute(name) !== value) {
                from.setAttribute(name, value);
            }
        }
    }

    /** Makes `from` look like `to`, keeping nodes that match by position, tag and id. */
    function morph(from, to) {
        const fromKids = Array.from(from.childNodes);
        const toKids = Array.from(to.childNodes);
        toKids.forEach(function (next, i) {
            const current = fromKids[i];
            if (current === undefined) {
                from.appendChild(next.cloneNode(true));
            } else if (current.nodeType !== next.nodeType || current.nodeName !== next.nodeName || (current.id || '') !== (next.id || '')) {
                from.replaceChild(next.cloneNode(true), current);
            } else if (current.nodeType === Node.TEXT_NODE || current.nodeType === Node.COMMENT_NODE) {
                if (current.nodeValue !== next.nodeValue) {
                    current.nodeValue = next.nodeValue;
                }
            } else {
                syncAttributes(current, next);
                morph(current, next);
            }
        });
        for (let i = fromKids.length - 1; i >= toKids.length; i--) {
            from.removeChild(fromKids[i]);
        }
    }

    const source = new EventSource('/live?path=' + encodeURIComponent(location.pathname));
    source.addEventListener('open', function () {
        setLive('on', 'live');
    });
    source.addEventListener('page', function (event) {
        const update = JSON.parse(event.data);
        const template = document.createElement('template');
        template.innerHTML = update.main;
        morph(main, template.content);
        document.title = update.title;
        document.body.dataset.updated = String(Date.now());
        setLive('on', 'live');
    });
    source.addEventListener('error', function () {
        if (source.readyState === EventSource.CLOSED) {
            setLive('off', 'static — reload to refresh');
        } else {
            // The browser reconnects by itself (the server asks for 1 s); a restarted view is found again.
            setLive('wait', 'reconnecting…');
        }
    });
})();
