/**
 * The dashboard's script, served as /dashboard.js (the page's CSP forbids inline script). Plain
 * browser JavaScript in a string, so tsc's build carries it to dist/ with no bundler. It uses
 * the cookie the page was opened with; every POST sends X-Requested-With, which the server
 * requires of cookie-authenticated POSTs (a cross-site form cannot set it, and a cross-site
 * fetch that sets it needs a CORS preflight the server never grants). The history charts'
 * pure functions come from sparkline.ts as their own source.
 */
import { exitText, stopQuestion } from './dashboard-cells.js';
import { SPARK_HEIGHT, SPARK_SAMPLES, SPARK_WIDTH, pushSample, sparkPoints } from './sparkline.js';

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
  // CPU and memory history per backend for the charts: one reading a second at most (a burst of
  // events re-reads the list; the manager's CPU figure only changes once a second anyway).
  var SAMPLES = ${SPARK_SAMPLES}, SPARK_W = ${SPARK_WIDTH}, SPARK_H = ${SPARK_HEIGHT};
  var SAMPLE_MS = 1000;
  var CPU_FLOOR = 10, MEMORY_FLOOR = 1048576;
  var SVG_NS = 'http://www.w3.org/2000/svg';
  var history = {};
  var pushSample = ${pushSample.toString()};
  var sparkPoints = ${sparkPoints.toString()};
  var exitText = ${exitText.toString()};
  var stopQuestion = ${stopQuestion.toString()};

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
  function noteHistory(list, at) {
    var live = {};
    list.forEach(function (b) {
      live[b.kernelId] = true;
      if (b.state === 'dead') return;
      var h = history[b.kernelId] || (history[b.kernelId] = { at: 0, cpu: [], memory: [] });
      if (at - h.at < SAMPLE_MS) return;
      h.at = at;
      if (typeof b.cpuPercent === 'number') h.cpu = pushSample(h.cpu, b.cpuPercent, SAMPLES);
      if (typeof b.rssBytes === 'number') h.memory = pushSample(h.memory, b.rssBytes, SAMPLES);
    });
    Object.keys(history).forEach(function (id) { if (!live[id]) delete history[id]; });
  }
  function samples(b, what) {
    var h = history[b.kernelId];
    return h ? h[what] : [];
  }
  function cpu(b) {
    var p = b.cpuPercent;
    return typeof p !== 'number' ? '' : (p < 10 ? p.toFixed(1) : p.toFixed(0)) + '%';
  }
  // A value with its history chart: an SVG built with DOM calls, styled by class from the stylesheet.
  function chartCell(cls) {
    var td = text('td', '', cls);
    td.appendChild(text('span', '', 'value'));
    var svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('class', 'spark');
    svg.setAttribute('viewBox', '0 0 ' + SPARK_W + ' ' + SPARK_H);
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.setAttribute('role', 'img');
    svg.appendChild(document.createElementNS(SVG_NS, 'title'));
    svg.appendChild(document.createElementNS(SVG_NS, 'polyline'));
    td.appendChild(svg);
    return td;
  }
  function drawChart(td, value, values, floor, what) {
    td.querySelector('.value').textContent = value;
    td.querySelector('polyline').setAttribute('points', sparkPoints(values, floor, SAMPLES, SPARK_W, SPARK_H));
    td.querySelector('title').textContent = what + ', last ' + values.length + ' readings';
  }
  function drawCharts(tr, b) {
    drawChart(tr.querySelector('.cpu'), cpu(b), samples(b, 'cpu'), CPU_FLOOR, 'CPU %');
    drawChart(tr.querySelector('.memory'), bytes(b.rssBytes), samples(b, 'memory'), MEMORY_FLOOR, 'memory');
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
      td.colSpan = 12;
      empty.appendChild(td);
      rows.appendChild(empty);
    }
    backends.forEach(function (b) {
      var tr = document.createElement('tr');
      tr.dataset.kernelId = b.kernelId;
      tr.dataset.state = b.state;
      tr.appendChild(text('td', b.kernelId, 'id'));
      tr.appendChild(text('td', String(b.pid), 'pid'));
      tr.appendChild(text('td', b.requirement.runtime));
      tr.appendChild(text('td', b.requirement.provider + (b.requirement.group ? ' / ' + b.requirement.group : '')));
      tr.appendChild(text('td', b.state, 'state state-' + b.state));
      tr.appendChild(text('td', String(b.attached.length)));
      tr.appendChild(chartCell('cpu'));
      tr.appendChild(chartCell('memory'));
      drawCharts(tr, b);
      tr.appendChild(text('td', rate(b), 'rate'));
      tr.appendChild(text('td', b.state === 'dead' ? '' : uptime(b.startedAt), 'uptime'));
      tr.appendChild(text('td', exitText(b.lastExit), 'exit'));
      var actions = text('td', '', 'actions');
      var id = encodeURIComponent(b.kernelId);
      var live = b.state === 'ready' || b.state === 'busy';
      // Stopping loses the kernel's state for every notebook on it: ask first.
      actions.appendChild(button('stop', function () { if (window.confirm(stopQuestion(b.kernelId, b.attached.length))) post('/api/v1/backends/' + id + '/stop'); }, b.state === 'dead' || b.state === 'stopping'));
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
      .then(function (body) {
        var at = Date.now();
        noteRates(body.backends, at);
        noteHistory(body.backends, at);
        return body.backends;
      });
  }
  function refresh() {
    return load()
      .then(function (list) { backends = list; render(); })
      .catch(function (e) { status.textContent = String(e.message || e); });
  }
  function sameRows(list) {
    return list.length === backends.length && list.every(function (b, i) { return b.kernelId === backends[i].kernelId && b.state === backends[i].state; });
  }
  // Rates, CPU and memory change without an event: read them every 2 s, and update those cells in
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
          drawCharts(tr, b);
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
