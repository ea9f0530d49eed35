// meshwire console: renders the state the console process streams at /api/events (server-sent
// events, one "state" event per change). Plain modern JS, no dependencies, no build step.
// Everything from the hub is inserted as text (textContent or escaped), never as markup.
'use strict';

const GRAPH_MAX = 60; // above this many clusters the graph says "use the matrix" and the matrix opens
const LINK_ROWS = 400; // the links table shows this many rows at most (links not up first)
const $ = (id) => document.getElementById(id);

let state = null;        // the latest state document
let view = 'graph';      // 'graph' | 'matrix'
let selected = null;     // {cluster: id} | {from, to}
let matrixChosen = false;

// ---- helpers --------------------------------------------------------------------------------

function esc(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v; else if (k === 'text') e.textContent = v; else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

function svg(tag, attrs = {}) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function age(iso) {
  if (!iso) return '–';
  let s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return s + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm' + String(s % 60).padStart(2, '0') + 's';
  if (s < 86400) return Math.floor(s / 3600) + 'h' + String(Math.floor(s % 3600 / 60)).padStart(2, '0') + 'm';
  return Math.floor(s / 86400) + 'd' + Math.floor(s % 86400 / 3600) + 'h';
}

function clock(iso) {
  if (!iso) return '–';
  return new Date(iso).toLocaleTimeString([], {hour12: false});
}

function bytes(v) {
  let n = Number(v ?? 0);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n : n.toFixed(1)) + ' ' + units[i];
}

function rtt(d) {
  if (!d) return '–';
  const s = parseFloat(d); // proto JSON Duration: "0.012s"
  return isNaN(s) ? d : (s < 1 ? (s * 1000).toFixed(1) + ' ms' : s.toFixed(2) + ' s');
}

// A link report's state as the page colours it. "relayed" and "held" are read from whatever the
// hub reports (a path field or a state name), so they show as soon as the admin API carries them.
function linkState(report) {
  const st = report?.status ?? {};
  const name = String(st.state ?? '');
  if (name.includes('HELD')) return 'held';
  if (name.includes('RELAY') || String(pathField(report) ?? '').includes('RELAY')) return 'relayed';
  if (name.endsWith('_UP')) return 'up';
  if (name.endsWith('_DOWN')) return 'down';
  return 'unknown';
}

const SEVERITY = {down: 4, held: 3, relayed: 2, up: 1, unknown: 0};
function worst(a, b) { return SEVERITY[a] >= SEVERITY[b] ? a : b; }

// The path a link takes ("direct", "relayed"), when the hub reports one.
function linkPath(report) {
  const path = pathField(report);
  if (!path || String(path).endsWith('UNSPECIFIED')) return null;
  return String(path).replace(/^[A-Z_]*PATH_/, '').toLowerCase();
}

function pathField(report) {
  const entry = Object.entries(report?.status ?? {}).find(([k]) => k.toLowerCase().includes('path'));
  return entry ? entry[1] : null;
}

// ---- derived model ------------------------------------------------------------------------

function model() {
  const mesh = state?.mesh;
  if (!mesh) return {clusters: [], byId: new Map(), links: new Map(), ids: []};
  const byId = new Map(mesh.clusters.map((c) => [c.record.clusterId, c]));
  const links = new Map(); // "from>to" -> link entry
  for (const l of mesh.links) {
    l.state = linkState(l.report); // once per update: the matrix and the table read it ~40,000 times at 200 clusters
    l.key = l.report.fromClusterId + '>' + l.report.toClusterId;
    links.set(l.key, l);
  }
  const ids = [...byId.keys()].sort();
  return {clusters: mesh.clusters, byId, links, ids};
}

function matchesFilter(c, f) {
  if (!f) return true;
  const r = c.record;
  if (r.clusterId.toLowerCase().includes(f)) return true;
  return Object.entries(r.labels ?? {}).some(([k, v]) => (k + '=' + v).toLowerCase().includes(f));
}

function visibleIds(m) {
  const f = $('filter').value.trim().toLowerCase();
  return m.ids.filter((id) => matchesFilter(m.byId.get(id), f));
}

// ---- rendering ----------------------------------------------------------------------------

function render() {
  if (!state) return;
  const started = performance.now();
  const hub = state.hub;
  const mesh = state.mesh;
  document.body.dataset.connection = hub.connection;
  document.body.classList.toggle('stale', !!state.stale);
  $('stale-mark').hidden = !state.stale;
  $('hub-status').textContent = {
    CONNECTED: 'hub connected', CONNECTING: 'connecting to hub…',
    UNREACHABLE: 'hub unreachable', REFUSED: 'credentials refused',
  }[hub.connection] ?? hub.connection;
  $('hub-address').textContent = hub.address;
  $('mesh-uid').textContent = mesh?.meshUid || '–';
  $('revision').textContent = mesh?.revision ?? '–';
  $('cluster-count').textContent = mesh ? String(mesh.clusters.length) : '–';
  $('agents-connected').textContent = mesh ? String(mesh.connectedAgents) : '–';
  $('fetched-at').textContent = mesh ? clock(mesh.fetchedAt) : '–';
  renderBanner();
  const m = model();
  if (!matrixChosen) setView(m.ids.length > GRAPH_MAX ? 'matrix' : 'graph', false);
  if (view === 'graph') renderGraph(m); else renderMatrix(m);
  renderClusters(m);
  renderLinks(m);
  renderAudit();
  renderDetails(m);
  const missing = state.notInAdminApi ?? [];
  $('not-in-api').textContent = missing.length
    ? 'Not shown: ' + missing.join(', ') + ' (the hub\'s admin API does not report these yet).' : '';
  document.body.dataset.renderMs = String(Math.round(performance.now() - started));
}

function renderBanner() {
  const b = $('banner');
  const hub = state?.hub;
  let text = null;
  if (hub && hub.connection === 'UNREACHABLE') {
    text = `Hub ${hub.address} unreachable since ${clock(hub.since)}: ${hub.detail}. Retrying.`;
  } else if (hub && hub.connection === 'REFUSED') {
    text = `Hub ${hub.address} refused the admin credentials since ${clock(hub.since)}: ${hub.detail}. Retrying.`;
  } else if (hub && hub.connection === 'CONSOLE_DOWN') {
    text = 'The console process is not answering; retrying.';
  }
  if (text && state.stale) text += ` Showing the last known mesh, fetched ${clock(state.mesh.fetchedAt)} (stale).`;
  b.hidden = !text;
  b.textContent = text ?? '';
}

function edgeState(m, a, b) {
  const ab = m.links.get(a + '>' + b);
  const ba = m.links.get(b + '>' + a);
  if (!ab && !ba) return null;
  return worst(ab ? ab.state : 'unknown', ba ? ba.state : 'unknown');
}

function renderGraph(m) {
  const root = $('graph');
  root.replaceChildren();
  const ids = visibleIds(m);
  if (ids.length > GRAPH_MAX) {
    root.append(el('p', {class: 'too-many', text: `${ids.length} clusters: too many for a readable graph. Use the matrix, or filter.`}));
    return;
  }
  const W = 900, H = 500, cx = W / 2, cy = H / 2;
  const r = ids.length <= 1 ? 0 : Math.min(W, H) / 2 - 50;
  const pos = new Map(ids.map((id, i) => {
    const a = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, ids.length);
    return [id, [cx + r * Math.cos(a), cy + r * Math.sin(a)]];
  }));
  const s = svg('svg', {viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'mesh graph'});
  const problemsOnly = $('problems-only').checked;
  for (let i = 0; i < ids.length; i++) {
    for (let j = i + 1; j < ids.length; j++) {
      const st = edgeState(m, ids[i], ids[j]);
      if (!st || (problemsOnly && st === 'up')) continue;
      const [x1, y1] = pos.get(ids[i]);
      const [x2, y2] = pos.get(ids[j]);
      const line = svg('line', {x1, y1, x2, y2, class: 'edge ' + st, 'data-edge': ids[i] + '|' + ids[j], 'data-state': st});
      const title = svg('title');
      title.textContent = `${ids[i]} ↔ ${ids[j]}: ${st}`;
      line.append(title);
      line.addEventListener('click', () => select({from: ids[i], to: ids[j]}));
      s.append(line);
    }
  }
  for (const id of ids) {
    const c = m.byId.get(id);
    const [x, y] = pos.get(id);
    const g = svg('g', {class: 'node' + (c.connected ? '' : ' disconnected') + (selected?.cluster === id ? ' selected' : ''),
      'data-cluster': id, transform: `translate(${x},${y})`});
    g.append(svg('circle', {r: ids.length > 24 ? 9 : 16}));
    const t = svg('text', {y: ids.length > 24 ? 22 : 34});
    t.textContent = id.length > 18 ? id.slice(0, 17) + '…' : id;
    const title = svg('title');
    title.textContent = id + (c.connected ? ' (agent connected)' : ' (agent not connected)');
    g.append(t, title);
    g.addEventListener('click', () => select({cluster: id}));
    s.append(g);
  }
  root.append(s);
}

function renderMatrix(m) {
  const root = $('matrix');
  const ids = visibleIds(m);
  const problemsOnly = $('problems-only').checked;
  // Rows and columns of clusters with a problem link only, when asked.
  let rows = ids;
  if (problemsOnly) {
    const problem = (a, b) => ['down', 'held', 'relayed'].includes(cellState(m, a, b));
    rows = ids.filter((a) => ids.some((b) => a !== b && (problem(a, b) || problem(b, a))));
  }
  const E = new Map(rows.map((id) => [id, esc(id)])); // escaped once, used 2 x 40,000 times at 200 clusters
  const parts = ['<table><thead><tr><th></th>'];
  for (const b of rows) parts.push(`<th data-col="${E.get(b)}">${E.get(b)}</th>`);
  parts.push('</tr></thead><tbody>');
  for (const a of rows) {
    const ea = E.get(a);
    parts.push(`<tr><th data-row="${ea}">${ea}</th>`);
    for (const b of rows) {
      if (a === b) { parts.push('<td class="self"></td>'); continue; }
      const cls = cellState(m, a, b) ?? 'empty';
      const eb = E.get(b);
      parts.push(`<td class="${cls}" data-from="${ea}" data-to="${eb}" data-state="${cls}" title="${ea} → ${eb}: ${cls === 'empty' ? 'no report' : cls}"></td>`);
    }
    parts.push('</tr>');
  }
  parts.push('</tbody></table>');
  let html = parts.join('');
  if (!rows.length) html = `<p class="hint">${problemsOnly ? 'No link that is not up.' : 'No cluster matches.'}</p>`;
  root.innerHTML = html; // every value above is escaped
}

function cellState(m, a, b) {
  const l = m.links.get(a + '>' + b);
  return l ? l.state : null;
}

function renderClusters(m) {
  const body = document.querySelector('#clusters tbody');
  const f = $('filter').value.trim().toLowerCase();
  const rows = [];
  for (const id of m.ids) {
    const c = m.byId.get(id);
    if (!matchesFilter(c, f)) continue;
    const r = c.record;
    const labels = el('td');
    for (const [k, v] of Object.entries(r.labels ?? {})) labels.append(el('span', {class: 'label', text: `${k}=${v}`}));
    const tr = el('tr', {'data-cluster': id, class: selected?.cluster === id ? 'selected' : null},
      el('td', {text: id}),
      el('td', {text: (c.revoked ? 'revoked' : c.connected ? 'connected' : 'not connected')}),
      el('td', {class: 'mono', text: (r.gatewayEndpoints ?? []).join(', ')}),
      el('td', {class: 'mono', text: (r.podCidrs ?? []).join(', ')}),
      el('td', {class: 'mono', text: (r.serviceCidrs ?? []).join(', ') || '–'}),
      labels,
      el('td', {'data-age': c.lastSeen ?? '', text: c.lastSeen ? age(c.lastSeen) + ' ago' : '–'}),
      el('td', {text: r.generation}),
      el('td', {text: r.agentVersion || '–'}));
    tr.addEventListener('click', () => select({cluster: id}));
    rows.push(tr);
  }
  body.replaceChildren(...rows);
}

function renderLinks(m) {
  const body = document.querySelector('#links tbody');
  const visible = new Set(visibleIds(m));
  const problemsOnly = $('problems-only').checked;
  const rows = [];
  const shown = [...m.links.values()].filter((l) => visible.has(l.report.fromClusterId) || visible.has(l.report.toClusterId))
    .filter((l) => !problemsOnly || l.state !== 'up');
  const up = (l) => (l.state === 'up' ? 1 : 0);
  const links = shown.sort((x, y) => up(x) - up(y) || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0)).slice(0, LINK_ROWS);
  for (const l of links) {
    const rep = l.report;
    const st = l.state;
    const s = rep.status ?? {};
    const path = linkPath(rep);
    const key = rep.fromClusterId + '>' + rep.toClusterId;
    const isSel = selected && selected.from === rep.fromClusterId && selected.to === rep.toClusterId;
    const tr = el('tr', {'data-link': key, 'data-state': st, class: isSel ? 'selected' : null},
      el('td', {text: rep.fromClusterId}),
      el('td', {text: rep.toClusterId}),
      el('td', {}, el('span', {class: 'state ' + st, text: st})),
      el('td', {'data-age': s.latestHandshake ?? '', text: s.latestHandshake ? age(s.latestHandshake) : 'never'}),
      el('td', {text: rtt(s.rtt)}),
      el('td', {text: bytes(s.rxBytes)}),
      el('td', {text: bytes(s.txBytes)}),
      el('td', {class: 'mono', text: (s.endpoint || '–') + (path ? ' · ' + path : '')}),
      el('td', {'data-age': l.lastChange ?? '', 'data-age-prefix': l.lastChangeObserved ? '' : '≥ ',
        text: l.lastChange ? (l.lastChangeObserved ? '' : '≥ ') + age(l.lastChange) + ' ago' : '–'}),
      el('td', {'data-age': rep.observedAt ?? '', text: rep.observedAt ? age(rep.observedAt) + ' ago' : '–'}));
    tr.addEventListener('click', () => select({from: rep.fromClusterId, to: rep.toClusterId}));
    rows.push(tr);
  }
  if (shown.length > links.length) {
    rows.push(el('tr', {class: 'more'}, el('td', {colspan: 10,
      text: `${shown.length - links.length} more links (links not up come first): filter the clusters to see them.`})));
  }
  body.replaceChildren(...rows);
}

function renderAudit() {
  const list = $('audit');
  const items = (state.audit ?? []).map((e) => el('li', {'data-seq': e.sequence},
    el('span', {class: 'time', text: clock(e.time)}),
    el('span', {class: 'action' + (/denied|revoked|refused/.test(e.action) ? ' bad' : ''), text: e.action}),
    el('span', {text: e.subject + (e.detail ? ' — ' + e.detail : '') + (e.actor ? '  (' + e.actor + ')' : '')})));
  if (!items.length) items.push(el('li', {class: 'hint', text: 'No audit events yet.'}));
  list.replaceChildren(...items);
}

function dl(pairs) {
  const d = el('dl');
  for (const [k, v] of pairs) d.append(el('dt', {text: k}), el('dd', {text: v}));
  return d;
}

function renderDetails(m) {
  const aside = $('details');
  if (!selected) return;
  if (selected.cluster) {
    const c = m.byId.get(selected.cluster);
    if (!c) { aside.replaceChildren(el('p', {class: 'hint', text: `${selected.cluster} is no longer in the mesh.`})); return; }
    const r = c.record;
    const notInApi = new Set(state.notInAdminApi ?? []);
    const extra = (field, label) => [label, c[field] !== undefined ? JSON.stringify(c[field])
      : notInApi.has(field) ? 'not in the admin API yet' : '–'];
    aside.replaceChildren(el('h3', {text: r.clusterId}), dl([
      ['agent', c.revoked ? 'revoked' : c.connected ? 'connected (Watch stream open)' : 'not connected'],
      ['last seen', c.lastSeen ? `${clock(c.lastSeen)} (${age(c.lastSeen)} ago)` : '–'],
      ['endpoints', (r.gatewayEndpoints ?? []).join(', ')],
      ['WireGuard port', String(r.wireguardListenPort)],
      ['pod CIDRs', (r.podCidrs ?? []).join(', ')],
      ['service CIDRs', (r.serviceCidrs ?? []).join(', ') || '–'],
      ['peer channel', r.peerChannelAddress || '–'],
      ['labels', Object.entries(r.labels ?? {}).map(([k, v]) => k + '=' + v).join(', ') || '–'],
      ['agent version', r.agentVersion || '–'],
      ['generation', String(r.generation)],
      ['accepted', r.acceptedAt ? `${clock(r.acceptedAt)} at revision ${r.revision}` : '–'],
      extra('views', 'views'),
      extra('connectedReplica', 'connected replica'),
      extra('certificateExpiry', 'certificate expiry'),
    ]));
    return;
  }
  const there = m.links.get(selected.from + '>' + selected.to);
  const back = m.links.get(selected.to + '>' + selected.from);
  const parts = [el('h3', {text: `${selected.from} ↔ ${selected.to}`})];
  for (const [l, a, b] of [[there, selected.from, selected.to], [back, selected.to, selected.from]]) {
    if (!l) { parts.push(el('p', {class: 'hint', text: `${a} has not reported its tunnel to ${b}.`})); continue; }
    const s = l.report.status ?? {};
    parts.push(el('p', {}, el('strong', {text: `${a} → ${b}: `}), el('span', {class: 'state ' + linkState(l.report), text: linkState(l.report)})));
    parts.push(dl([
      ['handshake age', s.latestHandshake ? age(s.latestHandshake) : 'never'],
      ['RTT', rtt(s.rtt)],
      ['bytes rx / tx', bytes(s.rxBytes) + ' / ' + bytes(s.txBytes)],
      ['endpoint', s.endpoint || '–'],
      ['path', linkPath(l.report) ?? 'not in the admin API yet'],
      ['last change', l.lastChange ? (l.lastChangeObserved ? '' : 'at least since ') + clock(l.lastChange) : '–'],
      ['reported', l.report.observedAt ? clock(l.report.observedAt) : '–'],
    ]));
  }
  aside.replaceChildren(...parts);
}

// Ages tick between updates without re-rendering.
function tickAges() {
  for (const e of document.querySelectorAll('[data-age]')) {
    const iso = e.dataset.age;
    if (!iso) continue;
    const prefix = e.dataset.agePrefix ?? '';
    const suffix = e.textContent.endsWith(' ago') ? ' ago' : '';
    e.textContent = prefix + age(iso) + suffix;
  }
}

function select(s) {
  selected = s;
  render();
}

function setView(v, chosen) {
  view = v;
  if (chosen) matrixChosen = true;
  $('graph').hidden = v !== 'graph';
  $('matrix').hidden = v !== 'matrix';
  $('tab-graph').setAttribute('aria-selected', String(v === 'graph'));
  $('tab-matrix').setAttribute('aria-selected', String(v === 'matrix'));
}

// ---- wiring -------------------------------------------------------------------------------

function connect() {
  const events = new EventSource('/api/events');
  events.addEventListener('state', (e) => {
    state = JSON.parse(e.data);
    render();
  });
  events.addEventListener('error', () => {
    // The console process itself is gone (EventSource retries on its own, every second).
    if (state) {
      state = {...state, hub: {...state.hub, connection: 'CONSOLE_DOWN'}, stale: !!state.mesh};
      render();
    }
  });
}

document.addEventListener('DOMContentLoaded', () => {
  $('tab-graph').addEventListener('click', () => { setView('graph', true); render(); });
  $('tab-matrix').addEventListener('click', () => { setView('matrix', true); render(); });
  let typing = null; // one render per pause in typing: a full render of 200 clusters takes most of a second
  $('filter').addEventListener('input', () => { clearTimeout(typing); typing = setTimeout(render, 150); });
  $('problems-only').addEventListener('change', () => render());
  setInterval(tickAges, 1000);
  connect();
});
