// Meta Space agent page: vanilla JS, no build step, no external assets.
//
// Theory of operation: the token comes from the URL fragment (#token=..., never sent to a server),
// is kept in sessionStorage and the fragment is removed from the address bar. Every JSON call
// carries "Authorization: Bearer <token>". Lists (intents, matches, deals, agreements) are fetched
// whole and re-rendered; an EventSource on /api/v1/events tells which lists changed, and an event's
// "text" (already in the human's language, rendered by the peer) goes to the notifications list.
// All remote data is put into the page with textContent, never as HTML.
// Every label comes from the agent's catalogue in the human's language (GET /api/v1/i18n, the same
// catalogues as the notifications): static ones are marked data-i18n in index.html, the others use t().
// Publishing is two steps: "Review" asks the peer for the exact intent it would sign and publish
// (POST /intents/preview: public fields, the published text, what stays private) and shows it; only
// then does the button publish, exactly that. Any change to the draft hides the review again.
'use strict';

(function () {
  const API = '/api/v1';
  const TOKEN_KEY = 'metaspace.token';
  const MAX_NOTIFICATIONS = 50;
  const PUBLISH_KEYS = ['action', 'category', 'lat', 'lon', 'cell', 'radius_km', 'price', 'quantity',
    'attributes', 'text', 'lang', 'expires_in_s', 'limit'];
  const AGREED_STATES = new Set(['agreed', 'closed']);
  const DONE_MATCH_STATES = new Set(['negotiating', 'agreed', 'closed', 'failed', 'declined', 'expired']);
  // SSE event name (or an event's "kind") -> lists to refresh; unknown names refresh everything.
  const REFRESH = {
    match: ['matches', 'status'], matches: ['matches', 'status'],
    deal: ['deals', 'matches', 'status'], deals: ['deals', 'status'], offer: ['deals'], approval_needed: ['deals'],
    deal_closed: ['deals', 'matches', 'status'], deal_failed: ['deals', 'matches', 'status'], negotiation: ['deals'],
    handover_ready: ['deals'], handover_proposed: ['deals'], handover_confirmed: ['deals'],
    handover_closed: ['deals'], handover_ended: ['deals'], handover_refused: ['deals'],
    rating_received: ['deals', 'profile'], peer_blocked: ['blocks', 'matches', 'deals'],
    intent: ['intents'], intents: ['intents'], intent_published: ['intents', 'status'],
    intent_withdrawn: ['intents', 'status'], status: ['status'], settings: ['settings'],
    notification: [], hello: [], ping: [],
  };
  const EVENT_NAMES = Object.keys(REFRESH).concat(['error']);
  const ALL_LISTS = ['status', 'settings', 'intents', 'matches', 'deals', 'profile', 'blocks'];

  let token = null;
  let draft = null;
  let draftLocation = {};
  let reviewed = null; // the publish body (as JSON) whose preview is on screen
  let strings = {};  // the page's labels in the human's language (English for what a catalogue lacks)
  let tips = [];
  let lang = 'en';
  // The published fields shown in the review, in this order.
  const PREVIEW_KEYS = ['action', 'category', 'attributes', 'price', 'quantity', 'cell', 'radius_km', 'text', 'lang',
    'author', 'contact'];
  let categoryChosen = true;
  let events = null;
  let live = false;
  const pending = new Set();
  let refreshTimer = null;
  let matchesById = new Map();

  const $ = (id) => document.getElementById(id);

  // A label in the human's language; {name} placeholders are filled with vars (as text, never HTML).
  // English for the few texts needed before (or without) the catalogue: a refused token, no peer.
  const FALLBACK = {
    live: 'live', offline: 'offline',
    err_unreachable: 'Your agent peer is not reachable — is `metaspace peer` running?',
    err_token: 'The access token was refused: open the link printed by `metaspace web` again.',
  };

  function t(key, vars) {
    const has = (o) => Object.prototype.hasOwnProperty.call(o, key);
    const text = has(strings) ? strings[key] : (has(FALLBACK) ? FALLBACK[key] : key);
    return text.replace(/\{(\w+)\}/g, (m, name) => (vars && vars[name] !== undefined ? String(vars[name]) : m));
  }

  function applyStrings() {
    document.documentElement.lang = lang;
    for (const node of document.querySelectorAll('[data-i18n]')) {
      const key = node.getAttribute('data-i18n');
      if (Object.prototype.hasOwnProperty.call(strings, key)) node.textContent = strings[key];
    }
    for (const attr of ['placeholder', 'title']) {
      for (const node of document.querySelectorAll(`[data-i18n-${attr}]`)) {
        const key = node.getAttribute(`data-i18n-${attr}`);
        if (Object.prototype.hasOwnProperty.call(strings, key)) node.setAttribute(attr, strings[key]);
      }
    }
  }

  async function loadStrings() {
    try {
      const data = await api('GET', '/i18n');
      strings = (data && data.strings) || {};
      tips = (data && data.tips) || [];
      lang = (data && data.lang) || 'en';
    } catch (err) {
      reportError(err);
    }
    applyStrings();
  }

  // ------------------------------------------------------------------ DOM helpers

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'className') node.className = v;
      else if (k === 'text') node.textContent = String(v);
      else if (k === 'onclick') node.addEventListener('click', v);
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function show(node, visible) { node.classList.toggle('hidden', !visible); }

  function setError(node, message) {
    node.textContent = message || '';
    show(node, Boolean(message));
  }

  function updateEmpty(listId) {
    const marker = document.querySelector(`[data-empty-for="${listId}"]`);
    if (marker) show(marker, $(listId).children.length === 0);
  }

  // ------------------------------------------------------------------ formatting

  function currencyDigits(code) {
    try {
      return new Intl.NumberFormat('en', { style: 'currency', currency: code }).resolvedOptions()
        .maximumFractionDigits;
    } catch (e) {
      return 2;
    }
  }

  function money(m) {
    if (!m || typeof m.amount_minor !== 'number' || typeof m.currency !== 'string') return null;
    const digits = currencyDigits(m.currency);
    const value = m.amount_minor / Math.pow(10, digits);
    try {
      return new Intl.NumberFormat(lang, { style: 'currency', currency: m.currency }).format(value);
    } catch (e) {
      return `${value.toFixed(digits)} ${m.currency}`;
    }
  }

  function priceText(price, quantity) {
    const amount = money(price);
    const qty = typeof quantity === 'number' ? quantity : null;
    if (!amount) return qty !== null ? `${qty} · ${t('price_open')}` : t('price_open');
    if (price.per_unit === false) return qty !== null ? t('qty_for_amount', { qty, amount }) : amount;
    const each = t('amount_each', { amount });
    if (qty === null) return each;
    const total = money({ amount_minor: price.amount_minor * qty, currency: price.currency });
    return qty > 1 ? `${qty} × ${each} (${total})` : each;
  }

  function km(d) {
    if (typeof d !== 'number' || !isFinite(d)) return null;
    return new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format(d) + ' km';
  }

  function percent(s) {
    if (typeof s !== 'number' || !isFinite(s)) return null;
    return new Intl.NumberFormat(lang, { style: 'percent' }).format(Math.max(0, Math.min(1, s)));
  }

  function actionText(a) {
    return a ? t(`action_${a}`) : '?';
  }

  function catText(code) {
    const key = `cat_${code}`;
    return code && Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : (code || '?');
  }

  function when(ts) {
    if (typeof ts !== 'number') return null;
    const ms = ts > 1e12 ? ts : ts * 1000;
    return new Date(ms).toLocaleString(lang);
  }

  function short(id) {
    const s = String(id || '');
    return s.length > 16 ? s.slice(0, 8) + '…' + s.slice(-4) : s;
  }

  function attrChips(attrs) {
    const box = el('div', { className: 'attrs' });
    if (attrs && typeof attrs === 'object') {
      for (const [k, v] of Object.entries(attrs)) box.append(el('span', { className: 'chip', text: `${k}: ${v}` }));
    }
    return box.children.length ? box : null;
  }

  function stateBadge(state) {
    const s = String(state || 'unknown');
    const kind = AGREED_STATES.has(s) || s === 'approved' ? 'ok'
      : (s === 'failed' || s === 'declined' || s === 'rejected') ? 'bad'
      : (s.includes('approval') ? 'warn' : 'muted');
    const key = `state_${s.replace(/ /g, '_')}`;
    const shown = Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : s.replace(/_/g, ' ');
    return el('span', { className: `badge badge-${kind}`, 'data-testid': 'state', 'data-state': s, text: shown });
  }

  function kvList(node, obj) {
    node.replaceChildren();
    if (!obj || typeof obj !== 'object') return;
    for (const [k, v] of Object.entries(obj)) {
      let shown;
      if (v === null || v === undefined) shown = '—';
      else if (typeof v === 'object' && typeof v.amount_minor === 'number') shown = money(v) || JSON.stringify(v);
      else if (typeof v === 'object') shown = JSON.stringify(v);
      else shown = String(v);
      const label = Object.prototype.hasOwnProperty.call(strings, `k_${k}`) ? strings[`k_${k}`] : k.replace(/_/g, ' ');
      node.append(el('dt', { text: label }), el('dd', { 'data-key': k, text: shown }));
    }
  }

  // Reachability (p2p/nat.py): is this agent reachable, through which relay, and how each peer is
  // connected (direct, or relayed when hole punching did not work, with the reason).
  function networkSummary(net) {
    if (!net) return { reachability: t('not_checked') };
    const out = { reachability: net.reachability, why: net.reason };
    if (net.observed_addr) out.seen_from_outside_as = net.observed_addr;
    const relays = (net.relays || []).filter((r) => r.state !== 'idle' || r.detail);
    if (relays.length) {
      out.relays = relays.map((r) => `${short(r.relay)}: ${r.state}${r.detail ? ' (' + r.detail + ')' : ''}`).join('; ');
    }
    const conns = Object.entries(net.connections || {});
    if (conns.length) out.connections = conns.map(([p, kind]) => `${short(p)} ${kind}`).join(', ');
    const punches = net.hole_punches || [];
    if (punches.length) {
      const last = punches[punches.length - 1];
      out.last_hole_punch = `${short(last.peer)}: ${last.outcome}${last.reason ? ' — ' + last.reason : ''}`;
    }
    return out;
  }

  // ------------------------------------------------------------------ API

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(method, path, body) {
    const opts = { method, headers: { Authorization: 'Bearer ' + token }, cache: 'no-store' };
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    let resp;
    try {
      resp = await fetch(API + path, opts);
    } catch (e) {
      throw new ApiError(0, 'unreachable', t('err_unreachable'));
    }
    let data = null;
    try { data = await resp.json(); } catch (e) { data = null; }
    if (!resp.ok) {
      if (resp.status === 401) {
        throw new ApiError(401, 'unauthorized', t('err_token'));
      }
      const message = (data && data.message) || `${resp.status} ${resp.statusText}`;
      throw new ApiError(resp.status, (data && data.error) || 'http_error', message);
    }
    return data;
  }

  function reportError(err) {
    setError($('error-banner'), err && err.message ? err.message : String(err));
  }

  // ------------------------------------------------------------------ lists

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

  // ------------------------------------------------------------------ the meeting after the deal

  function when2(start, end) {
    if (typeof start !== 'number' || typeof end !== 'number') return '?';
    const a = new Date(start * 1000);
    const b = new Date(end * 1000);
    const day = a.toLocaleString(lang, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
    return `${day}–${b.toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit' })}`;
  }

  function payText(list) {
    const methods = Array.isArray(list) ? list : (list ? [list] : []);
    return methods.map((m) => (Object.prototype.hasOwnProperty.call(strings, `pay_${m}`) ? strings[`pay_${m}`] : m)).join(', ');
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
      if (tips.length) box.append(el('ul', { className: 'tips', 'data-testid': 'tips' }, ...tips.map((x) => el('li', { text: x }))));
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
        { headers: { Authorization: 'Bearer ' + token }, cache: 'no-store' });
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

  async function act(button, method, path, lists, body) {
    button.disabled = true;
    try {
      await api(method, path, body);
      setError($('error-banner'), '');
    } catch (err) {
      reportError(err);
      button.disabled = false;
    }
    await refresh(lists);
  }

  // ------------------------------------------------------------------ understand -> draft -> publish

  function numberOrNull(input) {
    const v = input.value.trim().replace(',', '.');
    if (v === '') return null;
    const n = Number(v);
    return Number.isFinite(n) ? n : NaN;
  }

  async function onUnderstand(ev) {
    ev.preventDefault();
    const text = $('intent-text').value.trim();
    setError($('understand-error'), '');
    if (!text) {
      setError($('understand-error'), t('err_write_first'));
      return;
    }
    const body = { text };
    const lat = numberOrNull($('lat'));
    const lon = numberOrNull($('lon'));
    if ((lat === null) !== (lon === null) || Number.isNaN(lat) || Number.isNaN(lon)) {
      setError($('understand-error'), t('err_lat_lon'));
      return;
    }
    draftLocation = {};
    if (lat !== null) {
      body.lat = lat;
      body.lon = lon;
      draftLocation = { lat, lon };
    }
    const btn = $('understand-btn');
    btn.disabled = true;
    try {
      showDraft(await api('POST', '/intents/understand', body), text);
    } catch (err) {
      setError($('understand-error'), err.message);
    } finally {
      btn.disabled = false;
    }
  }

  function showDraft(d, text) {
    draft = Object.assign({}, d || {});
    draft.text = text; // the peer decides what of it is published (never a price or a private limit)
    clearReview();
    $('draft-action').value = draft.action || 'SELL';
    $('draft-category').value = draft.category || '';
    const p = draft.price;
    if (p && typeof p.amount_minor === 'number') {
      $('draft-price').value = String(p.amount_minor / Math.pow(10, currencyDigits(p.currency)));
      $('draft-currency').value = p.currency || '';
      $('draft-per-unit').checked = p.per_unit !== false;
    } else {
      $('draft-price').value = '';
      $('draft-currency').value = (p && p.currency) || '';
      $('draft-per-unit').checked = true;
    }
    renderChoices(draft);
    $('draft-quantity').value = draft.quantity || 1;
    $('draft-radius').value = draft.radius_km !== undefined && draft.radius_km !== null ? draft.radius_km : '';
    const chips = attrChips(draft.attributes);
    $('draft-attributes').replaceChildren(...(chips ? chips.childNodes : []));
    const conf = percent(draft.confidence);
    const lim = draft.limit;
    const limText = lim && typeof lim.amount_minor === 'number'
      ? ` · ${t('private_limit', { limit: `${lim.amount_minor / Math.pow(10, currencyDigits(lim.currency))} ${lim.currency}` })}`
      : '';
    $('draft-confidence').textContent = (conf ? t('confidence', { pct: conf }) : '') + limText;
    const missing = Array.isArray(draft.missing) ? draft.missing : [];
    $('draft-missing').textContent = missing.length ? t('could_not_tell', { list: missing.join(', ') }) : '';
    show($('draft-missing'), missing.length > 0);
    setError($('draft-error'), '');
    show($('draft'), true);
  }

  // When the agent is unsure (needs_choice), the category field starts empty and the best three
  // candidates are offered: nothing is published until the human picks one or types a code.
  function renderChoices(d) {
    const box = $('draft-choices');
    const cands = Array.isArray(d.categories) ? d.categories.slice(0, 3) : [];
    categoryChosen = !(d.needs_choice && cands.length);
    if (categoryChosen) {
      box.replaceChildren();
      show(box, false);
      return;
    }
    $('draft-category').value = '';
    const options = cands.map((c, i) => {
      const input = el('input', { type: 'radio', name: 'draft-cat', value: c.code, 'data-testid': `draft-choice-${i + 1}` });
      input.addEventListener('change', () => pickCategory(c.code));
      const pct = percent(c.probability);
      return el('label', { className: 'check' }, input, ` ${i + 1} · ${c.label || c.code} (${c.code}${pct ? ', ' + pct : ''})`);
    });
    box.replaceChildren(el('legend', { text: t('choose_category') }), ...options);
    show(box, true);
  }

  function pickCategory(code) {
    $('draft-category').value = code;
    categoryChosen = true;
    setError($('draft-error'), '');
  }

  function onChoiceKey(ev) {
    const box = $('draft-choices');
    if (!draft || box.classList.contains('hidden') || !['1', '2', '3'].includes(ev.key)) return;
    if (ev.target && ['INPUT', 'TEXTAREA', 'SELECT'].includes(ev.target.tagName) && ev.target.type !== 'radio') return;
    const radio = box.querySelectorAll('input[type=radio]')[Number(ev.key) - 1];
    if (!radio) return;
    ev.preventDefault();
    radio.checked = true;
    radio.focus();
    pickCategory(radio.value);
  }

  function hideDraft() {
    draft = null;
    clearReview();
    show($('draft'), false);
  }

  function clearReview() {
    reviewed = null;
    show($('draft-preview'), false);
    $('confirm-btn').textContent = t('review');
  }

  function showReview(preview, key) {
    const pub = (preview && preview.published) || {};
    const shown = {};
    for (const k of PREVIEW_KEYS) if (k in pub) shown[k] = pub[k];
    if (shown.text === null || shown.text === undefined) shown.text = t('no_free_text');
    kvList($('preview-published'), shown);
    const priv = (preview && preview.private) || {};
    $('preview-private').textContent = priv.limit_text
      ? t('kept_private', { limit: priv.limit_text }) : '';
    const warnings = Array.isArray(preview && preview.warnings) ? preview.warnings : [];
    $('preview-warnings').replaceChildren(...warnings.map((w) => el('li', { text: w })));
    show($('draft-preview'), true);
    reviewed = key;
    $('confirm-btn').textContent = t('publish_exactly');
  }

  function publishBody() {
    const body = {};
    for (const k of PUBLISH_KEYS) {
      if (draft[k] !== undefined && draft[k] !== null) body[k] = draft[k];
    }
    if (body.lat === undefined && body.cell === undefined && draftLocation.lat !== undefined) {
      body.lat = draftLocation.lat;
      body.lon = draftLocation.lon;
    }
    body.action = $('draft-action').value;
    if (!categoryChosen) throw new Error(t('must_choose'));
    const category = $('draft-category').value.trim();
    if (category) body.category = category; else delete body.category;
    const amount = numberOrNull($('draft-price'));
    const currency = $('draft-currency').value.trim().toUpperCase();
    if (amount === null) delete body.price;
    else {
      if (Number.isNaN(amount) || amount < 0) throw new Error(t('err_price'));
      if (!currency) throw new Error(t('err_currency'));
      body.price = {
        amount_minor: Math.round(amount * Math.pow(10, currencyDigits(currency))),
        currency, per_unit: $('draft-per-unit').checked,
      };
    }
    const qty = numberOrNull($('draft-quantity'));
    if (qty !== null) {
      if (!Number.isInteger(qty) || qty < 1) throw new Error(t('err_quantity'));
      body.quantity = qty;
    }
    const radius = numberOrNull($('draft-radius'));
    if (radius !== null) {
      if (!Number.isInteger(radius) || radius < 0) throw new Error(t('err_radius'));
      body.radius_km = radius;
    }
    return body;
  }

  async function onConfirm(ev) {
    ev.preventDefault();
    if (!draft) return;
    const btn = $('confirm-btn');
    let body;
    try {
      body = publishBody();
    } catch (err) {
      setError($('draft-error'), err.message);
      return;
    }
    const key = JSON.stringify(body);
    btn.disabled = true;
    if (reviewed !== key) {
      try {
        showReview(await api('POST', '/intents/preview', body), key);
      } catch (err) {
        setError($('draft-error'), err.message);
      } finally {
        btn.disabled = false;
      }
      return;
    }
    try {
      await api('POST', '/intents', body);
      hideDraft();
      $('intent-text').value = '';
      await refresh(['intents', 'status']);
    } catch (err) {
      setError($('draft-error'), err.message);
    } finally {
      btn.disabled = false;
    }
  }

  function onLocate() {
    if (!navigator.geolocation) return;
    navigator.geolocation.getCurrentPosition((pos) => {
      $('lat').value = pos.coords.latitude.toFixed(4);
      $('lon').value = pos.coords.longitude.toFixed(4);
    }, (err) => setError($('understand-error'), t('err_location', { message: err.message })));
  }

  // ------------------------------------------------------------------ live events

  function setLive(on) {
    live = on;
    const c = $('conn');
    c.textContent = on ? t('live') : t('offline');
    c.classList.toggle('conn-on', on);
    c.classList.toggle('conn-off', !on);
  }

  function notify(data, name) {
    const text = data.text || data.message || null;
    if (!text && !data.title) return;
    const title = data.title && !(text && text.startsWith(data.title)) ? data.title : null;
    const li = el('li', { 'data-kind': data.kind || name || 'event' },
      title ? el('span', { className: 'n-title', text: title }) : null,
      text ? el('span', { className: 'n-text', text }) : null,
      el('span', { className: 'n-time', text: new Date().toLocaleTimeString() }));
    const list = $('notifications');
    list.prepend(li);
    while (list.children.length > MAX_NOTIFICATIONS) list.lastChild.remove();
    updateEmpty('notifications');
  }

  function onEvent(ev) {
    if (ev.type === 'error' && !(ev instanceof MessageEvent)) return;  // connection error, handled in onerror
    let data = {};
    try { data = JSON.parse(ev.data); } catch (e) { data = { text: String(ev.data || '') }; }
    if (!data || typeof data !== 'object') data = {};
    const name = ev.type !== 'message' ? ev.type : (data.event || data.kind || 'message');
    notify(data, name);
    const lists = REFRESH[name] || REFRESH[data.kind] || ALL_LISTS;
    if (lists.length) scheduleRefresh(lists);
  }

  function connectEvents() {
    if (typeof EventSource === 'undefined') return;
    events = new EventSource(`${API}/events?access_token=${encodeURIComponent(token)}`);
    events.onopen = () => {
      setLive(true);
      scheduleRefresh(ALL_LISTS);  // catch up on what happened while disconnected
    };
    events.onerror = () => {
      setLive(false);
      if (events.readyState === EventSource.CLOSED) setTimeout(connectEvents, 5000);
    };
    events.onmessage = onEvent;
    for (const name of EVENT_NAMES) events.addEventListener(name, onEvent);
  }

  // ------------------------------------------------------------------ start

  function readToken() {
    const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
    if (m) {
      const t = decodeURIComponent(m[1]);
      sessionStorage.setItem(TOKEN_KEY, t);
      history.replaceState(null, '', location.pathname + location.search);
      return t;
    }
    return sessionStorage.getItem(TOKEN_KEY);
  }

  async function start() {
    token = readToken();
    for (const id of ['notifications', 'intents', 'matches', 'deals', 'agreements', 'blocks']) updateEmpty(id);
    if (!token) {
      show($('no-token'), true);
      show($('app'), false);
      return;
    }
    $('understand-form').addEventListener('submit', onUnderstand);
    $('draft').addEventListener('submit', onConfirm);
    $('draft').addEventListener('input', () => { if (reviewed !== null) clearReview(); });
    $('draft').addEventListener('change', () => { if (reviewed !== null) clearReview(); });
    $('draft-category').addEventListener('input', () => { if ($('draft-category').value.trim()) categoryChosen = true; });
    document.addEventListener('keydown', onChoiceKey);
    $('cancel-draft-btn').addEventListener('click', hideDraft);
    $('locate-btn').addEventListener('click', onLocate);
    await loadStrings();
    refresh(ALL_LISTS);
    connectEvents();
    // a slow safety net when the event stream is down
    setInterval(() => { if (!live) scheduleRefresh(ALL_LISTS); }, 30000);
  }

  document.addEventListener('DOMContentLoaded', start);
})();
