// report.html of raft-harness: draws the payload of harness/report/html.rs.
// Times in the payload are µs on the run's clock; the page shows seconds.
"use strict";
(function () {
  var t0 = performance.now();
  var D = JSON.parse(document.getElementById("data").textContent);
  var parseMs = performance.now() - t0;
  if (D.broken) throw new Error("the report payload could not be built: " + D.broken);

  // ---------- helpers ----------
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function esc(s) {
    return String(s).replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c];
    });
  }
  function secs(us) { return (us / 1e6).toFixed(3) + " s"; }
  function ms(us) { return us < 10000 ? (us / 1000).toFixed(2) + " ms" : (us / 1000).toFixed(0) + " ms"; }
  var OUT = ["ok", "fail", "info"];
  var COLORS = {
    Leader: "#2da44e", Follower: "#9ec5fe", Candidate: "#f0883e", Other: "#b7bcc4",
    ok: "#54aeff", fail: "#e5534b", info: "#d4a72c",
    killed: "#3b4048", stopped: "#57606a", paused: "#8250df", exited: "#953800", cut_off: "#cf222e", silent: "#ff8182",
  };
  var NODE_PALETTE = ["#0969da", "#1a7f37", "#bf3989", "#9a6700", "#8250df", "#0a7b83", "#cf222e", "#57606a"];
  function nodeColor(id) { return NODE_PALETTE[(id - 1 + NODE_PALETTE.length * 8) % NODE_PALETTE.length]; }

  // ---------- operations: decode the columns ----------
  var UNANSWERED_US = 1e6;
  var O = D.ops, N = O.id.length;
  var inv = new Float64Array(N), end = new Float64Array(N), done = new Float64Array(N);
  (function () {
    var t = 0;
    for (var i = 0; i < N; i++) { t += O.dinv[i]; inv[i] = t; done[i] = O.dur[i] < 0 ? -1 : t + O.dur[i]; }
    // An unanswered operation may take effect at any time; its client gave up
    // after at most its request timeout (1 s by default) and went on as a new
    // logical client. It is drawn faded, for UNANSWERED_US or until its
    // client's next invocation.
    var next = {};
    for (var j = N - 1; j >= 0; j--) {
      var c = O.client[j];
      end[j] = done[j] >= 0 ? done[j] : Math.min(next[c] !== undefined ? next[c] : Infinity, inv[j] + UNANSWERED_US, D.end_us);
      if (end[j] <= inv[j]) end[j] = inv[j] + 1;
      next[c] = inv[j];
    }
  })();
  var rowOfId = {};
  for (var i0 = 0; i0 < N; i0++) rowOfId[O.id[i0]] = i0;
  function opText(i) {
    var k = D.keys[O.key[i]];
    var parts = O.cmd[i].split(" ");
    var cmd = k ? parts[0] + " " + k + (parts.length > 1 ? " " + parts.slice(1).join(" ") : "") : O.cmd[i];
    return cmd;
  }
  function opLine(i) {
    var s = "op " + O.id[i] + " (client " + O.client[i] + " via node " + O.node[i] + ") " + opText(i) +
      "\ninvoked " + secs(inv[i]) + ", " + (done[i] >= 0 ? "completed " + secs(done[i]) + " after " + ms(done[i] - inv[i]) : "never answered") +
      "\noutcome " + OUT[O.out[i]] + (O.res[i] !== null ? ", result " + JSON.stringify(O.res[i]) : "");
    if (O.msg[i]) s += "\n" + O.msg[i];
    return s;
  }

  // Linearizability focus: op id -> role in the explanation.
  var focus = {};
  D.lin.forEach(function (f) {
    f.prefix.forEach(function (p, k) { focus[p[0]] = { kind: "prefix", step: f.prefix_len - f.prefix.length + k + 1, state: p[1], key: f.key }; });
    f.open.forEach(function (id) { focus[id] = { kind: f.rejected.indexOf(id) >= 0 ? "rejected" : "open", key: f.key }; });
    focus[f.stuck] = { kind: "stuck", key: f.key };
  });
  var FOCUS_COLOR = { stuck: "#d1242f", prefix: "#0550ae", open: "#bc4c00", rejected: "#bc4c00" };

  // Lanes per key: greedy packing, operations sorted by invocation.
  var keyLanes = D.keys.map(function () { return []; });
  (function () {
    var laneEnd = D.keys.map(function () { return []; });
    for (var i = 0; i < N; i++) {
      var k = O.key[i], ends = laneEnd[k], l = 0;
      while (l < ends.length && ends[l] > inv[i]) l++;
      if (l === ends.length) { ends.push(0); keyLanes[k].push([]); }
      ends[l] = end[i];
      keyLanes[k][l].push(i);
    }
  })();

  // ---------- header ----------
  var R = D.run;
  var failing = D.checks.filter(function (c) { return c.status === "fail"; });
  (function header() {
    var h = document.getElementById("head");
    h.appendChild(el("h1", null, R.suite || "(no suite)"));
    var v = el("span", { "class": "verdict v-" + R.verdict, id: "verdict" }, String(R.verdict).toUpperCase());
    h.appendChild(v);
    h.appendChild(el("span", { "class": "meta" }, "exit " + R.exit_code + " · seed " + R.seed + " · " +
      R.duration_s.toFixed(1) + " s · started " + R.started_at + " · run " + R.run_id + (R.spec_file ? " · " + R.spec_file : "")));
    if (failing.length) {
      var f = el("div", { "class": "failing", id: "failing-checks" }, "failed: ");
      failing.forEach(function (c, k) {
        if (k) f.appendChild(document.createTextNode(", "));
        f.appendChild(el("a", { href: "#check-" + c.name }, c.name));
      });
      h.appendChild(f);
    }
    if (R.error) h.appendChild(el("div", { "class": "errorbox" }, "error: " + R.error));
    if (!D.evidence) h.appendChild(el("div", { "class": "notes" }, "This report has no evidence (the run ended before its cluster was observed): the timeline shows only the faults the report recorded."));
    R.notes.forEach(function (n) { h.appendChild(el("div", { "class": "notes" }, "note: " + n)); });
    var m = Object.keys(R.metrics).map(function (k) { return k + "=" + (Math.round(R.metrics[k] * 100) / 100); });
    if (m.length) h.appendChild(el("div", { "class": "metrics mono" }, m.join("  ")));
  })();

  // ---------- linkify: ops, nodes, entries, times ----------
  var LINK_RE = /\bop (\d+)\b|\b(nodes?) \[?(\d+(?:(?:, | and |, and )\d+)*)\]?|\b(index|entry) (\d+)\b|\b(\d+\.\d{3}) s\b/g;
  function linkify(text) {
    return esc(text).replace(LINK_RE, function (all, op, nw, nlist, ew, ei, ts) {
      if (op !== undefined) return rowOfId[op] !== undefined ? '<a href="#op-' + op + '" data-op="' + op + '">op ' + op + "</a>" : all;
      if (nw !== undefined) {
        return nw + " " + (all.indexOf("[") >= 0 ? "[" : "") + nlist.replace(/\d+/g, function (n) {
          return '<a href="#node-' + n + '" data-node="' + n + '">' + n + "</a>";
        }) + (all.indexOf("]") >= 0 ? "]" : "");
      }
      if (ew !== undefined) return D.entries[ei] ? ew + ' <a href="#entry-' + ei + '" data-entry="' + ei + '">' + ei + "</a>" : all;
      return '<a href="#t" data-t="' + Math.round(parseFloat(ts) * 1e6) + '">' + ts + " s</a>";
    });
  }

  // ---------- checks ----------
  (function checks() {
    var t = el("table", { id: "check-table" });
    t.innerHTML = "<thead><tr><th>check</th><th>result</th><th>evidence</th></tr></thead>";
    var body = el("tbody");
    var words = { pass: "pass", fail: "FAIL", unknown: "unknown", not_checked: "not checked", warn: "warning" };
    D.checks.forEach(function (c) {
      var tr = el("tr", { id: "check-" + c.name, "class": "check st-" + c.status });
      tr.appendChild(el("td", { "class": "mono" }, c.name));
      tr.appendChild(el("td", { "class": "st" }, words[c.status] || c.status));
      var s = el("td"); s.innerHTML = linkify(c.summary); tr.appendChild(s);
      body.appendChild(tr);
      if (c.status === "fail" || c.status === "unknown" || c.status === "warn") body.appendChild(explain(c));
    });
    t.appendChild(body);
    var box = document.getElementById("checks");
    if (!D.checks.length) box.appendChild(el("p", { "class": "muted" }, "No check ran."));
    else box.appendChild(t);
  })();

  function explain(c) {
    var tr = el("tr", { "class": "explain", id: "explain-" + c.name });
    var td = el("td", { colspan: "3" });
    var b = el("div", { "class": "based" }); b.innerHTML = "based on: " + linkify(c.based_on); td.appendChild(b);
    if (c.name === "linearizable") D.lin.forEach(function (f) { td.appendChild(linBox(f)); });
    var lines = c.evidence.length ? c.evidence : [c.summary];
    // Long lists: the first lines, the rest one click away (all in the DOM).
    var SHOWN = c.name === "linearizable" ? 40 : 6;
    function list(part) {
      var ul = el("ul");
      part.forEach(function (line) { var li = el("li"); li.innerHTML = linkify(line); ul.appendChild(li); });
      return ul;
    }
    td.appendChild(list(lines.slice(0, SHOWN)));
    if (lines.length > SHOWN) {
      var more = el("details");
      more.appendChild(el("summary", null, (lines.length - SHOWN) + " more lines"));
      more.appendChild(list(lines.slice(SHOWN)));
      td.appendChild(more);
    }
    tr.appendChild(td);
    return tr;
  }

  function linBox(f) {
    var d = el("div", { "class": "lin", id: "lin-" + f.key });
    var h = "<h4>key " + esc(f.key) + ': <a href="#op-' + f.stuck + '" data-op="' + f.stuck + '">op ' + f.stuck +
      "</a> cannot be placed after the longest linearizable prefix (" + f.prefix_len + " operations; state then " + esc(f.state) + ")</h4>";
    if (f.prefix.length) {
      h += "<div>last steps of that prefix: " + f.prefix.map(function (p, k) {
        return '#' + (f.prefix_len - f.prefix.length + k + 1) + ' <a href="#op-' + p[0] + '" data-op="' + p[0] + '">op ' + p[0] + "</a> → " + esc(p[1]);
      }).join(" · ") + "</div>";
    }
    if (f.open.length) {
      h += "<div>open at that point: " + f.open.map(function (id) {
        return '<a href="#op-' + id + '" data-op="' + id + '">op ' + id + "</a>" + (f.rejected.indexOf(id) >= 0 ? " (refused by the register)" : "");
      }).join(", ") + "</div>";
    }
    h += '<div class="muted">On the timeline: the operation that cannot be placed is outlined red, the prefix steps blue, the open operations orange.</div>';
    d.innerHTML = h;
    return d;
  }

  // ---------- tables: faults, waits, nodes, entries ----------
  function table(id, head, rows) {
    var box = document.getElementById(id);
    if (!rows.length) { box.appendChild(el("p", { "class": "muted" }, "none")); return; }
    var t = el("table");
    t.innerHTML = "<thead><tr>" + head.map(function (x) { return "<th>" + x + "</th>"; }).join("") + "</tr></thead>";
    var body = el("tbody");
    rows.forEach(function (r) {
      var tr = el("tr", r.attrs || null);
      r.cells.forEach(function (c) { var td = el("td"); td.innerHTML = c; tr.appendChild(td); });
      body.appendChild(tr);
    });
    t.appendChild(body);
    box.appendChild(t);
  }
  table("faults", ["time", "action", "nodes", "detail", "step"], D.faults.map(function (f) {
    return { cells: ['<a href="#t" data-t="' + f.t_us + '">' + secs(f.t_us) + "</a>", esc(f.action),
      f.nodes.length ? linkify("nodes " + f.nodes.join(", ")) : "",
      linkify(f.detail) + (f.cut_off && f.cut_off.length ? " · cut off: " + linkify("nodes " + f.cut_off.join(", ")) : ""), esc(f.at)] };
  }));
  table("waits", ["step", "condition", "timeout", "met after", "detail"], D.waits.map(function (w) {
    return { cells: [esc(w.at), esc(w.condition) + (w.expect_timeout ? " (expected to time out)" : ""), w.timeout_ms + " ms",
      w.met_after_ms === null || w.met_after_ms === undefined ? '<b style="color:var(--fail)">not met</b>' : w.met_after_ms + " ms", linkify(w.detail)] };
  }));
  table("nodes", ["node", "kind", "implementation", "starts", "log"], D.nodes.map(function (n) {
    return { attrs: { id: "node-" + n.id }, cells: ['<b style="color:' + nodeColor(n.id) + '">node ' + n.id + "</b>", esc(n.kind),
      esc(n.implementation || "—"), String(n.starts), '<a href="nodes/' + n.id + '.log">nodes/' + n.id + ".log</a>"] };
  }));
  (function entries() {
    var box = document.getElementById("entries");
    var idx = Object.keys(D.entries);
    if (!idx.length) { box.appendChild(el("p", { "class": "muted" }, "none")); return; }
    idx.forEach(function (i) {
      var d = el("div", { "class": "entry", id: "entry-" + i });
      d.appendChild(el("h4", null, "index " + i));
      var rows = D.entries[i];
      if (!rows.length) d.appendChild(el("p", { "class": "muted" }, "no node's last log read holds this index"));
      else {
        var t = el("table");
        t.innerHTML = "<thead><tr><th>node</th><th>term</th><th>command</th><th>log read at</th></tr></thead>";
        rows.forEach(function (r) {
          var tr = el("tr");
          tr.innerHTML = "<td>" + linkify("node " + r.node) + "</td><td>" + r.term + "</td><td class=mono>" + esc(r.command) +
            "</td><td>" + secs(r.t_us) + (r.last ? " (final log)" : "") + "</td>";
          t.appendChild(tr);
        });
        d.appendChild(t);
      }
      box.appendChild(d);
    });
  })();

  // ---------- timeline layout ----------
  var rows = [];   // {kind, y, h, label, ...}
  (function layout() {
    var y = 36;     // axis: ticks, then fault bars with their labels
    function add(r) { r.y = y; rows.push(r); y += r.h; }
    add({ kind: "leader", h: 20, label: "current leader" });
    D.nodes.forEach(function (n) { add({ kind: "node", h: 28, label: "node " + n.id, node: n }); });
    y += 6;
    add({ kind: "rate", h: 56, label: "ops/s (ok·fail·info)" });
    add({ kind: "lat", h: 56, label: "latency p50 · p99" });
    y += 6;
    var lanes = keyLanes.reduce(function (a, l) { return a + Math.max(1, l.length); }, 0);
    var laneH = Math.max(3, Math.min(12, Math.floor(360 / Math.max(1, lanes))));
    // Keys in natural order, those with a linearizability failure first.
    var bad = D.lin.map(function (f) { return f.key; });
    var order = D.keys.map(function (k, ki) { return ki; }).sort(function (a, b) {
      var fa = bad.indexOf(D.keys[a]) >= 0 ? 0 : 1, fb = bad.indexOf(D.keys[b]) >= 0 ? 0 : 1;
      return fa - fb || D.keys[a].localeCompare(D.keys[b], undefined, { numeric: true });
    });
    order.forEach(function (ki) {
      var k = D.keys[ki];
      add({ kind: "key", h: Math.max(14, Math.max(1, keyLanes[ki].length) * laneH + 2), label: "key " + (k || "(other)") + (bad.indexOf(k) >= 0 ? " ✗" : "") + " · " + keyLanes[ki].length + " lanes", key: ki, laneH: laneH });
    });
    if (!D.keys.length) add({ kind: "empty", h: 20, label: "operations: none" });
    rows.height = y + 4;
  })();

  var canvas = document.getElementById("tl");
  var labels = document.getElementById("labels");
  var ctx = canvas.getContext("2d");
  var view = { a: 0, b: Math.max(1, D.end_us) };
  var selected = -1;
  var drawnByNode = {};
  var highlighted = 0;
  var stuckLabels = [];

  rows.forEach(function (r) {
    var attrs = { "class": "row-label " + (r.kind === "node" ? "node" : "group"), style: "top:" + r.y + "px;height:" + r.h + "px" };
    if (r.kind === "node") { attrs["data-node"] = String(r.node.id); attrs.id = "label-node-" + r.node.id; }
    var d = el("div", attrs, r.label);
    if (r.kind === "node") d.style.color = nodeColor(r.node.id);
    labels.appendChild(d);
  });
  labels.style.height = rows.height + "px";

  (function legend() {
    var items = [["Leader", COLORS.Leader], ["Follower", COLORS.Follower], ["Candidate", COLORS.Candidate],
      ["killed/stopped", COLORS.killed], ["paused", COLORS.paused], ["cut off", COLORS.cut_off], ["silent", COLORS.silent],
      ["op ok", COLORS.ok], ["op fail", COLORS.fail], ["op info (unanswered: faded)", COLORS.info], ["fault window", "rgba(207,34,46,.18)"]];
    var l = document.getElementById("legend");
    items.forEach(function (it) { var s = el("span"); var i = el("i"); i.style.background = it[1]; s.appendChild(i); s.appendChild(document.createTextNode(it[0])); l.appendChild(s); });
  })();

  var W = 800;
  function x(t) { return (t - view.a) / (view.b - view.a) * W; }
  function tAt(px) { return view.a + px / W * (view.b - view.a); }

  // ---------- message flow (RPC-aware links: messages.jsonl as columns, html/flow.rs) ----------
  var F = D.flow, FN = F ? F.id.length : 0;
  var fSent = new Float64Array(FN), fByLink = [];
  var FATE_COLORS = {
    "delivered": "#8c959f", "delayed": "#d4a72c", "reordered": "#8250df", "dropped-request": "#cf222e",
    "dropped-reply": "#fb8f44", "blackholed": "#24292f", "rejected": "#6e7781", "lost": "#953800",
    "duplicate": "#0969da", "error": "#ff8182",
  };
  // Which fate an aggregate shows: the most disruptive one in it.
  var FATE_RANK = ["dropped-request", "dropped-reply", "lost", "blackholed", "rejected", "duplicate", "reordered", "delayed", "error", "delivered"];
  var KIND_TEXT = { "request-vote": "RequestVote", "pre-vote": "PreVote", "heartbeat": "AppendEntries (heartbeat)",
    "append": "AppendEntries", "client-request": "ClientRequest", "other": "other" };
  var SUB_H = 7, flowRows = [], flowDrawn = [], flowItems = [];
  var fcanvas = document.getElementById("flow-tl"), flabels = document.getElementById("flow-labels"), fctx = fcanvas.getContext("2d");
  (function flowSetup() {
    var note = document.getElementById("flow-note");
    if (!F) {
      document.getElementById("flow-box").hidden = true;
      note.id = "flow-none";
      note.textContent = "No RPC-aware links in this run ([cluster] network = \"rpc\" makes them): its links forward bytes and do not see messages, so nothing is drawn here rather than something guessed.";
      return;
    }
    if (!FN) {
      document.getElementById("flow-box").hidden = true;
      note.textContent = "The RPC-aware links of this run recorded no call (messages.jsonl is empty).";
      return;
    }
    var t = 0;
    F.links.forEach(function () { fByLink.push([]); });
    for (var i = 0; i < FN; i++) { t += F.dsent[i]; fSent[i] = t; fByLink[F.link[i]].push(i); }
    var y = 4;
    F.links.forEach(function (l, k) {
      var h = F.kinds.length * SUB_H + 4;
      flowRows.push({ link: k, y: y, h: h });
      var d = el("div", { "class": "row-label", style: "top:" + y + "px;height:" + h + "px", "data-link": l[0] + "-" + l[1] },
        l[0] + " → " + l[1] + " (" + fByLink[k].length + ")");
      d.style.color = nodeColor(l[0]);
      flabels.appendChild(d);
      y += h;
    });
    flowRows.height = y + 4;
    flabels.style.height = flowRows.height + "px";
    note.textContent = FN + " calls on " + F.links.length + " links. Dense stretches are drawn one mark per pixel column, sub-lane and link, in the colour of its most disruptive fate; zoomed in, a call's line runs from sending to its reply (or delivery).";
    var lg = document.getElementById("flow-legend");
    F.fates.forEach(function (f) { var s = el("span"), i = el("i"); i.style.background = FATE_COLORS[f]; s.appendChild(i); s.appendChild(document.createTextNode(f)); lg.appendChild(s); });
  })();
  function fEnd(i) { return fSent[i] + Math.max(F.rep[i], F.del[i], 0); }
  function firstSentAtOrAfter(list, t) {
    var lo = 0, hi = list.length;
    while (lo < hi) { var m = (lo + hi) >> 1; if (fSent[list[m]] < t) lo = m + 1; else hi = m; }
    return lo;
  }
  function flowItem(r, sub, px, rows) {
    var best = FATE_RANK.length - 1;
    rows.forEach(function (i) { best = Math.min(best, FATE_RANK.indexOf(F.fates[F.fate[i]])); });
    return { link: r.link, sub: sub, px: px, rows: rows, fate: FATE_RANK[best], y: r.y + 2 + sub * SUB_H };
  }
  function drawFlow() {
    if (!F || !FN) return;
    var dpr = window.devicePixelRatio || 1;
    fcanvas.style.width = W + "px"; fcanvas.style.height = flowRows.height + "px";
    fcanvas.width = Math.round(W * dpr); fcanvas.height = Math.round(flowRows.height * dpr);
    fctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    fctx.clearRect(0, 0, W, flowRows.height);
    flowDrawn = []; flowItems = [];
    D.windows.forEach(function (w) {
      var a = Math.max(0, x(w.from)), b = Math.min(W, x(w.to)); if (b < 0 || a > W) return;
      fctx.fillStyle = windowColor(w, 0.08); fctx.fillRect(a, 0, Math.max(1, b - a), flowRows.height);
    });
    flowRows.forEach(function (r) {
      fctx.fillStyle = r.link % 2 ? "#fff" : "#f6f8fa"; fctx.fillRect(0, r.y, W, r.h);
      var list = fByLink[r.link], open = [], items = 0, msgs = 0;
      for (var s = 0; s < F.kinds.length; s++) open.push(null);
      function flush(s) {
        var o = open[s]; if (!o) return;
        var it = flowItem(r, s, o.px, o.rows); flowItems.push(it); items++; msgs += o.rows.length;
        drawFlowItem(it); open[s] = null;
      }
      for (var k = firstSentAtOrAfter(list, view.a); k < list.length; k++) {
        var i = list[k]; if (fSent[i] > view.b) break;
        var s2 = F.kind[i], px = Math.floor(x(fSent[i]));
        if (open[s2] && open[s2].px === px) { open[s2].rows.push(i); continue; }
        flush(s2); open[s2] = { px: px, rows: [i] };
      }
      for (s = 0; s < F.kinds.length; s++) flush(s);
      flowDrawn.push([F.links[r.link][0] + "-" + F.links[r.link][1], items, msgs]);
      fctx.strokeStyle = "#d9dee7"; fctx.beginPath(); fctx.moveTo(0, r.y + r.h - 0.5); fctx.lineTo(W, r.y + r.h - 0.5); fctx.stroke();
    });
  }
  function drawFlowItem(it) {
    var c = FATE_COLORS[it.fate], y = it.y, h = SUB_H - 1;
    fctx.fillStyle = c; fctx.fillRect(it.px, y, it.rows.length > 1 ? 3 : 2, h);
    if (it.rows.length !== 1) return;
    var i = it.rows[0], e = x(fEnd(i));
    if (e - it.px < 4) return;
    // One call, zoomed in: a line from sending to its reply (or delivery), an arrowhead at the end.
    fctx.strokeStyle = c; fctx.beginPath(); fctx.moveTo(it.px, y + h / 2); fctx.lineTo(e, y + h / 2); fctx.stroke();
    fctx.beginPath(); fctx.moveTo(e, y + h / 2); fctx.lineTo(e - 3, y); fctx.lineTo(e - 3, y + h); fctx.fill();
  }
  function callText(i) {
    var l = F.links[F.link[i]], kind = F.kinds[F.kind[i]], v = kind === "request-vote" || kind === "pre-vote";
    var s = "call " + F.id[i] + ": node " + l[0] + " → node " + l[1] + " " + KIND_TEXT[kind] + " · fate " + F.fates[F.fate[i]] +
      "\nsent " + secs(fSent[i]) + (F.del[i] >= 0 ? ", delivered +" + ms(F.del[i]) : ", not delivered") +
      (F.rep[i] >= 0 ? ", reply +" + ms(F.rep[i]) : ", no reply to the caller");
    if (F.term[i] >= 0) {
      s += "\nterm " + F.term[i] + (v ? ", candidateId " + F.who[i] + ", lastLogIndex " + F.pi[i] + ", lastLogTerm " + F.pt[i]
        : ", leaderId " + F.who[i] + ", prevLogIndex " + F.pi[i] + ", prevLogTerm " + F.pt[i] + ", entries " + F.n[i] +
          (F.n[i] ? " [" + F.fi[i] + ".." + F.li[i] + "], last entry term " + F.lt[i] : "") + ", leaderCommit " + F.lc[i]);
    }
    if (F.rok[i] >= 0) s += "\nreply: " + (F.rterm[i] >= 0 ? "term " + F.rterm[i] + ", " : "") +
      (v ? "voteGranted " : "success ") + (F.rok[i] ? "true" : "false");
    if (F.extra[i]) s += "\n" + F.extra[i];
    return s;
  }
  function describeFlow(e) {
    var lines = [secs(tAt(e.offsetX))];
    var r = flowRows.find(function (q) { return e.offsetY >= q.y && e.offsetY < q.y + q.h; });
    if (!r) return lines.join("\n");
    var sub = Math.floor((e.offsetY - r.y - 2) / SUB_H), l = F.links[r.link];
    lines.push("link node " + l[0] + " → node " + l[1] + (F.kinds[sub] ? ", " + KIND_TEXT[F.kinds[sub]] : ""));
    var near = null;
    flowItems.forEach(function (it) {
      if (it.link !== r.link || it.sub !== sub || Math.abs(it.px - e.offsetX) > 3) return;
      if (!near || Math.abs(it.px - e.offsetX) < Math.abs(near.px - e.offsetX)) near = it;
    });
    if (!near) return lines.join("\n");
    if (near.rows.length === 1) { lines.push(callText(near.rows[0])); return lines.join("\n"); }
    var by = {};
    near.rows.forEach(function (i) { var f = F.fates[F.fate[i]]; by[f] = (by[f] || 0) + 1; });
    lines.push(near.rows.length + " calls in this pixel (" + secs(fSent[near.rows[0]]) + " – " + secs(fSent[near.rows[near.rows.length - 1]]) + "): " +
      Object.keys(by).map(function (f) { return by[f] + " " + f; }).join(", ") + "; zoom in to see each");
    lines.push("first of them:\n" + callText(near.rows[0]));
    return lines.join("\n");
  }

  function draw() {
    var dpr = window.devicePixelRatio || 1;
    W = Math.max(200, canvas.parentNode.clientWidth - labels.offsetWidth - 2);
    canvas.style.width = W + "px"; canvas.style.height = rows.height + "px";
    canvas.width = Math.round(W * dpr); canvas.height = Math.round(rows.height * dpr);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, rows.height);
    highlighted = 0;
    rows.forEach(function (r) {
      if (r.kind === "node") { ctx.fillStyle = "#f6f8fa"; ctx.fillRect(0, r.y, W, r.h); }
    });
    drawWindows();
    drawAxis();
    rows.forEach(function (r) {
      ctx.strokeStyle = "#eef0f3"; ctx.beginPath(); ctx.moveTo(0, r.y + r.h - 0.5); ctx.lineTo(W, r.y + r.h - 0.5); ctx.stroke();
      if (r.kind === "leader") drawLeader(r);
      else if (r.kind === "node") drawNode(r);
      else if (r.kind === "rate") drawRate(r);
      else if (r.kind === "lat") drawLatency(r);
      else if (r.kind === "key") drawKey(r);
    });
    drawWindows(true);
    drawEvents();
    stuckLabels.forEach(function (l) {
      ctx.font = "bold 12px system-ui"; ctx.textBaseline = "middle";
      var w = ctx.measureText(l[0]).width + 8, x0 = Math.max(2, Math.min(l[1], W - w - 2));
      ctx.fillStyle = "rgba(255,255,255,.92)"; ctx.fillRect(x0, l[2] - 9, w, 18);
      ctx.strokeStyle = "#d1242f"; ctx.strokeRect(x0 + 0.5, l[2] - 8.5, w - 1, 17);
      ctx.fillStyle = "#d1242f"; ctx.fillText(l[0], x0 + 4, l[2]);
    });
    stuckLabels = [];
    document.getElementById("window-label").textContent = secs(view.a) + " – " + secs(view.b) + " of " + secs(D.end_us);
    drawFlow();
  }

  function drawAxis() {
    var span = (view.b - view.a) / 1e6, steps = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600];
    var step = steps.find(function (s) { return span / s <= W / 90; }) || 600;
    ctx.fillStyle = "#57606a"; ctx.font = "11px system-ui, sans-serif"; ctx.textBaseline = "middle";
    var first = Math.ceil(view.a / 1e6 / step) * step;
    for (var s = first; s * 1e6 <= view.b; s += step) {
      var px = x(s * 1e6);
      ctx.strokeStyle = "#eef0f3"; ctx.beginPath(); ctx.moveTo(px + 0.5, 14); ctx.lineTo(px + 0.5, rows.height); ctx.stroke();
      ctx.fillText((step < 1 ? s.toFixed(3) : String(Math.round(s))) + " s", px + 3, 10);
    }
  }

  function windowColor(w, alpha) {
    if (w.action.indexOf("net-") === 0) return "rgba(207,34,46," + alpha + ")";
    if (w.action === "pause") return "rgba(130,80,223," + alpha + ")";
    return "rgba(59,64,72," + alpha + ")";
  }
  function drawWindows(overlay) {
    D.windows.forEach(function (w) {
      var a = Math.max(0, x(w.from)), b = Math.min(W, x(w.to));
      if (b < 0 || a > W) return;
      if (!overlay) {
        ctx.fillStyle = windowColor(w, 0.08); ctx.fillRect(a, 17, Math.max(1, b - a), rows.height - 17);
      } else {
        ctx.fillStyle = windowColor(w, 0.8); ctx.fillRect(a, 17, Math.max(2, b - a), 4);
        ctx.font = "bold 11px system-ui, sans-serif"; ctx.fillStyle = windowColor(w, 1); ctx.textBaseline = "middle";
        var label = w.action + (w.nodes.length ? " " + w.nodes.join(",") : "") + (w.open ? " (never ended)" : "");
        if (b - a > 40) ctx.fillText(label, a + 2, 29);
      }
    });
  }

  function drawEvents() {
    D.faults.forEach(function (f) {
      var px = x(f.t_us); if (px < 0 || px > W) return;
      ctx.strokeStyle = ["heal", "restart", "resume"].indexOf(f.action) >= 0 ? "#1a7f37" : f.action.indexOf("workload") === 0 ? "#8c959f" : "#cf222e";
      ctx.setLineDash([3, 3]); ctx.beginPath(); ctx.moveTo(px + 0.5, 17); ctx.lineTo(px + 0.5, rows.height); ctx.stroke(); ctx.setLineDash([]);
    });
  }

  function drawLeader(r) {
    D.leader.forEach(function (s) {
      var a = x(s.from), b = x(s.to); if (b < 0 || a > W) return;
      ctx.fillStyle = nodeColor(s.node); ctx.fillRect(a, r.y + 4, Math.max(1, b - a), r.h - 8);
      if (b - a > 46) { ctx.fillStyle = "#fff"; ctx.font = "11px system-ui"; ctx.fillText("node " + s.node + " · t" + s.term, Math.max(a, 0) + 3, r.y + r.h / 2); }
    });
  }

  function spanRects(list, r, top, h, colorOf, text) {
    list.forEach(function (s) {
      var a = x(s.from), b = x(s.to); if (b < 0 || a > W) return;
      ctx.fillStyle = colorOf(s); ctx.fillRect(a, r.y + top, Math.max(1.5, b - a), h);
      if (text && b - a > 30) {
        ctx.fillStyle = "#fff"; ctx.font = "11px system-ui"; ctx.fillText(text(s), Math.max(a, 0) + 3, r.y + top + h / 2);
      }
    });
  }

  function drawNode(r) {
    var n = r.node, count = 0;
    n.roles.forEach(function (s) {
      var a = x(s.from), b = x(s.to); if (b < 0 || a > W) return;
      count++;
      ctx.fillStyle = COLORS[s.band]; ctx.fillRect(a, r.y + 5, Math.max(1, b - a), r.h - 10);
      if (b - a > 26) {
        ctx.fillStyle = s.band === "Follower" ? "#0b3d91" : "#fff"; ctx.font = "11px system-ui";
        ctx.fillText("t" + s.term + (s.band === "Leader" ? " leader" : ""), Math.max(a, 0) + 3, r.y + r.h / 2);
      }
    });
    spanRects(n.silent, r, 1, 3, function () { return COLORS.silent; });
    spanRects(n.down, r, 5, r.h - 10, function (s) { return COLORS[s.why]; }, function (s) { return s.why; });
    spanRects(n.cut, r, r.h - 6, 5, function () { return COLORS.cut_off; }, null);
    n.restarts.forEach(function (t) {
      var px = x(t); if (px < -5 || px > W + 5) return;
      ctx.fillStyle = "#1d2330"; ctx.beginPath(); ctx.moveTo(px, r.y + r.h - 2); ctx.lineTo(px - 5, r.y + r.h + 5 - 2); ctx.lineTo(px + 5, r.y + r.h + 5 - 2); ctx.fill();
      ctx.beginPath(); ctx.moveTo(px - 4, r.y + 3); ctx.lineTo(px + 4, r.y + 3); ctx.lineTo(px, r.y + 9); ctx.fill();
    });
    drawnByNode[n.id] = count + n.down.length + n.cut.length;
  }

  function visibleSeconds() {
    var a = Math.max(0, Math.floor(view.a / 1e6)), b = Math.min(D.rate.ok.length - 1, Math.floor(view.b / 1e6));
    return [a, b];
  }
  function drawRate(r) {
    var R = D.rate, vs = visibleSeconds(), max = 1;
    for (var s = vs[0]; s <= vs[1]; s++) max = Math.max(max, R.ok[s] + R.fail[s] + R.info[s]);
    for (s = vs[0]; s <= vs[1]; s++) {
      var a = x(s * 1e6), b = x((s + 1) * 1e6), w = Math.max(1, b - a - (b - a > 4 ? 1 : 0)), base = r.y + r.h - 2, hh = r.h - 12;
      [["ok", COLORS.ok], ["fail", COLORS.fail], ["info", COLORS.info]].forEach(function (p) {
        var v = R[p[0]][s] / max * hh; if (!v) return;
        ctx.fillStyle = p[1]; ctx.fillRect(a, base - v, w, v); base -= v;
      });
    }
    ctx.fillStyle = "#57606a"; ctx.font = "10px system-ui"; ctx.fillText("max " + max + "/s", W - 70, r.y + 8);
  }
  function drawLatency(r) {
    var R = D.rate, vs = visibleSeconds(), lo = 1e9, hi = 1;
    for (var s = vs[0]; s <= vs[1]; s++) { if (R.p99[s] !== null) hi = Math.max(hi, R.p99[s]); if (R.p50[s] !== null) lo = Math.min(lo, R.p50[s]); }
    lo = Math.max(100, Math.min(lo, hi) / 2);
    var L = Math.log(lo), H = Math.log(Math.max(hi * 1.2, lo * 10));
    function y(v) { return r.y + r.h - 3 - (Math.log(Math.max(v, lo)) - L) / (H - L) * (r.h - 10); }
    [["p99", "#cf222e"], ["p50", "#0969da"]].forEach(function (p) {
      ctx.strokeStyle = p[1]; ctx.lineWidth = 1.5; ctx.beginPath();
      var started = false;
      for (var s = vs[0]; s <= vs[1]; s++) {
        var v = R[p[0]][s]; if (v === null) { started = false; continue; }
        var px = x((s + 0.5) * 1e6);
        if (!started) { ctx.moveTo(px, y(v)); started = true; } else ctx.lineTo(px, y(v));
        ctx.fillStyle = p[1]; ctx.fillRect(px - 1.5, y(v) - 1.5, 3, 3);
      }
      ctx.stroke(); ctx.lineWidth = 1;
    });
    ctx.fillStyle = "#57606a"; ctx.font = "10px system-ui";
    ctx.fillText("log scale, up to " + ms(Math.exp(H)), W - 150, r.y + 8);
  }

  // Operations of one key: per lane, visible ops only, at most one rectangle per pixel column and colour.
  function lowerBound(lane, t) { // first op in lane whose drawn end >= t (ends grow along a lane)
    var lo = 0, hi = lane.length;
    while (lo < hi) { var m = (lo + hi) >> 1; if (end[lane[m]] < t) lo = m + 1; else hi = m; }
    return lo;
  }
  function drawKey(r) {
    var lanes = keyLanes[r.key], lh = r.laneH, marks = [];
    for (var l = 0; l < lanes.length; l++) {
      var lane = lanes[l], y = r.y + 1 + l * lh, lastPx = -1, lastColor = "";
      for (var k = lowerBound(lane, view.a); k < lane.length; k++) {
        var i = lane[k]; if (inv[i] > view.b) break;
        var a = x(inv[i]), b = x(end[i]), px0 = Math.floor(a), px1 = Math.max(px0 + 1, Math.ceil(b));
        var color = COLORS[OUT[O.out[i]]];
        if (done[i] < 0) color = COLORS.info;
        if (!(px1 <= lastPx && color === lastColor)) {
          ctx.globalAlpha = done[i] < 0 ? 0.45 : 1;
          ctx.fillStyle = color; ctx.fillRect(px0, y, Math.max(1, Math.min(px1, W + 1) - px0 - (px1 - px0 > 3 ? 1 : 0)), Math.max(1, lh - 1));
          ctx.globalAlpha = 1;
          lastPx = px1; lastColor = color;
        }
        var f = focus[O.id[i]];
        if (f || i === selected) marks.push([i, px0, px1, y, f]);
      }
    }
    marks.forEach(function (m) {
      var f = m[4], i = m[0];
      ctx.lineWidth = 2; ctx.strokeStyle = i === selected ? "#000" : FOCUS_COLOR[f.kind];
      var w = Math.max(5, m[2] - m[1]);
      ctx.strokeRect(m[1] - 1, m[3] - 1, w + 2, Math.max(3, lh) + 1);
      if (f && f.kind === "stuck") {
        ctx.strokeStyle = "rgba(209,36,47,.6)"; ctx.setLineDash([4, 3]);
        ctx.beginPath(); ctx.moveTo(m[1] + 0.5, r.y); ctx.lineTo(m[1] + 0.5, r.y + r.h); ctx.stroke(); ctx.setLineDash([]);
        stuckLabels.push(["✗ op " + O.id[i] + " cannot be placed", m[1] + 8, m[3] + lh / 2]);
      }
      ctx.lineWidth = 1;
      if (f) highlighted++;
    });
  }

  // ---------- interaction ----------
  function clampView(a, b) {
    var full = Math.max(1, D.end_us), w = Math.max(200, Math.min(full, b - a));
    a = Math.max(0, Math.min(a, full - w));
    view.a = a; view.b = a + w;
  }
  function zoom(f, cx) {
    var t = tAt(cx === undefined ? W / 2 : cx), a = t - (t - view.a) * f, b = t + (view.b - t) * f;
    clampView(a, b); draw();
  }
  canvas.addEventListener("wheel", function (e) { e.preventDefault(); zoom(e.deltaY > 0 ? 1.25 : 0.8, e.offsetX); }, { passive: false });
  var drag = null;
  canvas.addEventListener("mousedown", function (e) { drag = { x: e.clientX, a: view.a, b: view.b, moved: false }; });
  window.addEventListener("mouseup", function (e) {
    if (drag && !drag.moved && !drag.flow) pick(e);
    drag = null;
  });
  window.addEventListener("mousemove", function (e) {
    if (drag) {
      var dx = e.clientX - drag.x; if (Math.abs(dx) > 2) drag.moved = true;
      var dt = dx / W * (drag.b - drag.a); clampView(drag.a - dt, drag.b - dt); draw();
    }
  });
  // The message flow shares the timeline's view: the same zoom, pan and whole-run gestures.
  fcanvas.addEventListener("wheel", function (e) { e.preventDefault(); zoom(e.deltaY > 0 ? 1.25 : 0.8, e.offsetX); }, { passive: false });
  fcanvas.addEventListener("mousedown", function (e) { drag = { x: e.clientX, a: view.a, b: view.b, moved: false, flow: true }; });
  fcanvas.addEventListener("dblclick", function () { clampView(0, D.end_us); draw(); });
  fcanvas.addEventListener("mousemove", function (e) { tip(e, describeFlow); });
  fcanvas.addEventListener("mouseleave", function () { document.getElementById("tip").hidden = true; });
  canvas.addEventListener("mousemove", function (e) { tip(e); });
  canvas.addEventListener("mouseleave", function () { document.getElementById("tip").hidden = true; });
  canvas.addEventListener("dblclick", function () { clampView(0, D.end_us); draw(); });
  document.getElementById("zoom-in").onclick = function () { zoom(0.5); };
  document.getElementById("zoom-out").onclick = function () { zoom(2); };
  document.getElementById("zoom-fit").onclick = function () { clampView(0, D.end_us); draw(); };
  window.addEventListener("resize", draw);

  function rowAt(y) { return rows.find(function (r) { return y >= r.y && y < r.y + r.h; }); }
  function opAt(r, t, y) {
    var l = Math.floor((y - r.y - 1) / r.laneH), lane = keyLanes[r.key][l]; if (!lane) return -1;
    var slack = (view.b - view.a) / W * 2;
    for (var k = lowerBound(lane, t - slack); k < lane.length; k++) {
      var i = lane[k]; if (inv[i] > t + slack) break;
      if (inv[i] - slack <= t && t <= end[i] + slack) return i;
    }
    return -1;
  }
  function spanAt(list, t) { return list.find(function (s) { return s.from <= t && t <= s.to; }); }
  function describe(e) {
    var r = rowAt(e.offsetY), t = tAt(e.offsetX);
    var w = D.windows.filter(function (w) { return w.from <= t && t <= w.to; }).map(function (w) {
      return "fault " + w.action + (w.nodes.length ? " " + w.nodes.join(",") : "") + " " + secs(w.from) + " – " + (w.open ? "end of run" : secs(w.to));
    });
    var lines = [secs(t)];
    if (r && r.kind === "node") {
      var n = r.node, s = spanAt(n.roles, t), d = spanAt(n.down, t), c = spanAt(n.cut, t), q = spanAt(n.silent, t);
      lines.push("node " + n.id + " (" + n.kind + ")");
      if (s) lines.push(s.band + " term " + s.term + (s.leader ? ", names leader " + s.leader : "") + "  [" + secs(s.from) + " – " + secs(s.to) + "]");
      if (d) lines.push(d.why + " " + secs(d.from) + " – " + (d.open ? "end of run" : secs(d.to)));
      if (c) lines.push("cut off " + secs(c.from) + " – " + (c.open ? "end of run" : secs(c.to)));
      if (q) lines.push("silent (GetStatus failed) " + secs(q.from) + " – " + secs(q.to));
    } else if (r && r.kind === "leader") {
      var l = spanAt(D.leader, t);
      lines.push(l ? "current leader: node " + l.node + " term " + l.term + " (a majority reports its term)" : "no current leader");
    } else if (r && (r.kind === "rate" || r.kind === "lat")) {
      var sec = Math.floor(t / 1e6), R = D.rate;
      if (sec < R.ok.length) lines.push("second " + sec + ": " + R.ok[sec] + " ok, " + R.fail[sec] + " fail, " + R.info[sec] + " info" +
        (R.p50[sec] !== null ? "; p50 " + ms(R.p50[sec]) + ", p99 " + ms(R.p99[sec]) : ""));
    } else if (r && r.kind === "key") {
      var i = opAt(r, t, e.offsetY);
      if (i >= 0) { lines.push(opLine(i)); var f = focus[O.id[i]]; if (f) lines.push(focusText(f)); }
    }
    return lines.concat(w).join("\n");
  }
  function focusText(f) {
    if (f.kind === "stuck") return "linearizability: this operation cannot be placed (key " + f.key + ")";
    if (f.kind === "prefix") return "linearizability: step " + f.step + " of the longest linearizable prefix, state after: " + f.state;
    return "linearizability: open when the search got stuck" + (f.kind === "rejected" ? " (refused by the register)" : "");
  }
  function tip(e, how) {
    var box = document.getElementById("tip");
    if (drag && drag.moved) { box.hidden = true; return; }
    box.textContent = (how || describe)(e); box.hidden = false;
    box.style.left = Math.min(e.clientX + 14, window.innerWidth - 470) + "px"; box.style.top = (e.clientY + 14) + "px";
  }
  function pick(e) {
    var rect = canvas.getBoundingClientRect(), ox = e.clientX - rect.left, oy = e.clientY - rect.top;
    if (ox < 0 || oy < 0 || ox > rect.width || oy > rect.height) return;
    var r = rowAt(oy);
    if (r && r.kind === "key") { var i = opAt(r, tAt(ox), oy); if (i >= 0) select(i, false); }
  }
  function select(i, zoomTo) {
    selected = i;
    if (zoomTo) {
      var pad = Math.max(200000, (end[i] - inv[i]) * 3);
      clampView(inv[i] - pad, end[i] + pad);
    }
    draw();
    var box = document.getElementById("selected");
    box.innerHTML = "";
    var d = el("div", { "class": "op mono", id: "op-" + O.id[i] }, opLine(i) + (focus[O.id[i]] ? "\n" + focusText(focus[O.id[i]]) : ""));
    d.style.whiteSpace = "pre-wrap";
    box.appendChild(d);
  }
  function showTime(t) {
    var w = Math.max(2e6, (view.b - view.a) / 4);
    clampView(t - w / 2, t + w / 2); draw();
  }
  function flash(node) { node.classList.remove("flash"); void node.offsetWidth; node.classList.add("flash"); }
  document.addEventListener("click", function (e) {
    var a = e.target.closest && e.target.closest("a[data-op],a[data-node],a[data-entry],a[data-t]");
    if (!a) return;
    e.preventDefault();
    var sec = document.getElementById("timeline-sec");
    if (a.dataset.op !== undefined) { select(rowOfId[a.dataset.op], true); sec.scrollIntoView({ behavior: "smooth" }); }
    else if (a.dataset.node !== undefined) {
      var lab = document.getElementById("label-node-" + a.dataset.node);
      if (lab) { flash(lab); sec.scrollIntoView({ behavior: "smooth" }); }
      var tr = document.getElementById("node-" + a.dataset.node); if (tr) flash(tr);
    } else if (a.dataset.entry !== undefined) {
      var en = document.getElementById("entry-" + a.dataset.entry);
      if (en) { en.scrollIntoView({ behavior: "smooth" }); flash(en); }
    } else { showTime(Number(a.dataset.t)); sec.scrollIntoView({ behavior: "smooth" }); }
  });

  // ---------- first draw, then report readiness ----------
  // A failing linearizability check: open the timeline on the operation that cannot be placed.
  if (D.lin.length && rowOfId[D.lin[0].stuck] !== undefined) {
    var s0 = rowOfId[D.lin[0].stuck], first = s0;
    D.lin[0].prefix.forEach(function (p) { if (rowOfId[p[0]] !== undefined) first = Math.min(first, rowOfId[p[0]]); });
    var pad = Math.max(300000, (end[s0] - inv[first]) * 0.6);
    if (D.end_us > 20e6) clampView(inv[first] - pad, end[s0] + pad);
  }
  draw();
  var st = document.getElementById("page-status");
  st.setAttribute("data-nodes", D.nodes.map(function (n) { return n.id; }).join(","));
  st.setAttribute("data-drawn", D.nodes.map(function (n) { return n.id + ":" + (drawnByNode[n.id] || 0); }).join(","));
  st.setAttribute("data-ops", String(N));
  st.setAttribute("data-highlighted", String(highlighted));
  st.setAttribute("data-flow", !F ? "none" : FN ? "drawn" : "empty");
  st.setAttribute("data-flow-calls", String(FN));
  st.setAttribute("data-flow-drawn", flowDrawn.map(function (d) { return d.join(":"); }).join(","));
  st.setAttribute("data-failing", failing.map(function (c) { return c.name; }).join(","));
  st.setAttribute("data-parse-ms", parseMs.toFixed(1));
  st.setAttribute("data-render-ms", (performance.now() - t0).toFixed(1));
  // Since navigation start: HTML parsed up to this script, and the page drawn.
  st.setAttribute("data-script-start-ms", t0.toFixed(1));
  st.setAttribute("data-ready-ms", performance.now().toFixed(1));
  st.setAttribute("data-errors", String(window.pageErrors.length));
  st.setAttribute("data-ready", "1");
})();
