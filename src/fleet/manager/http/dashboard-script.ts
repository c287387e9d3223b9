/**
 * The dashboard's script, served as /dashboard.js (the page's CSP forbids inline script). Plain
 * browser JavaScript in a string, so tsc's build carries it to dist/ with no bundler. It uses
 * the cookie the page was opened with; every POST sends X-Requested-With, which the server
 * requires of cookie-authenticated POSTs (a cross-site form cannot set it, and a cross-site
 * fetch that sets it needs a CORS preflight the server never grants).
 */
export const DASHBOARD_SCRIPT = String.raw`'use strict';
(function () {
  var EVENTS = ['spawned', 'ready', 'attached', 'detached', 'busy', 'idle', 'restarting', 'restarted', 'exited', 'stopped'];
  var rows = document.getElementById('backends');
  var status = document.getElementById('status');
  var logTitle = document.getElementById('log-title');
  var logView = document.getElementById('log');
  var backends = [];
  var following;
  // Message rate per backend, from the relay totals routers report (messagesRelayed): the
  // difference between two reads at least RATE_MS apart (routers report once a second).
  var RATE_MS = 1000;
  var counted = {};
  var rates = {};

  function text(tag, value, cls) {
    var el = document.createElement(tag);
    el.textContent = value;
    if (cls) el.className = cls;
    return el;
  }
  function bytes(n) {
    if (typeof n !== 'number') return '';
    var units = ['B', 'KiB', 'MiB', 'GiB'];
    var i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return n.toFixed(i === 0 ? 0 : 1) + ' ' + units[i];
  }
  function uptime(startedAt) {
    var s = Math.max(0, Math.floor((Date.now() - startedAt) / 1000));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (h > 0 ? h + 'h ' : '') + (h > 0 || m > 0 ? m + 'm ' : '') + (s % 60) + 's';
  }
  function noteRates(list, at) {
    list.forEach(function (b) {
      if (typeof b.messagesRelayed !== 'number') return;
      var prev = counted[b.kernelId];
      if (prev && at - prev.at < RATE_MS) return;
      if (prev) rates[b.kernelId] = Math.max(0, (b.messagesRelayed - prev.n) * 1000 / (at - prev.at));
      counted[b.kernelId] = { n: b.messagesRelayed, at: at };
    });
  }
  function rate(b) {
    var r = rates[b.kernelId];
    return b.state === 'dead' || typeof r !== 'number' ? '' : (r < 10 ? r.toFixed(1) : r.toFixed(0));
  }
  function post(path) {
    status.textContent = 'POST ' + path + '…';
    return fetch(path, { method: 'POST', headers: { 'X-Requested-With': 'llmspell-fleet' }, credentials: 'same-origin' })
      .then(function (res) {
        return res.json().then(function (body) {
          status.textContent = res.ok ? 'done: ' + path : (body.error ? body.error.message : 'HTTP ' + res.status);
        });
      })
      .catch(function (e) { status.textContent = String(e); })
      .then(refresh);
  }
  function button(label, onClick, disabled) {
    var b = text('button', label);
    b.type = 'button';
    b.disabled = !!disabled;
    b.addEventListener('click', onClick);
    return b;
  }
  function render() {
    rows.replaceChildren();
    if (backends.length === 0) {
      var empty = document.createElement('tr');
      var td = text('td', 'no backends');
      td.colSpan = 9;
      empty.appendChild(td);
      rows.appendChild(empty);
    }
    backends.forEach(function (b) {
      var tr = document.createElement('tr');
      tr.dataset.kernelId = b.kernelId;
      tr.dataset.state = b.state;
      tr.appendChild(text('td', b.kernelId, 'id'));
      tr.appendChild(text('td', b.requirement.runtime));
      tr.appendChild(text('td', b.requirement.provider + (b.requirement.group ? ' / ' + b.requirement.group : '')));
      tr.appendChild(text('td', b.state, 'state state-' + b.state));
      tr.appendChild(text('td', String(b.attached.length)));
      tr.appendChild(text('td', bytes(b.rssBytes), 'memory'));
      tr.appendChild(text('td', rate(b), 'rate'));
      tr.appendChild(text('td', b.state === 'dead' ? '' : uptime(b.startedAt), 'uptime'));
      var actions = document.createElement('td');
      var id = encodeURIComponent(b.kernelId);
      var live = b.state === 'ready' || b.state === 'busy';
      actions.appendChild(button('stop', function () { post('/api/v1/backends/' + id + '/stop'); }, b.state === 'dead' || b.state === 'stopping'));
      actions.appendChild(button('interrupt', function () { post('/api/v1/backends/' + id + '/interrupt'); }, !live));
      actions.appendChild(button('restart', function () { post('/api/v1/backends/' + id + '/restart'); }, !live));
      actions.appendChild(button('logs', function () { follow(b.kernelId); }, b.state === 'dead'));
      tr.appendChild(actions);
      rows.appendChild(tr);
    });
  }
  function load() {
    return fetch('/api/v1/backends', { credentials: 'same-origin' })
      .then(function (res) {
        if (!res.ok) throw new Error('HTTP ' + res.status + (res.status === 401 ? ': open the URL that llmspell-fleet dashboard prints' : ''));
        return res.json();
      })
      .then(function (body) { noteRates(body.backends, Date.now()); return body.backends; });
  }
  function refresh() {
    return load()
      .then(function (list) { backends = list; render(); })
      .catch(function (e) { status.textContent = String(e.message || e); });
  }
  function sameRows(list) {
    return list.length === backends.length && list.every(function (b, i) { return b.kernelId === backends[i].kernelId && b.state === backends[i].state; });
  }
  // Rates and memory change without an event: read them every 2 s, and update those cells in
  // place while the rows are the same (a button under the pointer stays where it is).
  function poll() {
    return load()
      .then(function (list) {
        if (!sameRows(list)) { backends = list; render(); return; }
        backends = list;
        list.forEach(function (b) {
          var tr = rows.querySelector('tr[data-kernel-id="' + CSS.escape(b.kernelId) + '"]');
          if (!tr) return;
          tr.querySelector('.rate').textContent = rate(b);
          tr.querySelector('.memory').textContent = bytes(b.rssBytes);
        });
      })
      .catch(function (e) { status.textContent = String(e.message || e); });
  }
  function follow(kernelId) {
    if (following) following.close();
    logTitle.textContent = 'log of ' + kernelId;
    logView.textContent = '';
    following = new EventSource('/api/v1/backends/' + encodeURIComponent(kernelId) + '/logs?follow=1&tail=100');
    following.addEventListener('line', function (e) {
      logView.textContent += JSON.parse(e.data) + '\n';
      logView.scrollTop = logView.scrollHeight;
    });
    following.addEventListener('end', function (e) {
      logView.textContent += '— ' + JSON.parse(e.data).reason + ' —\n';
      following.close();
    });
  }
  var events = new EventSource('/api/v1/events');
  EVENTS.forEach(function (type) { events.addEventListener(type, refresh); });
  events.addEventListener('open', function () { status.textContent = 'live'; refresh(); });
  events.addEventListener('error', function () { status.textContent = 'event stream lost; retrying…'; });
  setInterval(function () {
    document.querySelectorAll('tr[data-kernel-id]').forEach(function (tr) {
      var b = backends.find(function (x) { return x.kernelId === tr.dataset.kernelId; });
      if (b && b.state !== 'dead') tr.querySelector('.uptime').textContent = uptime(b.startedAt);
    });
  }, 1000);
  setInterval(poll, 2000);
  refresh();
})();
`;
