// idicbot admin page: offers (list, edit with live preview, history, diff,
// rollback) and segment rules (preview, save). Plain DOM, no libraries.
'use strict';

const csrf = document.querySelector('meta[name="csrf-token"]').content;
const view = document.getElementById('view');
let segmentNames = [];

// h builds an element: h('div', {class: 'x', onclick: fn}, child, 'text').
function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids.flat()) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

// put replaces el's children, skipping empty ones.
function put(el, ...kids) {
  el.replaceChildren(...kids.flat().filter((k) => k !== null && k !== undefined && k !== false));
}

async function api(method, path, body) {
  const opts = {method, credentials: 'same-origin', headers: {'X-CSRF-Token': csrf}};
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  const r = await fetch('/api/admin' + path, opts);
  const ct = r.headers.get('Content-Type') || '';
  const data = ct.includes('json') ? await r.json() : await r.text();
  if (r.status === 401) { location.reload(); }
  if (!r.ok) {
    const e = new Error((data && data.error && data.error.message) || r.statusText);
    e.status = r.status;
    e.detail = (data && data.error) || {};
    throw e;
  }
  return data;
}

let toastTimer;
function toast(msg) {
  const t = document.getElementById('toast');
  t.textContent = msg;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, 4000);
}

function fmtTime(s) {
  if (!s || s.startsWith('0001')) return '';
  const d = new Date(s);
  return d.toLocaleString();
}

function validityText(v) {
  const parts = [];
  if (v && v.from) parts.push('from ' + new Date(v.from).toLocaleDateString());
  if (v && v.until) parts.push('until ' + new Date(v.until).toLocaleDateString());
  if (v && v.last_days_of_month) parts.push('last ' + v.last_days_of_month + ' days of month');
  if (v && v.birthday_month) parts.push('birthday month');
  return parts.length ? parts.join(', ') : 'always';
}

// ---- routing ----

function route() {
  const hash = location.hash || '#/offers';
  const parts = hash.slice(2).split('/').map(decodeURIComponent);
  for (const a of document.querySelectorAll('.top nav a')) {
    a.classList.toggle('active', hash.startsWith(a.getAttribute('href')));
  }
  put(view, h('p', {class: 'muted'}, 'Loading…'));
  const fail = (e) => put(view, h('p', {class: 'alert'}, e.message));
  switch (parts[0]) {
    case 'segments': return showSegments().catch(fail);
    case 'new': return showEditor(null).catch(fail);
    case 'offer':
      if (parts[2] === 'history') return showHistory(parts[1]).catch(fail);
      return showEditor(parts[1]).catch(fail);
    default: return showOffers().catch(fail);
  }
}

async function loadSegments() {
  const res = await api('GET', '/segments');
  segmentNames = res.segments.map((s) => s.name);
  return res;
}

// ---- offer list ----

async function showOffers() {
  const [{offers}] = await Promise.all([api('GET', '/offers'), loadSegments()]);
  const rows = offers.map((o) => h('tr', {'data-offer': o.id},
    h('td', {}, h('a', {href: '#/offer/' + encodeURIComponent(o.id), class: 'offer-link'}, o.name || o.id), h('div', {class: 'muted'}, o.id)),
    h('td', {}, h('span', {class: 'badge ' + o.status}, o.status)),
    h('td', {}, (o.segments && o.segments.length) ? o.segments.join(', ') : 'all'),
    h('td', {class: 'hide-sm'}, validityText(o.validity)),
    h('td', {class: 'num'}, o.priority),
    h('td', {class: 'num'}, o.stats.shown),
    h('td', {class: 'num'}, o.stats.accepted),
    h('td', {class: 'num'}, (o.stats.conversion * 100).toFixed(1) + '%'),
    h('td', {class: 'hide-sm'}, 'v' + o.version, h('div', {class: 'muted'}, o.updated_by || '')),
    h('td', {},
      h('button', {class: 'status-btn', onclick: () => setStatus(o.id, o.status === 'active' ? 'pause' : 'activate')},
        o.status === 'active' ? 'Pause' : 'Activate'),
      ' ', h('a', {href: '#/offer/' + encodeURIComponent(o.id) + '/history'}, 'History'))));
  put(view, 
    h('div', {class: 'bar'}, h('h1', {class: 'grow'}, 'Offers'), h('a', {href: '#/new'}, h('button', {class: 'primary'}, 'New offer'))),
    h('div', {class: 'scroll card'}, h('table', {id: 'offers'},
      h('thead', {}, h('tr', {}, ['Offer', 'Status', 'Segments', 'Validity', 'Priority', 'Shown', 'Accepted', 'Conversion', 'Version', ''].map((t, i) =>
        h('th', {class: (i === 3 || i === 8) ? 'hide-sm' : null}, t)))),
      h('tbody', {}, rows))));
}

async function setStatus(id, action) {
  try {
    const res = await api('POST', '/offers/' + encodeURIComponent(id) + '/' + action);
    toast(`${id} is ${res.offer.status} (version ${res.offer.version})`);
    route();
  } catch (e) {
    toast(e.message);
  }
}

// ---- offer editor ----

const FIELDS = ['id', 'name', 'status', 'segments', 'eligibility', 'validity.from', 'validity.until',
  'validity.last_days_of_month', 'validity.birthday_month', 'priority', 'cap_days', 'max_shows', 'code', 'buttons',
  'templates.vi', 'templates.en', 'details.vi', 'details.en'];

function toLocalInput(s) {
  if (!s) return '';
  const d = new Date(s);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// problemText is a problem as the server checked it (crm.Problem), shown
// next to its field: "line 2, column 5: (sample vip customer) reason".
function problemText(p) {
  return (p.line ? `line ${p.line}${p.column ? ', column ' + p.column : ''}: ` : '') +
    (p.segment ? `(sample ${p.segment} customer) ` : '') + p.message;
}

function field(name, label, input, hint) {
  return h('div', {class: 'field', 'data-field': name},
    h('label', {}, label, hint ? h('small', {}, ' ' + hint) : null, input),
    h('div', {class: 'err', id: 'err-' + name}));
}

async function showEditor(id) {
  await loadSegments();
  let offer = {id: '', name: '', status: 'draft', segments: [], templates: {vi: '', en: ''}, details: {}, validity: {}, priority: 10, cap_days: 7, version: 0};
  if (id) offer = (await api('GET', '/offers/' + encodeURIComponent(id))).offer;
  const isNew = !id;
  let version = offer.version;
  const v = offer.validity || {};
  const input = (name, attrs) => h('input', Object.assign({id: 'f-' + name, name}, attrs));
  const area = (name, value, rows) => h('textarea', {id: 'f-' + name, name, rows: rows || 4, class: 'code', spellcheck: 'false'}, value || '');
  const segBoxes = h('div', {class: 'chips', id: 'f-segments'}, segmentNames.map((s) =>
    h('label', {}, h('input', {type: 'checkbox', value: s, checked: (offer.segments || []).includes(s)}), s)));
  const btnKinds = offer.buttons && offer.buttons.length ? offer.buttons : ['accept', 'more', 'decline'];
  const btnBoxes = h('div', {class: 'chips', id: 'f-buttons'}, ['accept', 'more', 'decline'].map((b) =>
    h('label', {}, h('input', {type: 'checkbox', value: b, checked: btnKinds.includes(b)}), b)));

  const form = h('form', {id: 'offer-form', class: 'card', autocomplete: 'off'},
    h('div', {class: 'grid2'},
      field('id', 'Id', input('id', {type: 'text', value: offer.id, readonly: !isNew, required: true, pattern: '[a-z0-9_-]+'}), 'a-z 0-9 _ -'),
      field('name', 'Name', input('name', {type: 'text', value: offer.name}))),
    h('div', {class: 'grid2'},
      field('status', 'Status', h('select', {id: 'f-status', name: 'status'},
        ['draft', 'active', 'paused'].map((s) => h('option', {value: s, selected: offer.status === s}, s)))),
      field('priority', 'Priority', input('priority', {type: 'number', value: offer.priority}), 'higher wins')),
    field('segments', 'Target segments', segBoxes, 'none checked: every segment'),
    field('eligibility', 'Eligibility', area('eligibility', offer.eligibility, 2), 'optional expression, e.g. total_spent > 1000000'),
    h('div', {class: 'grid2'},
      field('validity.from', 'Valid from', input('validity.from', {type: 'datetime-local', value: toLocalInput(v.from)})),
      field('validity.until', 'Valid until', input('validity.until', {type: 'datetime-local', value: toLocalInput(v.until)}))),
    h('div', {class: 'grid2'},
      field('validity.last_days_of_month', 'Last days of month', input('validity.last_days_of_month', {type: 'number', min: 0, max: 28, value: v.last_days_of_month || 0}), '0: any day'),
      field('validity.birthday_month', 'Birthday month only', h('div', {class: 'chips'}, h('label', {}, input('validity.birthday_month', {type: 'checkbox', checked: v.birthday_month}), 'yes')))),
    h('div', {class: 'grid2'},
      field('cap_days', 'Cap (days)', input('cap_days', {type: 'number', min: 0, value: offer.cap_days}), 'once per N days'),
      field('max_shows', 'Max shows', input('max_shows', {type: 'number', min: 0, value: offer.max_shows || 0}), '0: no limit')),
    h('div', {class: 'grid2'},
      field('code', 'Voucher code', input('code', {type: 'text', value: offer.code || ''}), '{{.Code}}'),
      field('buttons', 'Buttons', btnBoxes)),
    field('templates.vi', 'Template (vi)', area('templates.vi', (offer.templates || {}).vi, 4)),
    field('templates.en', 'Template (en)', area('templates.en', (offer.templates || {}).en, 4)),
    field('details.vi', '"Tell me more" (vi)', area('details.vi', (offer.details || {}).vi, 3)),
    field('details.en', '"Tell me more" (en)', area('details.en', (offer.details || {}).en, 3)),
    h('p', {class: 'muted'}, 'Fields: {{.Name}} {{.FirstName}} {{.Segment}} {{.Code}} {{.Offer}} {{.Product}} {{.ProductPrice}} {{.Orders}} {{.TotalSpent}} {{.Points}} {{.Until}} — helpers: vnd, percent, upper, lower, title, default'),
    h('div', {class: 'err', id: 'err-offer'}),
    h('div', {id: 'conflict'}),
    h('div', {class: 'bar'},
      h('button', {type: 'submit', class: 'primary', id: 'save'}, isNew ? 'Create offer' : 'Save'),
      h('span', {class: 'muted', id: 'version'}, isNew ? 'new offer' : 'editing version ' + version),
      !isNew ? h('a', {href: '#/offer/' + encodeURIComponent(offer.id) + '/history'}, 'History') : null));

  // The preview target: a sample of a target segment or a real customer.
  const target = h('select', {id: 'preview-target'});
  const search = h('input', {type: 'search', id: 'customer-q', placeholder: 'Find a customer: name, phone or id'});
  const hits = h('ul', {class: 'hits', id: 'customer-hits'});
  let customer = null;
  const refreshTargets = () => {
    const segs = collect().segments;
    const list = segs.length ? segs : segmentNames;
    const keep = target.value;
    put(target, ...list.map((s) => h('option', {value: 'segment:' + s}, 'Sample ' + s + ' customer')),
      customer ? h('option', {value: 'customer:' + customer.id}, customer.name + ' (#' + customer.id + ', ' + customer.segment + ')') : null);
    if ([...target.options].some((o) => o.value === keep)) target.value = keep;
  };
  let searchTimer;
  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(async () => {
      const q = search.value.trim();
      if (!q) { put(hits); return; }
      try {
        const res = await api('GET', '/customers?q=' + encodeURIComponent(q));
        put(hits, ...res.customers.map((c) => h('li', {}, h('button', {type: 'button', onclick: () => {
          customer = c; put(hits); search.value = ''; refreshTargets();
          target.value = 'customer:' + c.id; schedulePreview();
        }}, `${c.name || '(no name)'} · #${c.id} · ${c.segment}${c.phone ? ' · ' + c.phone : ''}`))));
        if (!res.customers.length) put(hits, h('li', {class: 'muted'}, 'No customer found.'));
      } catch (e) { put(hits, h('li', {class: 'err'}, e.message)); }
    }, 250);
  });
  const out = h('div', {id: 'preview-out'});
  const preview = h('aside', {class: 'card preview', id: 'preview'},
    h('h2', {}, 'Preview'),
    h('label', {}, 'For', target), search, hits, out);

  put(view, 
    h('div', {class: 'bar'}, h('h1', {class: 'grow'}, isNew ? 'New offer' : offer.name), h('a', {href: '#/offers'}, '← Offers')),
    h('div', {class: 'editor'}, form, preview));
  refreshTargets();

  function val(name) { return document.getElementById('f-' + name).value; }
  // trimmed is a text field without surrounding spaces, or as stored when
  // untouched (so opening and saving an offer changes nothing).
  function trimmed(name, stored) { const s = val(name); return s === (stored || '') ? s : s.trim(); }
  function num(name) { const n = val(name); return n === '' ? 0 : Number(n); }
  function collect() {
    const checked = (id) => [...document.querySelectorAll('#' + id + ' input:checked')].map((i) => i.value);
    const o = {id: val('id').trim(), name: val('name'), status: val('status'), segments: checked('f-segments'),
      eligibility: trimmed('eligibility', offer.eligibility), priority: num('priority'), cap_days: num('cap_days'), max_shows: num('max_shows'),
      code: trimmed('code', offer.code), templates: {}, details: {}, validity: {}};
    let buttons = checked('f-buttons');
    if (buttons.length !== 3) o.buttons = buttons;
    for (const l of ['vi', 'en']) {
      if (val('templates.' + l).trim()) o.templates[l] = val('templates.' + l);
      if (val('details.' + l).trim()) o.details[l] = val('details.' + l);
    }
    // A date the admin did not touch is sent back as stored: the input
    // shows minutes in the browser's zone, and converting it back would
    // drop the seconds and the zone, a change nobody made.
    const date = (name, stored) => {
      const s = val('validity.' + name);
      if (!s) return undefined;
      if (stored && s === toLocalInput(stored)) return stored;
      return new Date(s).toISOString();
    };
    const from = date('from', v.from), until = date('until', v.until);
    if (from) o.validity.from = from;
    if (until) o.validity.until = until;
    if (num('validity.last_days_of_month')) o.validity.last_days_of_month = num('validity.last_days_of_month');
    if (document.getElementById('f-validity.birthday_month').checked) o.validity.birthday_month = true;
    return o;
  }

  function showProblems(problems) {
    for (const f of FIELDS.concat(['offer'])) {
      const e = document.getElementById('err-' + f);
      if (e) e.textContent = '';
      const inp = document.getElementById('f-' + f);
      if (inp) inp.classList.remove('invalid');
    }
    for (const p of problems || []) {
      let f = p.field;
      if (!document.getElementById('err-' + f)) f = 'offer';
      const e = document.getElementById('err-' + f);
      const text = (f === 'offer' ? p.field + ': ' : '') + problemText(p);
      e.textContent = e.textContent ? e.textContent + '\n' + text : text;
      const inp = document.getElementById('f-' + f);
      if (inp) inp.classList.add('invalid');
    }
  }

  let previewTimer, previewSeq = 0;
  function schedulePreview() {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(runPreview, 250);
  }
  async function runPreview() {
    const seq = ++previewSeq;
    const body = {offer: collect()};
    const [kind, ref] = (target.value || '').split(/:(.*)/);
    if (kind === 'customer') body.customer_id = Number(ref); else if (ref) body.segment = ref;
    try {
      const p = await api('POST', '/offers/preview', body);
      if (seq !== previewSeq) return;
      showProblems(p.problems);
      put(out, 
        h('p', {class: 'muted'}, (p.customer.sample ? 'Sample customer ' : 'Customer ') + (p.customer.name || '') +
          ' · segment ' + p.customer.segment + ' · ' + (p.eligible ? 'would be shown now' : 'not shown now (status, segment, validity or eligibility)')),
        ...p.texts.map((t) => h('div', {class: 'lang', 'data-lang': t.lang},
          h('div', {class: 'tag'}, t.lang + (t.fallback ? ' (no ' + t.lang + ' template: uses ' + t.fallback + ')' : '')),
          t.error ? h('div', {class: 'err'}, t.error.field + ': ' + problemText(t.error)) : null,
          t.text ? h('div', {class: 'bubble', id: 'preview-' + t.lang}, t.text) : null,
          t.details ? h('div', {class: 'details'}, 'ℹ️ ' + t.details) : null,
          h('div', {class: 'btns'}, t.buttons.map((b) => h('span', {}, b.label))))));
      out.dataset.state = p.problems.length ? 'invalid' : 'ok';
    } catch (e) {
      if (seq !== previewSeq) return;
      put(out, h('p', {class: 'alert'}, e.message));
    }
  }

  form.addEventListener('input', (ev) => {
    if (ev.target.closest('#f-segments')) refreshTargets();
    schedulePreview();
  });
  form.addEventListener('change', schedulePreview);
  target.addEventListener('change', schedulePreview);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const save = document.getElementById('save');
    save.disabled = true;
    document.getElementById('conflict').replaceChildren();
    const o = collect();
    try {
      let res;
      if (isNew) res = await api('POST', '/offers', o);
      else res = await api('PUT', '/offers/' + encodeURIComponent(offer.id), Object.assign(o, {version}));
      version = res.offer.version;
      document.getElementById('version').textContent = 'saved: version ' + version;
      showProblems([]);
      toast(`Saved ${res.offer.id}, version ${res.offer.version}. The next message uses it.`);
      if (isNew) location.hash = '#/offer/' + encodeURIComponent(res.offer.id);
    } catch (e) {
      if (e.status === 409) {
        document.getElementById('conflict').replaceChildren(h('div', {class: 'alert'}, e.message + ' ',
          h('button', {type: 'button', onclick: route}, 'Reload (your changes are lost)')));
      } else if (e.detail && e.detail.problems) {
        showProblems(e.detail.problems);
        toast('Not saved: ' + e.detail.problems.length + ' problem(s), shown next to the fields.');
      } else {
        showProblems([{field: 'offer', message: e.message}]);
      }
    } finally {
      save.disabled = false;
    }
  });
  runPreview();
}

// ---- history ----

async function showHistory(id) {
  const {versions} = await api('GET', '/offers/' + encodeURIComponent(id) + '/versions');
  const current = versions.length ? versions[0].version : 0;
  const diffBox = h('div', {id: 'diff'});
  const showDiff = async (from, to) => {
    try {
      const d = await api('GET', `/offers/${encodeURIComponent(id)}/diff?from=${from}&to=${to}`);
      put(diffBox, h('h2', {}, `Version ${from} → ${to}`), h('div', {class: 'diff'},
        d.lines.map((l) => h('div', {class: l.op === '+' ? 'add' : l.op === '-' ? 'del' : ''}, l.op + ' ' + l.text))));
      diffBox.scrollIntoView({block: 'nearest'});
    } catch (e) { put(diffBox, h('p', {class: 'alert'}, e.message)); }
  };
  const rollback = async (ver) => {
    try {
      const res = await api('POST', `/offers/${encodeURIComponent(id)}/rollback`, {version: ver});
      toast(`Rolled back to version ${ver}: now version ${res.offer.version}.`);
      route();
    } catch (e) { toast(e.message); }
  };
  put(view, 
    h('div', {class: 'bar'}, h('h1', {class: 'grow'}, 'History of ' + id),
      h('a', {href: '#/offer/' + encodeURIComponent(id)}, 'Edit'), h('a', {href: '#/offers'}, '← Offers')),
    h('div', {class: 'scroll card'}, h('table', {id: 'versions'},
      h('thead', {}, h('tr', {}, ['Version', 'When', 'Who', 'From', 'What', ''].map((t) => h('th', {}, t)))),
      h('tbody', {}, versions.map((v) => h('tr', {'data-version': v.version},
        h('td', {}, 'v' + v.version, v.version === current ? h('div', {class: 'muted'}, 'current') : null),
        h('td', {}, fmtTime(v.updated_at)),
        h('td', {}, v.updated_by || ''),
        h('td', {}, v.origin || ''),
        h('td', {}, v.change, h('div', {}, h('span', {class: 'badge ' + v.status}, v.status))),
        h('td', {},
          v.version > 1 ? h('button', {class: 'diff-btn', onclick: () => showDiff(v.version - 1, v.version)}, 'Diff') : null, ' ',
          v.version !== current ? h('button', {class: 'rollback-btn', onclick: () => rollback(v.version)}, 'Roll back to v' + v.version) : null)))))),
    diffBox);
}

// ---- segments ----

async function showSegments() {
  const {segments, history} = await loadSegments();
  const rows = segments.map((s) => {
    const editor = h('div', {class: 'seg-editor', hidden: true});
    const rule = h('textarea', {class: 'code', rows: 2, spellcheck: 'false'}, s.rule);
    const result = h('div', {class: 'seg-result'});
    const preview = async () => {
      try {
        const p = await api('POST', '/segments/' + encodeURIComponent(s.name) + '/preview', {rule: rule.value});
        const moves = Object.entries(p.moves).sort((a, b) => b[1] - a[1]);
        put(result, h('p', {class: 'note'},
          `${p.in} customer(s) would move in, ${p.out} out: ${p.current} → ${p.after} of ${p.customers}.`),
          moves.length ? h('ul', {class: 'moves'}, moves.map(([k, n]) => h('li', {}, `${k}: ${n}`))) : null);
      } catch (e) { put(result, h('p', {class: 'alert'}, e.message)); }
    };
    const save = async () => {
      try {
        const res = await api('PUT', '/segments/' + encodeURIComponent(s.name), {rule: rule.value, expected_rule: s.rule});
        toast(`Saved the rule of ${s.name}; ${res.moved} customer(s) moved.`);
        route();
      } catch (e) { put(result, h('p', {class: 'alert'}, e.message)); }
    };
    editor.append(h('label', {}, 'Rule', rule), h('div', {class: 'bar'},
      h('button', {type: 'button', class: 'seg-preview', onclick: preview}, 'Validate & preview'),
      h('button', {type: 'button', class: 'primary seg-save', onclick: save}, 'Save'),
      h('button', {type: 'button', onclick: () => { editor.hidden = true; }}, 'Cancel')), result);
    return h('tr', {'data-segment': s.name},
      h('td', {class: 'num'}, s.position),
      h('td', {}, h('strong', {}, s.name), h('div', {class: 'muted'}, (s.label && (s.label.en || s.label.vi)) || ''),
        h('div', {class: 'muted hide-sm'}, s.description || '')),
      h('td', {}, h('code', {}, s.rule), editor),
      h('td', {class: 'num seg-count'}, s.count),
      h('td', {}, h('button', {type: 'button', class: 'seg-edit', onclick: () => { editor.hidden = false; rule.focus(); }}, 'Edit')));
  });
  put(view, 
    h('h1', {}, 'Segments'),
    h('p', {class: 'muted'}, 'Rules are evaluated in order; the first that is true is the customer\'s segment.'),
    h('div', {class: 'scroll card'}, h('table', {id: 'segments'},
      h('thead', {}, h('tr', {}, ['#', 'Segment', 'Rule', 'Customers', ''].map((t) => h('th', {}, t)))),
      h('tbody', {}, rows))),
    h('h2', {}, 'Rule changes'),
    history.length ? h('div', {class: 'scroll card'}, h('table', {},
      h('thead', {}, h('tr', {}, ['When', 'Who', 'Segment', 'From', 'To', 'Moved'].map((t) => h('th', {}, t)))),
      h('tbody', {}, history.map((c) => h('tr', {},
        h('td', {}, fmtTime(c.time)), h('td', {}, c.by + ' (' + c.origin + ')'), h('td', {}, c.segment),
        h('td', {}, h('code', {}, c.from)), h('td', {}, h('code', {}, c.to)), h('td', {class: 'num'}, c.moved))))))
      : h('p', {class: 'muted'}, 'No rule has been changed here yet.'));
}

window.addEventListener('hashchange', route);
route();
