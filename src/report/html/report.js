// bathy's treemap: draws the layout computed by bathy (rows in #bathy-data), zooms into a
// directory on click, goes back by the path above, shows a node on hover, colours by a choice
// and highlights search matches. Every name is set with textContent, never parsed as markup.
(function () {
  'use strict';
  var state = document.getElementById('tm-state');
  var errors = 0;
  window.addEventListener('error', function () { errors += 1; if (state) state.dataset.errors = String(errors); });
  var box = document.getElementById('tm');
  var src = document.getElementById('bathy-data');
  if (!box || !src) return;
  var D = JSON.parse(src.textContent);
  var N = D.n;
  if (!N || N.length === 0) { box.textContent = 'Nothing to show.'; return; }
  var NAME = 0, BYTES = 1, FILES = 2, KIND = 3, FIRST = 4, COUNT = 5, X0 = 6, Y0 = 7, X1 = 8, Y1 = 9, A = 10;
  var DIR = 1, FOLDED = 2, UNIT = 10000;
  var parent = new Int32Array(N.length).fill(-1);
  for (var i = 0; i < N.length; i++) {
    for (var c = N[i][FIRST]; c < N[i][FIRST] + N[i][COUNT]; c++) parent[c] = i;
  }
  var VIRIDIS = ['#440154', '#472d7b', '#3b528b', '#2c728e', '#21918c', '#28ae80', '#5ec962', '#addc30', '#fde725'];
  var OKABE = ['#E69F00', '#56B4E9', '#009E73', '#F0E442', '#0072B2', '#D55E00', '#CC79A7'];
  var MANAGERS = ['dpkg', 'apk', 'python', 'npm'];
  var MANAGER_COLOURS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7'];
  var NONE = '#d4d4d4';
  var stack = [0];
  var mode = D.kind === 'compare' ? 'change' : 'layer';
  var hits = null;
  var matches = 0;

  function fmt(b) {
    var u = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'], k = 0;
    if (b < 1000) return b + ' B';
    while (b >= 1000 && k < u.length - 1) { b /= 1000; k++; }
    return (b >= 100 ? b.toFixed(0) : b.toFixed(1)) + ' ' + u[k];
  }
  function signed(b) { return b > 0 ? '+' + fmt(b) : b < 0 ? '-' + fmt(-b) : '0 B'; }
  function viridis(t) {
    var x = Math.max(0, Math.min(1, t)) * (VIRIDIS.length - 1), k = Math.floor(x);
    return VIRIDIS[Math.min(k + (x - k >= 0.5 ? 1 : 0), VIRIDIS.length - 1)];
  }
  function layerColour(l) {
    if (l < 0) return NONE;
    var n = D.layers.length;
    return viridis(n <= 1 ? 0.5 : l / (n - 1));
  }
  function managerIndex(p) { return p < 0 ? -1 : MANAGERS.indexOf(D.packages[p][0]); }
  function colour(r) {
    if (r[KIND] === FOLDED) return '#bdbdbd';
    if (D.kind === 'compare') {
      var d = r[A + 2];
      return d > 0 ? '#D55E00' : d < 0 ? '#0072B2' : '#999999';
    }
    if (mode === 'category') return r[A + 3] < 0 ? NONE : OKABE[r[A + 3] % OKABE.length];
    if (mode === 'manager') { var m = managerIndex(r[A + 2]); return m < 0 ? NONE : MANAGER_COLOURS[m]; }
    return layerColour(r[A + 1]);
  }
  function ink(bg) {
    var v = parseInt(bg.slice(1), 16), r = v >> 16, g = (v >> 8) & 255, b = v & 255;
    return (0.299 * r + 0.587 * g + 0.114 * b) > 150 ? '#111' : '#fff';
  }
  function label(i) {
    var r = N[i];
    if (r[KIND] === FOLDED) return r[FILES] + ' smaller files';
    return r[NAME];
  }
  function pathOf(i) {
    var parts = [];
    for (var k = i; k > 0; k = parent[k]) parts.push(N[k][KIND] === FOLDED ? '(' + label(k) + ')' : N[k][NAME]);
    return '/' + parts.reverse().join('/');
  }
  function place(el, r) {
    el.style.left = (r[X0] / 100) + '%';
    el.style.top = (r[Y0] / 100) + '%';
    el.style.width = ((r[X1] - r[X0]) / 100) + '%';
    el.style.height = ((r[Y1] - r[Y0]) / 100) + '%';
  }

  function draw() {
    var cur = stack[stack.length - 1], r = N[cur];
    box.textContent = '';
    var top = 0, hitCount = 0;
    var wpx = box.clientWidth || 1000, hpx = box.clientHeight || 625;
    for (var c = r[FIRST]; c < r[FIRST] + r[COUNT]; c++) {
      var row = N[c];
      var el = document.createElement('div');
      el.className = 'tm-node' + (row[KIND] === DIR && row[COUNT] > 0 ? ' dir' : '') + (row[KIND] === FOLDED ? ' folded' : '');
      el.dataset.i = String(c);
      place(el, row);
      var bg = colour(row);
      el.style.background = bg;
      var w = (row[X1] - row[X0]) / UNIT * wpx, h = (row[Y1] - row[Y0]) / UNIT * hpx;
      if (row[KIND] === DIR) {
        // the directory's own children below its label strip, labelled where they have room
        var inner = document.createElement('div');
        inner.className = 'tm-inner';
        if (h > 40) inner.style.top = '16px';
        el.appendChild(inner);
        var ih = h > 40 ? h - 16 : h;
        for (var g = row[FIRST]; g < row[FIRST] + row[COUNT]; g++) {
          var sub = document.createElement('div'), sr = N[g];
          sub.className = 'tm-sub';
          sub.dataset.i = String(g);
          place(sub, sr);
          var sbg = colour(sr);
          sub.style.background = sbg;
          if (h > 40 && (sr[X1] - sr[X0]) / UNIT * w > 48 && (sr[Y1] - sr[Y0]) / UNIT * ih > 14) {
            var sl = document.createElement('span');
            sl.className = 'tm-label';
            sl.textContent = label(g) + ' ' + fmt(sr[BYTES]);
            sl.style.color = ink(sbg);
            sub.appendChild(sl);
          }
          inner.appendChild(sub);
        }
      }
      if (w > 36 && h > 14) {
        var lab = document.createElement('span');
        lab.className = 'tm-label';
        lab.textContent = label(c) + ' ' + fmt(row[BYTES]);
        lab.style.color = ink(bg);
        if (row[KIND] === DIR) { lab.style.background = 'rgba(255,255,255,.8)'; lab.style.color = '#111'; }
        el.appendChild(lab);
      }
      if (hits && hits[c]) { el.classList.add('hit'); hitCount++; }
      box.appendChild(el);
      top++;
    }
    box.classList.toggle('searching', !!hits);
    crumbs();
    legend();
    state.dataset.top = String(top);
    state.dataset.hits = String(hitCount);
    state.dataset.matches = String(matches);
    state.dataset.path = pathOf(cur);
    if (!state.dataset.ready) state.dataset.ms = String(Math.round(performance.now()));
    state.dataset.ready = '1';
  }

  function crumbs() {
    var nav = document.getElementById('tm-crumbs');
    nav.textContent = '';
    stack.forEach(function (n, k) {
      if (k > 0) { var s = document.createElement('span'); s.className = 'sep'; s.textContent = ' / '; nav.appendChild(s); }
      var b = document.createElement('button');
      b.type = 'button';
      b.textContent = k === 0 ? '/ (' + fmt(N[0][BYTES]) + ')' : N[n][NAME];
      b.addEventListener('click', function () { stack = stack.slice(0, k + 1); draw(); });
      nav.appendChild(b);
    });
  }

  function swatch(parentEl, colourValue, text) {
    var item = document.createElement('span');
    var sw = document.createElement('span');
    sw.className = 'sw';
    sw.style.background = colourValue;
    item.appendChild(sw);
    item.appendChild(document.createTextNode(text));
    parentEl.appendChild(item);
  }

  function legend() {
    var lg = document.getElementById('tm-legend');
    lg.textContent = '';
    if (D.kind === 'compare') {
      swatch(lg, '#D55E00', 'grew'); swatch(lg, '#0072B2', 'shrank'); swatch(lg, '#999999', 'changed, same size');
    } else if (mode === 'category') {
      D.categories.forEach(function (c, k) { swatch(lg, OKABE[k % OKABE.length], c); });
      swatch(lg, NONE, 'not a leftover');
    } else if (mode === 'manager') {
      MANAGERS.forEach(function (m, k) { swatch(lg, MANAGER_COLOURS[k], m); });
      swatch(lg, NONE, 'no package');
    } else {
      D.layers.forEach(function (cmd, k) { swatch(lg, layerColour(k), 'layer ' + k); });
    }
    swatch(lg, '#bdbdbd', 'folded small files');
  }

  function tip(i, ev) {
    var t = document.getElementById('tm-tip');
    var r = N[i];
    t.textContent = '';
    function line(text, cls) { var d = document.createElement('div'); d.textContent = text; if (cls) d.className = cls; t.appendChild(d); }
    line(pathOf(i), 'tip-path');
    line(fmt(r[BYTES]) + ' (' + r[BYTES] + ' bytes)' + (r[KIND] === DIR || r[KIND] === FOLDED ? ', ' + r[FILES] + ' files' : ''));
    if (r[KIND] === FOLDED) {
      line('files and directories under ' + fmt(D.threshold) + ' each, folded together');
    } else if (D.kind === 'compare') {
      line('added ' + fmt(r[A]) + ', removed ' + fmt(r[A + 1]) + ', change ' + signed(r[A + 2]));
    } else {
      var own = r[A], big = r[A + 1];
      if (own >= 0) line('added by layer ' + own + ': ' + D.layers[own]);
      if (r[KIND] === DIR && big >= 0) line('largest file from layer ' + big);
      if (r[A + 2] >= 0) { var p = D.packages[r[A + 2]]; line('package: ' + p[0] + ' ' + p[1] + ' ' + p[2]); }
      if (r[A + 3] >= 0) line('leftover: ' + D.categories[r[A + 3]]);
    }
    t.hidden = false;
    var x = ev.clientX + 14, y = ev.clientY + 14;
    if (x + t.offsetWidth > window.innerWidth) x = Math.max(0, ev.clientX - t.offsetWidth - 14);
    if (y + t.offsetHeight > window.innerHeight) y = Math.max(0, ev.clientY - t.offsetHeight - 14);
    t.style.left = x + 'px';
    t.style.top = y + 'px';
  }

  function search(q) {
    q = q.trim().toLowerCase();
    if (!q) { hits = null; matches = 0; draw(); return; }
    hits = new Uint8Array(N.length);
    matches = 0;
    for (var k = 1; k < N.length; k++) {
      if (N[k][KIND] !== FOLDED && N[k][NAME].toLowerCase().indexOf(q) >= 0) { hits[k] = 1; matches++; }
    }
    // children come after their parents: one backward pass marks every ancestor of a match
    for (var j = N.length - 1; j > 0; j--) if (hits[j]) hits[parent[j]] = 1;
    draw();
  }

  box.addEventListener('mousemove', function (ev) {
    var el = ev.target.closest('[data-i]');
    if (el) tip(Number(el.dataset.i), ev);
  });
  box.addEventListener('mouseleave', function () { document.getElementById('tm-tip').hidden = true; });
  box.addEventListener('click', function (ev) {
    var el = ev.target.closest('.tm-node');
    if (!el) return;
    var i = Number(el.dataset.i);
    if (N[i][KIND] === DIR && N[i][COUNT] > 0) { stack.push(i); document.getElementById('tm-tip').hidden = true; draw(); }
  });
  var sel = document.getElementById('tm-colour');
  sel.addEventListener('change', function () { mode = sel.value; draw(); });
  var input = document.getElementById('tm-search');
  input.addEventListener('input', function () { search(input.value); });
  window.addEventListener('resize', draw);
  // the address can ask for a search and a colouring: report.html#q=gcc&c=category
  var want = {};
  location.hash.replace(/^#/, '').split('&').forEach(function (kv) {
    var k = kv.indexOf('=');
    if (k > 0) want[kv.slice(0, k)] = decodeURIComponent(kv.slice(k + 1));
  });
  if (want.c && sel.querySelector('option[value="' + want.c.replace(/[^a-z]/g, '') + '"]')) {
    sel.value = want.c.replace(/[^a-z]/g, '');
    mode = sel.value;
  }
  if (want.q) { input.value = want.q; search(input.value); } else draw();
})();
