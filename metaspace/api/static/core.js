// Meta Space agent page, part 1 of 4 (core.js): the shared namespace, labels in the human's language,
// DOM helpers, formatting and the API client. No build step, no external assets; the page loads
// core.js, trust.js, lists.js, app.js in this order (all "defer", so they run in document order once
// the HTML is parsed) and each file adds its functions to window.MetaSpace for the later ones.
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
  const MS = {};
  window.MetaSpace = MS;
  const API = '/api/v1';
  const AGREED_STATES = new Set(['agreed', 'closed']);
  const ALL_LISTS = ['status', 'settings', 'intents', 'matches', 'deals', 'profile', 'blocks'];

  // The state the four files share: app.js sets the token, loadStrings the labels, tips and language.
  const shared = {
    token: null,
    strings: {},  // the page's labels in the human's language (English for what a catalogue lacks)
    tips: [],
    lang: 'en',
  };

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
    const text = has(shared.strings) ? shared.strings[key] : (has(FALLBACK) ? FALLBACK[key] : key);
    return text.replace(/\{(\w+)\}/g, (m, name) => (vars && vars[name] !== undefined ? String(vars[name]) : m));
  }

  function applyStrings() {
    document.documentElement.lang = shared.lang;
    for (const node of document.querySelectorAll('[data-i18n]')) {
      const key = node.getAttribute('data-i18n');
      if (Object.prototype.hasOwnProperty.call(shared.strings, key)) node.textContent = shared.strings[key];
    }
    for (const attr of ['placeholder', 'title']) {
      for (const node of document.querySelectorAll(`[data-i18n-${attr}]`)) {
        const key = node.getAttribute(`data-i18n-${attr}`);
        if (Object.prototype.hasOwnProperty.call(shared.strings, key)) node.setAttribute(attr, shared.strings[key]);
      }
    }
  }

  async function loadStrings() {
    try {
      const data = await api('GET', '/i18n');
      shared.strings = (data && data.strings) || {};
      shared.tips = (data && data.tips) || [];
      shared.lang = (data && data.lang) || 'en';
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
      return new Intl.NumberFormat(shared.lang, { style: 'currency', currency: m.currency }).format(value);
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
    return new Intl.NumberFormat(shared.lang, { maximumFractionDigits: 1 }).format(d) + ' km';
  }

  function percent(s) {
    if (typeof s !== 'number' || !isFinite(s)) return null;
    return new Intl.NumberFormat(shared.lang, { style: 'percent' }).format(Math.max(0, Math.min(1, s)));
  }

  function actionText(a) {
    return a ? t(`action_${a}`) : '?';
  }

  function catText(code) {
    const key = `cat_${code}`;
    return code && Object.prototype.hasOwnProperty.call(shared.strings, key) ? shared.strings[key] : (code || '?');
  }

  function when(ts) {
    if (typeof ts !== 'number') return null;
    const ms = ts > 1e12 ? ts : ts * 1000;
    return new Date(ms).toLocaleString(shared.lang);
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
    const shown = Object.prototype.hasOwnProperty.call(shared.strings, key) ? shared.strings[key] : s.replace(/_/g, ' ');
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
      const label = Object.prototype.hasOwnProperty.call(shared.strings, `k_${k}`) ? shared.strings[`k_${k}`] : k.replace(/_/g, ' ');
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
    const opts = { method, headers: { Authorization: 'Bearer ' + shared.token }, cache: 'no-store' };
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


  // Calls the API from a button (disabled meanwhile), reports a failure, then refreshes the lists.
  async function act(button, method, path, lists, body) {
    button.disabled = true;
    try {
      await api(method, path, body);
      setError($('error-banner'), '');
    } catch (err) {
      reportError(err);
      button.disabled = false;
    }
    await MS.refresh(lists);  // lists.js
  }

  Object.assign(MS, {
    API, AGREED_STATES, ALL_LISTS, shared, $, t, loadStrings, el, show, setError, updateEmpty, currencyDigits,
    money, priceText, km, percent, actionText, catText, when, short, attrChips, stateBadge, kvList,
    networkSummary, ApiError, api, reportError, act,
  });
})();
