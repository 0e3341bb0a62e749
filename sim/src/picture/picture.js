// The race picture's timeline: draws the JSON in #data on a canvas.
// Zoom: wheel (or the buttons); pan: drag; click a mark for its line, what
// the reconciler believed and the ground truth. Scales by clustering marks
// closer than a few pixels, hiding lanes idle in the window, and a filter
// over lane names and trace lines. Writes data-ready (or data-error) on
// <body> so a headless browser can check it ran.
(function () {
  "use strict";
  var body = document.body;
  function fail(msg) {
    body.setAttribute("data-error", msg);
    var e = document.getElementById("error");
    e.hidden = false;
    e.textContent = "script error: " + msg;
  }
  window.addEventListener("error", function (ev) { fail(String(ev.message)); });
  try { main(); } catch (e) { fail(String((e && e.stack) || e)); }

  function main() {
    var t0 = performance.now();
    var D = JSON.parse(document.getElementById("data").textContent);
    var GUTTER = 150, AXIS = 26, ROW = 16, PAD = 4, CLUSTER_PX = 4;
    var COLORS = {
      pass: "#dbe8f7", select: "#4a7ab5", read: "#6f9bd1", probe: "#7a5cb8",
      answer: "#2e8b57", "answer-wrong": "#d9480f", claim: "#2b8a3e",
      "claim-lost": "#e8590c", flip: "#c92a2a", restart: "#a61e4d",
      fault: "#f08c00", fleet: "#adb5bd", write: "#1971c2", offline: "#862e9c",
      flow: "#5c940d", refused: "#e67700", step: "#82c91e", stop: "#c92a2a",
      launch: "#2f9e44", actor: "#495057", cloud: "#868e96",
      "log-info": "#1098ad", "log-warn": "#f59f00", "log-error": "#e03131",
      "log-debug": "#99a9b5"
    };
    var STATES = {
      running: "#b2f2bb", booting: "#d3f9d8", stopping: "#ffe8cc",
      stopped: "#ffd8a8", terminated: "#ffc9c9", "not_found": "#e9ecef"
    };
    function spanColor(k) {
      if (k.indexOf("st-") === 0) { return STATES[k.slice(3)] || "#e9ecef"; }
      if (k.indexOf("flow-") === 0) { return "#e9f5db"; }
      if (k === "answer-wrong") { return "#ffd8cc"; }
      if (k === "answer") { return "#e6f4ea"; }
      return COLORS[k] || "#dee2e6";
    }
    function fmt(us) {
      var ms = Math.floor(us / 1000);
      var s = String(ms % 1000);
      while (s.length < 3) { s = "0" + s; }
      return Math.floor(ms / 1000) + "." + s + "s";
    }

    var laneMarks = D.lanes.map(function () { return []; });
    D.marks.forEach(function (m) { laneMarks[m.lane].push(m); });
    var laneSpans = D.lanes.map(function () { return []; });
    D.spans.forEach(function (s) { laneSpans[s.lane].push(s); });
    var marksByLine = {};
    D.marks.forEach(function (m) { (marksByLine[m.i] = marksByLine[m.i] || []).push(m); });
    var evidence = {};
    D.violations.forEach(function (v) { v.evidence.forEach(function (i) { evidence[i] = true; }); });
    var evidenceLanes = {};
    D.marks.forEach(function (m) { if (evidence[m.i]) { evidenceLanes[m.lane] = true; } });

    var view = { from: D.focus[0], to: Math.max(D.focus[1], D.focus[0] + 1) };
    var state = { filter: "", hideIdle: D.lanes.length > 12, hidden: {}, selected: -1, matches: null };

    // Controls.
    var controls = document.getElementById("controls");
    function button(text, title, fn) {
      var b = document.createElement("button");
      b.textContent = text; b.title = title; b.onclick = fn; controls.appendChild(b);
    }
    button("focus violation", "the window around the first violation", function () {
      view.from = D.focus[0]; view.to = D.focus[1]; draw();
    });
    button("whole run", "zoom out to the whole run", function () {
      view.from = 0; view.to = Math.max(D.end, 1); draw();
    });
    button("+", "zoom in", function () { zoom(0.5, 0.5); });
    button("−", "zoom out", function () { zoom(2, 0.5); });
    var filterBox = document.createElement("input");
    filterBox.placeholder = "filter lanes / lines (ws3, i7, flip…)";
    filterBox.oninput = function () { setFilter(filterBox.value.trim()); };
    controls.appendChild(filterBox);
    var idle = document.createElement("label");
    idle.innerHTML = "<input type=checkbox> hide idle lanes";
    idle.firstChild.checked = state.hideIdle;
    idle.firstChild.onchange = function () { state.hideIdle = this.checked; draw(); };
    controls.appendChild(idle);
    var groups = [];
    D.lanes.forEach(function (l) { if (groups.indexOf(l.group) < 0) { groups.push(l.group); } });
    groups.forEach(function (g) {
      var l = document.createElement("label");
      l.innerHTML = "<input type=checkbox checked> " + g;
      l.firstChild.onchange = function () { state.hidden[g] = !this.checked; draw(); };
      controls.appendChild(l);
    });

    function setFilter(text) {
      state.filter = text;
      state.matches = null;
      if (text) {
        var needle = text.toLowerCase();
        state.matches = {};
        D.lines.forEach(function (line, i) {
          if (line.toLowerCase().indexOf(needle) >= 0) { state.matches[i] = true; }
        });
      }
      draw();
    }

    // The violations panel: sentence, evidence links, belief beside truth,
    // the reconciler's log lines.
    var panel = document.getElementById("violations");
    if (D.violations.length === 0) {
      panel.textContent = "No violation: the whole run is shown.";
    }
    D.violations.forEach(function (v, n) {
      if (n >= 10) { return; }
      var box = document.createElement("div");
      box.className = "violation-marker";
      box.setAttribute("data-at", fmt(v.at));
      var h = document.createElement("div");
      h.className = "sentence";
      h.textContent = (n + 1) + ". " + v.sentence;
      h.onclick = function () { center(v.at); };
      box.appendChild(h);
      var ul = document.createElement("ul");
      v.evidence.forEach(function (i) { ul.appendChild(lineItem(i, true)); });
      box.appendChild(ul);
      if (v.logs.length) {
        var lh = document.createElement("div");
        lh.className = "sub";
        lh.textContent = "the reconciler's log before it:";
        box.appendChild(lh);
        var ll = document.createElement("ul");
        v.logs.forEach(function (i) { ll.appendChild(lineItem(i, false)); });
        box.appendChild(ll);
      }
      panel.appendChild(box);
    });
    if (D.violations.length > 10) {
      var more = document.createElement("div");
      more.textContent = "… and " + (D.violations.length - 10) + " more (see the trace)";
      panel.appendChild(more);
    }

    function lineItem(i, withBelief) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = "#line-" + i;
      a.textContent = D.lines[i];
      a.onclick = function (ev) { ev.preventDefault(); select(i, true); };
      li.appendChild(a);
      var m = (marksByLine[i] || []).filter(function (x) { return x.belief || x.truth; })[0];
      if (withBelief && m) { li.appendChild(beliefTable(m)); }
      return li;
    }
    function beliefTable(m) {
      var t = document.createElement("table");
      t.className = "belief";
      if (m.belief) { row(t, "reconciler believed", m.belief); }
      if (m.truth) { row(t, "ground truth", m.truth); }
      return t;
    }
    function row(t, k, v) {
      var tr = document.createElement("tr");
      var th = document.createElement("th"); th.textContent = k;
      var td = document.createElement("td"); td.textContent = v;
      tr.appendChild(th); tr.appendChild(td); t.appendChild(tr);
    }

    var details = document.getElementById("details");
    function select(i, move) {
      state.selected = i;
      details.innerHTML = "";
      var p = document.createElement("pre");
      p.textContent = D.lines[i];
      details.appendChild(p);
      var m = (marksByLine[i] || [])[0];
      var withBelief = (marksByLine[i] || []).filter(function (x) { return x.belief || x.truth; })[0];
      if (withBelief) { details.appendChild(beliefTable(withBelief)); }
      if (move && m) { center(m.at); } else { draw(); }
      if (traceBox.open) { scrollTrace(i); }
    }
    function center(at) {
      var w = view.to - view.from;
      view.from = Math.max(0, at - w / 2); view.to = view.from + w; draw();
    }

    // The full trace, one click away.
    var traceBox = document.getElementById("trace");
    var traceText = document.getElementById("trace-text");
    traceBox.addEventListener("toggle", function () {
      if (traceBox.open && !traceText.textContent) { traceText.textContent = D.lines.join("\n"); }
      if (traceBox.open && state.selected >= 0) { scrollTrace(state.selected); }
    });
    function scrollTrace(i) {
      var lh = parseFloat(getComputedStyle(traceText).lineHeight) || 15;
      traceText.scrollTop = Math.max(0, i * lh - traceText.clientHeight / 2);
    }

    // The canvas.
    var canvas = document.getElementById("canvas");
    var ctx = canvas.getContext("2d");
    var layout = [];
    function visibleLanes() {
      var out = [];
      D.lanes.forEach(function (lane, li) {
        if (state.hidden[lane.group]) { return; }
        if (state.matches && lane.name.toLowerCase().indexOf(state.filter.toLowerCase()) < 0 &&
            !laneMarks[li].some(function (m) { return state.matches[m.i]; })) { return; }
        if (state.hideIdle && !evidenceLanes[li] && !busy(li)) { return; }
        out.push(li);
      });
      return out;
    }
    function firstAt(arr, at) {
      var lo = 0, hi = arr.length;
      while (lo < hi) { var mid = (lo + hi) >> 1; if (arr[mid].at < at) { lo = mid + 1; } else { hi = mid; } }
      return lo;
    }
    function busy(li) {
      var ms = laneMarks[li], k = firstAt(ms, view.from);
      if (k < ms.length && ms[k].at <= view.to) { return true; }
      return laneSpans[li].some(function (s) { return s.from < view.to && s.to > view.from && s.k.indexOf("st-") !== 0; });
    }
    function x(us, w) { return GUTTER + (us - view.from) / (view.to - view.from) * (w - GUTTER); }

    function draw() {
      var w = Math.max(400, canvas.parentNode.clientWidth);
      var lanes = visibleLanes();
      var h = AXIS;
      layout = lanes.map(function (li) {
        var top = h; h += D.lanes[li].rows * ROW + PAD * 2; return { li: li, top: top, bottom: h };
      });
      h += 4;
      var dpr = window.devicePixelRatio || 1;
      canvas.width = w * dpr; canvas.height = h * dpr;
      canvas.style.width = w + "px"; canvas.style.height = h + "px";
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, w, h);
      ctx.font = "11px system-ui, sans-serif";
      ctx.textBaseline = "middle";
      axis(w, h);
      layout.forEach(function (L, n) {
        ctx.fillStyle = n % 2 ? "#fafafa" : "#ffffff";
        ctx.fillRect(0, L.top, w, L.bottom - L.top);
        ctx.fillStyle = "#212529";
        ctx.save(); ctx.beginPath(); ctx.rect(0, L.top, GUTTER - 4, L.bottom - L.top); ctx.clip();
        ctx.fillText(D.lanes[L.li].name, 6, L.top + PAD + ROW / 2);
        ctx.restore();
        ctx.save(); ctx.beginPath(); ctx.rect(GUTTER, L.top, w - GUTTER, L.bottom - L.top); ctx.clip();
        drawSpans(L, w);
        drawMarks(L, w);
        ctx.restore();
      });
      D.violations.forEach(function (v) {
        var vx = x(v.at, w);
        if (vx < GUTTER || vx > w) { return; }
        ctx.strokeStyle = "#e03131"; ctx.lineWidth = 2;
        ctx.beginPath(); ctx.moveTo(vx, AXIS - 8); ctx.lineTo(vx, h); ctx.stroke();
        ctx.fillStyle = "#e03131";
        ctx.beginPath(); ctx.moveTo(vx - 6, 2); ctx.lineTo(vx + 6, 2); ctx.lineTo(vx, AXIS - 8); ctx.fill();
        ctx.fillText(v.label, Math.min(vx + 8, w - 160), 8);
      });
      ctx.lineWidth = 1;
      body.setAttribute("data-lanes", String(layout.length));
      body.setAttribute("data-view", fmt(view.from) + " – " + fmt(view.to));
    }

    function axis(w, h) {
      var span = view.to - view.from, target = span / 8, steps = [1, 2, 5], step = 1;
      for (var p = 1; p < 1e13; p *= 10) {
        var found = false;
        for (var k = 0; k < 3; k++) { if (steps[k] * p >= target) { step = steps[k] * p; found = true; break; } }
        if (found) { break; }
      }
      ctx.fillStyle = "#495057"; ctx.strokeStyle = "#e9ecef";
      for (var t = Math.ceil(view.from / step) * step; t <= view.to; t += step) {
        var tx = x(t, w);
        ctx.beginPath(); ctx.moveTo(tx, AXIS - 4); ctx.lineTo(tx, h); ctx.stroke();
        var label = step < 1000 ? fmt(t) + "+" + (t % 1000) + "µs" : fmt(t);
        ctx.fillText(label, tx + 2, AXIS - 12);
      }
    }

    function drawSpans(L, w) {
      laneSpans[L.li].forEach(function (s) {
        if (s.to < view.from || s.from > view.to) { return; }
        var x1 = Math.max(GUTTER, x(s.from, w)), x2 = Math.min(w, x(s.to, w));
        var y = L.top + PAD + s.row * ROW;
        ctx.fillStyle = spanColor(s.k);
        ctx.fillRect(x1, y + 1, Math.max(1, x2 - x1), ROW - 2);
        if (evidence[s.i]) { ctx.strokeStyle = "#e03131"; ctx.strokeRect(x1, y + 1, Math.max(1, x2 - x1), ROW - 2); }
        if (x2 - x1 > 30) {
          ctx.fillStyle = "#343a40";
          ctx.save(); ctx.beginPath(); ctx.rect(x1, y, x2 - x1, ROW); ctx.clip();
          ctx.fillText(s.label, x1 + 3, y + ROW / 2);
          ctx.restore();
        }
      });
    }

    function drawMarks(L, w) {
      var ms = laneMarks[L.li];
      var last = {}, k = firstAt(ms, view.from);
      for (; k < ms.length && ms[k].at <= view.to; k++) {
        var m = ms[k], mx = x(m.at, w), y = L.top + PAD + m.row * ROW;
        var dim = state.matches && !state.matches[m.i];
        var prev = last[m.row];
        if (prev && mx - prev.x < CLUSTER_PX && !evidence[m.i] && m.i !== state.selected) {
          prev.n += 1;
          continue;
        }
        if (prev && prev.n > 1) { clusterLabel(prev); }
        last[m.row] = { x: mx, y: y, n: 1 };
        ctx.globalAlpha = dim ? 0.2 : 1;
        ctx.fillStyle = COLORS[m.k] || "#343a40";
        ctx.fillRect(mx - 1.5, y + 1, 3, ROW - 2);
        ctx.globalAlpha = 1;
        if (evidence[m.i]) {
          ctx.strokeStyle = "#e03131"; ctx.lineWidth = 2;
          ctx.beginPath(); ctx.arc(mx, y + ROW / 2, 6, 0, 2 * Math.PI); ctx.stroke(); ctx.lineWidth = 1;
        }
        if (m.i === state.selected) {
          ctx.strokeStyle = "#000"; ctx.strokeRect(mx - 4, y, 8, ROW);
        }
      }
      Object.keys(last).forEach(function (r) { if (last[r].n > 1) { clusterLabel(last[r]); } });
    }
    function clusterLabel(c) {
      ctx.fillStyle = "#212529";
      ctx.fillText("×" + c.n, c.x + 4, c.y + ROW / 2);
    }

    function zoom(factor, at) {
      var w = view.to - view.from, pivot = view.from + w * at;
      var nw = Math.max(10, Math.min(Math.max(D.end, 1) * 1.2, w * factor));
      view.from = Math.max(0, pivot - nw * at); view.to = view.from + nw; draw();
    }
    function frac(ev) {
      var r = canvas.getBoundingClientRect();
      return Math.max(0, Math.min(1, (ev.clientX - r.left - GUTTER) / (r.width - GUTTER)));
    }
    canvas.addEventListener("wheel", function (ev) {
      ev.preventDefault(); zoom(ev.deltaY > 0 ? 1.25 : 0.8, frac(ev));
    }, { passive: false });
    var drag = null;
    canvas.addEventListener("mousedown", function (ev) { drag = { x: ev.clientX, from: view.from, to: view.to, moved: false }; });
    window.addEventListener("mouseup", function (ev) {
      if (drag && !drag.moved) { pick(ev); }
      drag = null;
    });
    window.addEventListener("mousemove", function (ev) {
      if (!drag) { return; }
      var r = canvas.getBoundingClientRect(), dx = ev.clientX - drag.x;
      if (Math.abs(dx) > 2) { drag.moved = true; }
      var shift = dx / (r.width - GUTTER) * (drag.to - drag.from);
      view.from = Math.max(0, drag.from - shift); view.to = view.from + (drag.to - drag.from); draw();
    });
    function pick(ev) {
      var r = canvas.getBoundingClientRect(), px = ev.clientX - r.left, py = ev.clientY - r.top;
      var L = layout.filter(function (l) { return py >= l.top && py < l.bottom; })[0];
      if (!L) { return; }
      var w = r.width, best = null, bestD = 6;
      laneMarks[L.li].forEach(function (m) {
        var d = Math.abs(x(m.at, w) - px);
        if (d < bestD) { best = m; bestD = d; }
      });
      if (!best) {
        laneSpans[L.li].forEach(function (s) {
          if (!best && x(s.from, w) <= px && x(s.to, w) >= px) { best = { i: s.i, at: s.from }; }
        });
      }
      if (best) { select(best.i, false); }
    }
    window.addEventListener("resize", draw);

    draw();
    // From navigation start (the page's loading and parsing included) and
    // of the script alone.
    body.setAttribute("data-render-ms", String(Math.round(performance.now())));
    body.setAttribute("data-script-ms", String(Math.round(performance.now() - t0)));
    body.setAttribute("data-violations", String(document.querySelectorAll(".violation-marker").length));
    body.setAttribute("data-ready", "1");
  }
})();
