// Meta Space agent page, part 4 of 4 (app.js): understand -> draft -> review -> publish, the live
// event stream (notifications, which lists to refresh) and the start of the page (token, listeners).
// Uses core.js, trust.js and lists.js (window.MetaSpace), loaded before it.
'use strict';

(function () {
  const MS = window.MetaSpace;
  const {
    API, ALL_LISTS, shared, $, t, loadStrings, el, show, setError, updateEmpty, currencyDigits, percent,
    attrChips, kvList, api, refresh, scheduleRefresh,
  } = MS;
  const TOKEN_KEY = 'metaspace.token';
  const MAX_NOTIFICATIONS = 50;
  const PUBLISH_KEYS = ['action', 'category', 'lat', 'lon', 'cell', 'radius_km', 'price', 'quantity',
    'attributes', 'text', 'lang', 'expires_in_s', 'limit'];
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

  let draft = null;
  let draftLocation = {};
  let reviewed = null; // the publish body (as JSON) whose preview is on screen
  // The published fields shown in the review, in this order.
  const PREVIEW_KEYS = ['action', 'category', 'extra_groups', 'attributes', 'price', 'quantity', 'cell', 'radius_km',
    'text', 'lang', 'author', 'contact'];
  let categoryChosen = true;
  let events = null;
  let live = false;

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
    if (!shown.extra_groups) delete shown.extra_groups; // filed under its category's group only
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
    events = new EventSource(`${API}/events?access_token=${encodeURIComponent(shared.token)}`);
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
    shared.token = readToken();
    for (const id of ['notifications', 'intents', 'matches', 'deals', 'agreements', 'blocks']) updateEmpty(id);
    if (!shared.token) {
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
