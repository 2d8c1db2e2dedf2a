// Meta Space agent page, part 3 of 4 (lists.js): loading and rendering the lists (status, settings,
// intents, matches, deals and agreements, profile, blocks) and the batched refresh the live events use.
// Uses core.js and trust.js (window.MetaSpace); remote data goes into the page as text, never as HTML.
'use strict';

(function () {
  const MS = window.MetaSpace;
  const {
    AGREED_STATES, $, t, el, setError, updateEmpty, priceText, km, percent, actionText, catText, when, short,
    attrChips, stateBadge, kvList, networkSummary, api, reportError, act, blockButton, renderBlocks, meetingView,
    ratingView,
  } = MS;
  const DONE_MATCH_STATES = new Set(['negotiating', 'agreed', 'closed', 'failed', 'declined', 'expired']);
  const pending = new Set();
  let refreshTimer = null;
  let matchesById = new Map();

  const loaders = {
    async status() {
      const st = await api('GET', '/status');
      const net = st && st.network;
      const shown = Object.assign({}, st);
      delete shown.network;
      kvList($('status'), shown);
      kvList($('network'), networkSummary(net));
      const who = st && (st.peer_id || st.name || st.node_id);
      $('identity').textContent = who ? short(who) : '';
      if (who) $('identity').title = String(who);
    },
    async settings() {
      kvList($('settings'), await api('GET', '/settings'));
    },
    async intents() {
      const data = await api('GET', '/intents');
      renderIntents((data && data.intents) || []);
    },
    async matches() {
      const data = await api('GET', '/matches');
      renderMatches((data && data.matches) || []);
    },
    async deals() {
      const data = await api('GET', '/deals');
      const deals = (data && data.deals) || [];
      const [meetings, ratings] = await Promise.all([loadMeetings(deals), api('GET', '/ratings').catch(() => null)]);
      renderDeals(deals, meetings, (ratings && ratings.ratings) || []);
    },
    async profile() {
      const data = await api('GET', '/profile');
      const p = (data && data.profile) || {};
      kvList($('profile'), { peer_id: data && data.peer, handle: p.handle || t('no_handle'),
        share: data && data.share, languages: (p.languages || []).join(', ') || '—',
        categories: (p.categories || []).join(', ') || '—' });
    },
    async blocks() {
      const data = await api('GET', '/blocks');
      renderBlocks((data && data.blocks) || []);
    },
  };

  // The meeting arrangement of each agreed deal (GET /deals/{id}/handover), by deal id.
  async function loadMeetings(deals) {
    const out = new Map();
    await Promise.all(deals.filter((d) => AGREED_STATES.has(d.state)).map(async (d) => {
      try {
        out.set(String(d.id), await api('GET', `/deals/${encodeURIComponent(d.id)}/handover`));
      } catch (err) {
        out.set(String(d.id), null);
      }
    }));
    return out;
  }

  async function refresh(names) {
    const results = await Promise.allSettled(names.map((n) => loaders[n]()));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) reportError(failed.reason);
    else setError($('error-banner'), '');
  }

  function scheduleRefresh(names) {
    for (const n of names) pending.add(n);
    if (refreshTimer !== null) return;
    refreshTimer = setTimeout(() => {
      refreshTimer = null;
      const names = Array.from(pending);
      pending.clear();
      refresh(names);
    }, 30);
  }

  function renderIntents(items) {
    const list = $('intents');
    list.replaceChildren();
    for (const it of items) {
      const id = String(it.id);
      const withdraw = it.withdrawn ? null : el('button', {
        className: 'btn-small btn-bad', 'data-testid': `withdraw-${id}`,
        onclick: (ev) => act(ev.currentTarget, 'DELETE', `/intents/${encodeURIComponent(id)}`, ['intents']),
      }, t('withdraw'));
      const meta = [priceText(it.price, it.quantity), it.radius_km ? t('within_km', { km: it.radius_km }) : null,
        it.expires ? t('until', { when: when(it.expires) }) : null].filter(Boolean).join(' · ');
      list.append(el('li', { 'data-testid': `intent-${id}`, 'data-id': id, className: it.withdrawn ? 'withdrawn' : null },
        el('div', { className: 'item-head' },
          el('span', { className: 'item-title', text: `${actionText(it.action)} · ${catText(it.category)}` }),
          it.withdrawn ? stateBadge('withdrawn') : null),
        it.text ? el('div', { className: 'explain', text: it.text }) : null,
        attrChips(it.attributes),
        el('div', { className: 'item-meta', text: meta }),
        withdraw ? el('div', { className: 'item-actions' }, withdraw) : null));
    }
    updateEmpty('intents');
  }

  function explanation(m) {
    const e = m.explanation;
    if (!e) return null;
    if (typeof e === 'string') return el('div', { className: 'explain', 'data-testid': 'explanation', text: e });
    const box = el('ul', { className: 'explain', 'data-testid': 'explanation' });
    if (Array.isArray(e)) for (const line of e) box.append(el('li', { text: typeof line === 'string' ? line : JSON.stringify(line) }));
    else for (const [k, v] of Object.entries(e)) box.append(el('li', { text: `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}` }));
    return box;
  }

  // The counterpart as the agent knows it (issue 13): its handle, its reputation out of 100, flags.
  function repText(peer) {
    if (!peer || typeof peer.score !== 'number') return null;
    return t('reputation_score', { score: Math.round(peer.score) }) + (peer.ring ? ` (${t('ring')})` : '')
      + (peer.blocked ? ` · ${t('blocked')}` : '');
  }

  function peerText(peer) {
    if (!peer) return null;
    return [peer.handle || null, repText(peer)].filter(Boolean).join(' · ') || null;
  }

  function renderMatches(items) {
    const list = $('matches');
    list.replaceChildren();
    matchesById = new Map(items.map((m) => [String(m.id), m]));
    for (const m of items) {
      const id = String(m.id);
      const o = m.other || {};
      const meta = [km(m.distance_km) ? t('km_away', { km: km(m.distance_km) }) : null,
        percent(m.score) ? t('score', { score: percent(m.score) }) : null, peerText(m.peer)].filter(Boolean).join(' · ');
      const negotiate = el('button', {
        className: 'btn-small btn-primary', 'data-testid': `negotiate-${id}`,
        disabled: DONE_MATCH_STATES.has(m.state),
        onclick: (ev) => act(ev.currentTarget, 'POST', '/negotiate/start', ['deals', 'matches'], { match_id: id }),
      }, t('negotiate'));
      list.append(el('li', { 'data-testid': `match-${id}`, 'data-id': id },
        el('div', { className: 'item-head' },
          el('span', { className: 'item-title', text: `${actionText(o.action)} · ${catText(o.category)}` }),
          m.state ? stateBadge(m.state) : null),
        o.text ? el('div', { className: 'explain', text: o.text }) : null,
        attrChips(o.attributes),
        el('div', { className: 'item-meta', text: [priceText(o.price, o.quantity), meta].filter(Boolean).join(' · ') }),
        explanation(m),
        el('div', { className: 'item-actions' }, negotiate, blockButton(m.peer))));
    }
    updateEmpty('matches');
  }

  function roundsView(rounds) {
    if (typeof rounds === 'number') return el('div', { className: 'item-meta', text: t('rounds', { n: rounds }) });
    if (!Array.isArray(rounds) || rounds.length === 0) return null;
    const ol = el('ol', { className: 'rounds', 'data-testid': 'rounds' });
    for (const r of rounds) {
      if (!r || typeof r !== 'object') continue;
      const who = r.from === 'me' ? t('you') : r.from === 'them' ? t('them') : (r.from || '');
      const line = [r.round !== undefined ? t('round', { n: r.round }) : null, who, priceText(r.price, r.quantity)]
        .filter(Boolean).join(' · ');
      ol.append(el('li', { text: r.text || line }));
    }
    return ol;
  }

  function dealItem(d, withButtons, meeting, rated) {
    const id = String(d.id);
    const who = d.peer && d.peer.handle ? d.peer.handle : (d.counterparty ? short(d.counterparty) : null);
    const meta = [priceText(d.price, d.quantity), who ? t('with_who', { who }) : null, repText(d.peer),
      d.reason ? t('reason', { reason: t(`reason_${d.reason}`) }) : null].filter(Boolean).join(' · ');
    let buttons = null;
    if (withButtons && d.needs_approval) {
      const path = `/deals/${encodeURIComponent(id)}`;
      buttons = el('div', { className: 'item-actions' },
        el('button', { className: 'btn-small btn-ok', 'data-testid': `approve-${id}`,
          onclick: (ev) => act(ev.currentTarget, 'POST', `${path}/approve`, ['deals', 'matches']) }, t('approve')),
        el('button', { className: 'btn-small btn-bad', 'data-testid': `decline-${id}`,
          onclick: (ev) => act(ev.currentTarget, 'POST', `${path}/decline`, ['deals', 'matches']) }, t('decline')));
    }
    const match = matchesById.get(String(d.match_id));
    const other = match && match.other ? match.other : {};
    const category = d.category || other.category;
    const heading = category ? `${catText(category)} · ${t('deal_id', { id: short(id) })}` : t('deal_id', { id: short(id) });
    return el('li', { 'data-testid': `${withButtons ? 'deal' : 'agreement'}-${id}`, 'data-id': id },
      el('div', { className: 'item-head' },
        el('span', { className: 'item-title', text: heading }),
        stateBadge(d.needs_approval && withButtons ? 'needs approval' : d.state)),
      el('div', { className: 'item-meta', text: meta }),
      withButtons ? roundsView(d.rounds) : null,
      buttons,
      withButtons ? null : meetingView(id, meeting),
      withButtons ? null : ratingView(id, rated),
      withButtons ? null : el('div', { className: 'item-actions' }, blockButton(d.peer)));
  }

  function renderDeals(items, meetings, ratings) {
    const deals = $('deals');
    const agreements = $('agreements');
    deals.replaceChildren();
    agreements.replaceChildren();
    const mine = new Map((ratings || []).filter((r) => r.mine).map((r) => [String(r.deal_id), r]));
    for (const d of items) {
      if (AGREED_STATES.has(d.state)) {
        agreements.append(dealItem(d, false, meetings.get(String(d.id)), mine.get(String(d.id))));
      } else deals.append(dealItem(d, true));
    }
    updateEmpty('deals');
    updateEmpty('agreements');
  }

  Object.assign(MS, { refresh, scheduleRefresh });
})();
