// Meta Space agent page, part 2 of 4 (trust.js): what follows an agreement and who is trusted: the
// meeting (handover) arrangement with its calendar file, rating the deal, blocking and unblocking peers.
// Uses core.js (window.MetaSpace); all remote data goes into the page as text, never as HTML.
'use strict';

(function () {
  const MS = window.MetaSpace;
  const { API, shared, $, t, el, updateEmpty, when, short, stateBadge, reportError, act } = MS;

  // ------------------------------------------------------------------ blocked peers

  function blockButton(peer) {
    if (!peer || !peer.id || peer.blocked) return null;
    return el('button', { className: 'btn-small btn-ghost', 'data-testid': `block-${peer.id}`,
      onclick: (ev) => act(ev.currentTarget, 'POST', '/blocks', ['blocks', 'matches', 'deals'], { peer: peer.id }),
    }, t('block'));
  }

  function renderBlocks(items) {
    const list = $('blocks');
    list.replaceChildren();
    for (const b of items) {
      const id = String(b.peer || b.id || '');
      const until = typeof b.until === 'number' ? t('until', { when: when(b.until) }) : t('until_unblocked');
      list.append(el('li', { 'data-testid': `blocked-${id}` },
        el('div', { className: 'item-head' }, el('span', { className: 'item-title', title: id, text: short(id) })),
        el('div', { className: 'item-meta', text: [b.reason ? t(`reason_${b.reason}`) : null, until].filter(Boolean).join(' · ') }),
        el('div', { className: 'item-actions' }, el('button', { className: 'btn-small', 'data-testid': `unblock-${id}`,
          onclick: (ev) => act(ev.currentTarget, 'DELETE', `/blocks/${encodeURIComponent(id)}`, ['blocks', 'matches', 'deals']),
        }, t('unblock')))));
    }
    updateEmpty('blocks');
  }

  // ------------------------------------------------------------------ the meeting after the deal

  function when2(start, end) {
    if (typeof start !== 'number' || typeof end !== 'number') return '?';
    const a = new Date(start * 1000);
    const b = new Date(end * 1000);
    const day = a.toLocaleString(shared.lang, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
    return `${day}–${b.toLocaleTimeString(shared.lang, { hour: '2-digit', minute: '2-digit' })}`;
  }

  function payText(list) {
    const methods = Array.isArray(list) ? list : (list ? [list] : []);
    return methods.map((m) => (Object.prototype.hasOwnProperty.call(shared.strings, `pay_${m}`) ? shared.strings[`pay_${m}`] : m)).join(', ');
  }

  function placeText(p) {
    const c = p && p.center;
    if (!c) return '?';
    return t('place', { lat: Number(c.lat).toFixed(3), lon: Number(c.lon).toFixed(3), size: `${p.size_km} km` });
  }

  function proposalLines(p) {
    return el('ul', { className: 'meeting-lines' },
      el('li', { 'data-testid': 'meeting-when', text: `${t('meeting_when')}: ${when2(p.start, p.end)}` }),
      el('li', { 'data-testid': 'meeting-where', text: `${t('meeting_where')}: ${placeText(p)}` }),
      el('li', { 'data-testid': 'meeting-pay', text: `${t('meeting_pay')}: ${payText(p.payment)}` }));
  }

  function meetingView(id, m) {
    if (!m) return null;
    const path = `/deals/${encodeURIComponent(id)}/handover`;
    const box = el('div', { className: 'meeting', 'data-testid': `meeting-${id}`, 'data-state': m.state },
      el('h4', { text: t('meeting_title') }, ' ', stateBadge(`meeting_${m.state}`)));
    const actions = el('div', { className: 'item-actions' });
    if (m.plan) {
      box.append(proposalLines(m.plan));
      const dl = el('button', { className: 'btn-small btn-primary', 'data-testid': `ics-${id}`,
        onclick: (ev) => downloadIcs(ev.currentTarget, id) }, t('download_ics'));
      actions.append(dl);
      if (shared.tips.length) box.append(el('ul', { className: 'tips', 'data-testid': 'tips' }, ...shared.tips.map((x) => el('li', { text: x }))));
    } else if (m.pending) {
      const p = m.pending;
      box.append(el('p', { className: 'muted', text: p.from === 'me' ? t('meeting_waiting', { when: when(p.expires) })
        : t('meeting_their_proposal', { when: when(p.expires) }) }), proposalLines(p));
    } else if (m.suggestion) {
      box.append(el('p', { className: 'muted', text: t('meeting_suggestion') }), proposalLines(m.suggestion));
    }
    if (m.reason) box.append(el('p', { className: 'muted', text: t('reason', { reason: t(`reason_${m.reason}`) }) }));
    const can = new Set(m.can || []);
    const button = (key, cls, sub, body) => el('button', { className: `btn-small ${cls}`, 'data-testid': `meeting-${key}-${id}`,
      onclick: (ev) => act(ev.currentTarget, 'POST', `${path}${sub}`, ['deals'], body || {}) }, t(`meeting_${key}`));
    if (can.has('confirm')) actions.append(button('confirm', 'btn-ok', '/confirm'));
    if (can.has('decline')) actions.append(button('decline', 'btn-bad', '/decline', { reason: 'declined' }));
    if (can.has('propose') && !can.has('confirm')) actions.append(button('propose', 'btn-primary', ''));
    if (can.has('withdraw')) actions.append(button('withdraw', 'btn-ghost', '/decline', { reason: 'withdrawn' }));
    if (can.has('cancel')) actions.append(button('cancel', 'btn-bad', '/decline', { reason: 'cancelled' }));
    if (actions.children.length) box.append(actions);
    return box;
  }

  async function downloadIcs(button, id) {
    button.disabled = true;
    try {
      const resp = await fetch(`${API}/deals/${encodeURIComponent(id)}/handover.ics`,
        { headers: { Authorization: 'Bearer ' + shared.token }, cache: 'no-store' });
      if (!resp.ok) throw new Error(`${resp.status} ${resp.statusText}`);
      const url = URL.createObjectURL(await resp.blob());
      const a = el('a', { href: url, download: `meta-space-${id.slice(0, 12)}.ics` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (err) {
      reportError(err);
    } finally {
      button.disabled = false;
    }
  }

  function ratingView(id, rated) {
    if (rated) {
      return el('div', { className: 'item-meta', 'data-testid': `rated-${id}`, text: t('you_rated', { score: rated.score }) });
    }
    const score = el('select', { 'data-testid': `rate-score-${id}`, 'aria-label': t('rate_score') },
      ...[5, 4, 3, 2, 1].map((n) => el('option', { value: String(n), text: '★'.repeat(n) })));
    const asAgreed = el('input', { type: 'checkbox', checked: true, 'data-testid': `rate-agreed-${id}` });
    const comment = el('input', { maxlength: '280', placeholder: t('rate_comment'), 'data-testid': `rate-comment-${id}` });
    const send = el('button', { className: 'btn-small btn-primary', 'data-testid': `rate-${id}`,
      onclick: (ev) => act(ev.currentTarget, 'POST', `/deals/${encodeURIComponent(id)}/rate`, ['deals'],
        { score: Number(score.value), as_agreed: asAgreed.checked, comment: comment.value.trim() }) }, t('rate'));
    return el('div', { className: 'rating-form' }, el('span', { text: t('rate_title') }), score,
      el('label', { className: 'check' }, asAgreed, ' ', t('as_agreed')), comment, send);
  }

  Object.assign(MS, { blockButton, renderBlocks, meetingView, ratingView });
})();
