// Meta Space agent page: vanilla JS, no build step, no external assets.
//
// Theory of operation: the token comes from the URL fragment (#token=..., never sent to a server),
// is kept in sessionStorage and the fragment is removed from the address bar. Every JSON call
// carries "Authorization: Bearer <token>". Lists (intents, matches, deals, agreements) are fetched
// whole and re-rendered; an EventSource on /api/v1/events tells which lists changed, and an event's
// "text" (already in the human's language, rendered by the peer) goes to the notifications list.
// All remote data is put into the page with textContent, never as HTML.
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
    match: ['matches'], matches: ['matches'],
    deal: ['deals', 'matches'], deals: ['deals'], offer: ['deals'], approval_needed: ['deals'],
    deal_closed: ['deals', 'matches'], deal_failed: ['deals', 'matches'], negotiation: ['deals'],
    intent: ['intents'], intents: ['intents'], intent_published: ['intents', 'status'],
    intent_withdrawn: ['intents', 'status'], status: ['status'], settings: ['settings'],
    notification: [], hello: [], ping: [],
  };
  const EVENT_NAMES = Object.keys(REFRESH).concat(['error']);
  // Words shown by the confirm step's category choice (kept here, in one place, for translation).
  const TEXT = {
    chooseCategory: 'Not sure about the category: pick one (keys 1-3), or type another above.',
    mustChoose: 'Pick a category first: your agent was not sure about it.',
  };
  const ALL_LISTS = ['status', 'settings', 'intents', 'matches', 'deals'];

  let token = null;
  let draft = null;
  let draftLocation = {};
  let reviewed = null; // the publish body (as JSON) whose preview is on screen
  const REVIEW_LABEL = 'Review what will be published';
  const PUBLISH_LABEL = 'Publish exactly this';
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
      return new Intl.NumberFormat(undefined, { style: 'currency', currency: m.currency }).format(value);
    } catch (e) {
      return `${value.toFixed(digits)} ${m.currency}`;
    }
  }

  function priceText(price, quantity) {
    const amount = money(price);
    const qty = typeof quantity === 'number' ? quantity : null;
    if (!amount) return qty !== null ? `${qty} · price open` : 'price open';
    if (price.per_unit === false) return qty !== null ? `${qty} for ${amount}` : amount;
    const each = `${amount} each`;
    if (qty === null) return each;
    const total = money({ amount_minor: price.amount_minor * qty, currency: price.currency });
    return qty > 1 ? `${qty} × ${each} (${total})` : each;
  }

  function km(d) {
    if (typeof d !== 'number' || !isFinite(d)) return null;
    return new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 }).format(d) + ' km';
  }

  function percent(s) {
    if (typeof s !== 'number' || !isFinite(s)) return null;
    return new Intl.NumberFormat(undefined, { style: 'percent' }).format(Math.max(0, Math.min(1, s)));
  }

  function actionText(a) {
    return { SELL: 'Sell', BUY: 'Buy', OFFER_SERVICE: 'Offer service', SEEK_SERVICE: 'Seek service' }[a] || a || '?';
  }

  function when(ts) {
    if (typeof ts !== 'number') return null;
    const ms = ts > 1e12 ? ts : ts * 1000;
    return new Date(ms).toLocaleString();
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
    return el('span', { className: `badge badge-${kind}`, 'data-testid': 'state', text: s.replace(/_/g, ' ') });
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
      node.append(el('dt', { text: k.replace(/_/g, ' ') }), el('dd', { 'data-key': k, text: shown }));
    }
  }

  // Reachability (p2p/nat.py): is this agent reachable, through which relay, and how each peer is
  // connected (direct, or relayed when hole punching did not work, with the reason).
  function networkSummary(net) {
    if (!net) return { reachability: 'not checked' };
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
      throw new ApiError(0, 'unreachable', 'Your agent peer is not reachable — is `metaspace peer` running?');
    }
    let data = null;
    try { data = await resp.json(); } catch (e) { data = null; }
    if (!resp.ok) {
      if (resp.status === 401) {
        throw new ApiError(401, 'unauthorized', 'The access token was refused: open the link printed by `metaspace web` again.');
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
      renderDeals((data && data.deals) || []);
    },
  };

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
      }, 'Withdraw');
      const meta = [priceText(it.price, it.quantity), it.radius_km ? `within ${it.radius_km} km` : null,
        it.expires ? `until ${when(it.expires)}` : null].filter(Boolean).join(' · ');
      list.append(el('li', { 'data-testid': `intent-${id}`, 'data-id': id, className: it.withdrawn ? 'withdrawn' : null },
        el('div', { className: 'item-head' },
          el('span', { className: 'item-title', text: `${actionText(it.action)} · ${it.category || '?'}` }),
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
    return `reputation ${Math.round(peer.score)}/100${peer.ring ? ' (ring)' : ''}${peer.blocked ? ' · blocked' : ''}`;
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
      const meta = [km(m.distance_km) ? `${km(m.distance_km)} away` : null,
        percent(m.score) ? `score ${percent(m.score)}` : null, peerText(m.peer)].filter(Boolean).join(' · ');
      const negotiate = el('button', {
        className: 'btn-small btn-primary', 'data-testid': `negotiate-${id}`,
        disabled: DONE_MATCH_STATES.has(m.state),
        onclick: (ev) => act(ev.currentTarget, 'POST', '/negotiate/start', ['deals', 'matches'], { match_id: id }),
      }, 'Negotiate');
      list.append(el('li', { 'data-testid': `match-${id}`, 'data-id': id },
        el('div', { className: 'item-head' },
          el('span', { className: 'item-title', text: `${actionText(o.action)} · ${o.category || '?'}` }),
          m.state ? stateBadge(m.state) : null),
        o.text ? el('div', { className: 'explain', text: o.text }) : null,
        attrChips(o.attributes),
        el('div', { className: 'item-meta', text: [priceText(o.price, o.quantity), meta].filter(Boolean).join(' · ') }),
        explanation(m),
        el('div', { className: 'item-actions' }, negotiate)));
    }
    updateEmpty('matches');
  }

  function roundsView(rounds) {
    if (typeof rounds === 'number') return el('div', { className: 'item-meta', text: `${rounds} round(s)` });
    if (!Array.isArray(rounds) || rounds.length === 0) return null;
    const ol = el('ol', { className: 'rounds', 'data-testid': 'rounds' });
    for (const r of rounds) {
      if (!r || typeof r !== 'object') continue;
      const who = r.from === 'me' ? 'you' : r.from === 'them' ? 'them' : (r.from || '');
      const line = [r.round !== undefined ? `round ${r.round}` : null, who, priceText(r.price, r.quantity)]
        .filter(Boolean).join(' · ');
      ol.append(el('li', { text: r.text || line }));
    }
    return ol;
  }

  function dealItem(d, withButtons) {
    const id = String(d.id);
    const who = d.peer && d.peer.handle ? d.peer.handle : (d.counterparty ? short(d.counterparty) : null);
    const meta = [priceText(d.price, d.quantity), who ? `with ${who}` : null, repText(d.peer),
      d.reason ? `reason: ${d.reason}` : null].filter(Boolean).join(' · ');
    let buttons = null;
    if (withButtons && d.needs_approval) {
      const path = `/deals/${encodeURIComponent(id)}`;
      buttons = el('div', { className: 'item-actions' },
        el('button', { className: 'btn-small btn-ok', 'data-testid': `approve-${id}`,
          onclick: (ev) => act(ev.currentTarget, 'POST', `${path}/approve`, ['deals', 'matches']) }, 'Approve'),
        el('button', { className: 'btn-small btn-bad', 'data-testid': `decline-${id}`,
          onclick: (ev) => act(ev.currentTarget, 'POST', `${path}/decline`, ['deals', 'matches']) }, 'Decline'));
    }
    const match = matchesById.get(String(d.match_id));
    const other = match && match.other ? match.other : {};
    const category = d.category || other.category;
    const heading = category ? `${category} · deal ${short(id)}` : `Deal ${short(id)}`;
    return el('li', { 'data-testid': `${withButtons ? 'deal' : 'agreement'}-${id}`, 'data-id': id },
      el('div', { className: 'item-head' },
        el('span', { className: 'item-title', text: heading }),
        stateBadge(d.needs_approval && withButtons ? 'needs approval' : d.state)),
      el('div', { className: 'item-meta', text: meta }),
      withButtons ? roundsView(d.rounds) : (d.agreed_at || d.closed ? el('div', { className: 'item-meta', text: `agreed ${when(d.agreed_at || d.closed) || ''}` }) : null),
      buttons);
  }

  function renderDeals(items) {
    const deals = $('deals');
    const agreements = $('agreements');
    deals.replaceChildren();
    agreements.replaceChildren();
    for (const d of items) {
      if (AGREED_STATES.has(d.state)) agreements.append(dealItem(d, false));
      else deals.append(dealItem(d, true));
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
      setError($('understand-error'), 'Write what you want first.');
      return;
    }
    const body = { text };
    const lat = numberOrNull($('lat'));
    const lon = numberOrNull($('lon'));
    if ((lat === null) !== (lon === null) || Number.isNaN(lat) || Number.isNaN(lon)) {
      setError($('understand-error'), 'Give both latitude and longitude, or neither.');
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
      ? ` · your private limit ${lim.amount_minor / Math.pow(10, currencyDigits(lim.currency))} ${lim.currency} (never published)`
      : '';
    $('draft-confidence').textContent = (conf ? `Confidence ${conf}` : '') + limText;
    const missing = Array.isArray(draft.missing) ? draft.missing : [];
    $('draft-missing').textContent = missing.length ? `Could not tell: ${missing.join(', ')} — fill them in if they matter.` : '';
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
    box.replaceChildren(el('legend', { text: TEXT.chooseCategory }), ...options);
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
    $('confirm-btn').textContent = REVIEW_LABEL;
  }

  function showReview(preview, key) {
    const pub = (preview && preview.published) || {};
    const shown = {};
    for (const k of PREVIEW_KEYS) if (k in pub) shown[k] = pub[k];
    if (shown.text === null || shown.text === undefined) shown.text = '(no free text)';
    kvList($('preview-published'), shown);
    const priv = (preview && preview.private) || {};
    $('preview-private').textContent = priv.limit_text
      ? `Kept private (never published or sent): your limit ${priv.limit_text}` : '';
    const warnings = Array.isArray(preview && preview.warnings) ? preview.warnings : [];
    $('preview-warnings').replaceChildren(...warnings.map((w) => el('li', { text: w })));
    show($('draft-preview'), true);
    reviewed = key;
    $('confirm-btn').textContent = PUBLISH_LABEL;
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
    if (!categoryChosen) throw new Error(TEXT.mustChoose);
    const category = $('draft-category').value.trim();
    if (category) body.category = category; else delete body.category;
    const amount = numberOrNull($('draft-price'));
    const currency = $('draft-currency').value.trim().toUpperCase();
    if (amount === null) delete body.price;
    else {
      if (Number.isNaN(amount) || amount < 0) throw new Error('The price must be a number.');
      if (!currency) throw new Error('Give the currency of the price (e.g. USD).');
      body.price = {
        amount_minor: Math.round(amount * Math.pow(10, currencyDigits(currency))),
        currency, per_unit: $('draft-per-unit').checked,
      };
    }
    const qty = numberOrNull($('draft-quantity'));
    if (qty !== null) {
      if (!Number.isInteger(qty) || qty < 1) throw new Error('The quantity must be a whole number of at least 1.');
      body.quantity = qty;
    }
    const radius = numberOrNull($('draft-radius'));
    if (radius !== null) {
      if (!Number.isInteger(radius) || radius < 0) throw new Error('The radius must be a whole number of km.');
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
    }, (err) => setError($('understand-error'), `Location unavailable: ${err.message}`));
  }

  // ------------------------------------------------------------------ live events

  function setLive(on) {
    live = on;
    const c = $('conn');
    c.textContent = on ? 'live' : 'offline';
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

  function start() {
    token = readToken();
    for (const id of ['notifications', 'intents', 'matches', 'deals', 'agreements']) updateEmpty(id);
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
    refresh(ALL_LISTS);
    connectEvents();
    // a slow safety net when the event stream is down
    setInterval(() => { if (!live) scheduleRefresh(ALL_LISTS); }, 30000);
  }

  document.addEventListener('DOMContentLoaded', start);
})();
