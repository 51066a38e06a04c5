(function () {
  "use strict";
  // One interactive attention figure of gnnbook.web. Everything is scoped to `root`, the figure's own
  // <div>, so several figures on one page never clash. The figure's JSON (gnnbook.web.PAGE_SCHEMA)
  // carries the layers' weights, the features, the kinds (kind_info) and the drawing constants
  // (style, from gnnbook.attention_model.STYLE); attention is recomputed here in float64.
  var script = document.currentScript;
  var root = script && script.parentNode;
  if (!root || !root.classList || !root.classList.contains("gnnbook-attention")) root = document.getElementById("__FIGURE_ID__");
  if (!root || root.getAttribute("data-ready") === "1") return;
  root.setAttribute("data-ready", "1");
  var P = JSON.parse(root.querySelector("script.gnnbook-params").textContent);
  var S = P.style, N = P.n, E = P.src.length, H = P.heads, F = P.out_feats, D = P.in_feats;
  var GRAPH = { src: P.src, dst: P.dst };  // the graph's own edges
  var PE_K = P.pe ? P.pe.k : 0;
  var SIZE = S.size_classes.filter(function (c) { return c.max_nodes === null || N <= c.max_nodes; })[0];
  var W = 560, HT = 430, PAD = 46, R = SIZE.svg_radius, LOOP = SIZE.svg_loop;

  // ---- the attention computation ------------------------------------------------------------------
  function project(Wm, b, h) {
    var out = new Array(Wm.length);
    for (var r = 0; r < Wm.length; r++) {
      var s = b ? b[r] : 0.0, row = Wm[r];
      for (var c = 0; c < D; c++) s += row[c] * h[c];
      out[r] = s;
    }
    return out;
  }
  function leaky(x, slope) { return x > 0 ? x : slope * x; }
  function dotHead(x, y, h, wx) {  // sum_f x[hF+f] y[hF+f] (wx: a per-feature weight, or none)
    var t = 0.0;
    for (var f = 0; f < F; f++) t += x[h * F + f] * (wx ? wx[f] : y[h * F + f]);
    return t;
  }
  // One score formula per attention kind (gnnbook.attention_model.KINDS): e[k][h] for edge k = j -> i
  // of the edge list ed, with zs/zd the projected source/destination features, L the kind's weights,
  // s the scale.
  var SCORES = {
    gat: function (ed, L, zs, zd, s, slope) {  // e_ij = LeakyReLU(s a_l.z_j + s a_r.z_i)
      var el = zs.map(function (z) { var r = []; for (var h = 0; h < H; h++) r.push(s * dotHead(z, null, h, L.al[h])); return r; });
      var er = zd.map(function (z) { var r = []; for (var h = 0; h < H; h++) r.push(s * dotHead(z, null, h, L.ar[h])); return r; });
      return edgeScores(ed, function (j, i, h) { return leaky(el[j][h] + er[i][h], slope); });
    },
    gatv2: function (ed, L, zs, zd, s, slope) {  // e_ij = (s a).LeakyReLU(z_j + z_i)
      return edgeScores(ed, function (j, i, h) {
        var t = 0.0;
        for (var f = 0; f < F; f++) t += leaky(zs[j][h * F + f] + zd[i][h * F + f], slope) * (s * L.a[h][f]);
        return t;
      });
    },
    dot: function (ed, L, zs, zd, s) {  // e_ij = s z_j.z_i / sqrt(F)
      return edgeScores(ed, function (j, i, h) { return s * dotHead(zs[j], zd[i], h, null) / Math.sqrt(F); });
    },
    transformer: function (ed, L, zs, zd, s) {  // e_ij = s q_i.k_j / sqrt(F): zs holds k = W_k h + b_k, zd q = W_q h + b_q
      return edgeScores(ed, function (j, i, h) { return s * dotHead(zd[i], zs[j], h, null) / Math.sqrt(F); });
    }
  };
  function edgeScores(ed, score) {
    var e = new Array(ed.src.length);
    for (var k = 0; k < ed.src.length; k++) { e[k] = []; for (var h = 0; h < H; h++) e[k].push(score(ed.src[k], ed.dst[k], h)); }
    return e;
  }
  // gnnbook.attention_model.full_graph: edge i*N + j is j -> i (only: the N edges into `into`)
  function fullEdges(into) {
    var ed = { src: [], dst: [] };
    for (var i = 0; i < N; i++) {
      if (into !== undefined && i !== into) continue;
      for (var j = 0; j < N; j++) { ed.src.push(j); ed.dst.push(i); }
    }
    return ed;
  }
  // alpha per edge of ed (default: the graph's edges, or every pair under full attention) and head
  function attention(st, ed) {
    ed = ed || (st.full ? fullEdges() : GRAPH);
    var L = P.kinds[st.kind];
    var feat = P.feat.map(function (row) { return row.slice(); });
    if (st.perturb !== 0 && st.perturb_node !== null) {
      for (var c = 0; c < P.direction.length; c++) feat[st.perturb_node][c] += st.perturb * P.direction[c];
    }
    // gnnbook.attention_model.with_encoding: [h || p], p the chosen encoding or zeros
    if (PE_K > 0) {
      feat = feat.map(function (row, v) { return row.concat(st.pe === "none" ? new Array(PE_K).fill(0.0) : P.pe.encodings[st.pe][v]); });
    }
    var s = st.scale;
    if (P.kind_info[st.kind].vectors.length === 0) {  // no vectors: sqrt(s) on the projection, as in Python
      s = 1.0;
      var r = Math.sqrt(st.scale);
      L = { Ws: L.Ws.map(function (row) { return row.map(function (w) { return w * r; }); }), bs: L.bs && L.bs.map(function (b) { return b * r; }),
            Wd: L.Wd && L.Wd.map(function (row) { return row.map(function (w) { return w * r; }); }), bd: L.bd && L.bd.map(function (b) { return b * r; }) };
    }
    var zs = feat.map(function (x) { return project(L.Ws, L.bs, x); });
    var zd = L.Wd ? feat.map(function (x) { return project(L.Wd, L.bd, x); }) : zs;
    var e = SCORES[st.kind](ed, L, zs, zd, s, st.slope), M = ed.src.length;
    // softmax over each destination's incoming edges, per head (max subtracted first)
    var peak = [], total = [], alpha = new Array(M), k, h, v;
    for (v = 0; v < N; v++) { peak.push(new Array(H).fill(-Infinity)); total.push(new Array(H).fill(0.0)); }
    for (k = 0; k < M; k++) for (h = 0; h < H; h++) peak[ed.dst[k]][h] = Math.max(peak[ed.dst[k]][h], e[k][h]);
    for (k = 0; k < M; k++) {
      alpha[k] = [];
      for (h = 0; h < H; h++) { var w = Math.exp(e[k][h] - peak[ed.dst[k]][h]); alpha[k].push(w); total[ed.dst[k]][h] += w; }
    }
    for (k = 0; k < M; k++) for (h = 0; h < H; h++) alpha[k][h] /= total[ed.dst[k]][h];
    return alpha;
  }
  function pickHead(alpha, head) {  // gnnbook.attention_model.pick_head: "mean" averages the heads
    return alpha.map(function (row) {
      if (head !== "mean") return row[head];
      var m = 0.0;
      for (var h = 0; h < row.length; h++) m += row[h];
      return m / row.length;
    });
  }

  // ---- geometry: positions, arcs, label spots (as gnnbook.draw does it) ----------------------------
  var XY = P.pos.map(function (p) { return [PAD + (p[0] + 1) / 2 * (W - 2 * PAD), PAD - 8 + (1 - (p[1] + 1) / 2) * (HT - 2 * PAD - 40)]; });
  var cx = 0, cy = 0;
  XY.forEach(function (p) { cx += p[0] / N; cy += p[1] / N; });
  function outward(u) {
    var ox = XY[u][0] - cx, oy = XY[u][1] - cy, n = Math.hypot(ox, oy);
    return n < 1e-9 ? [0, -1] : [ox / n, oy / n];
  }
  function control(u, v) {  // the quadratic Bezier's control point (matplotlib's arc3, SVG's y points down)
    var dx = XY[v][0] - XY[u][0], dy = XY[v][1] - XY[u][1];
    return [(XY[u][0] + XY[v][0]) / 2 - S.arc_rad * dy, (XY[u][1] + XY[v][1]) / 2 + S.arc_rad * dx];
  }
  function bezier(u, v, t) {
    var q = control(u, v), a = (1 - t) * (1 - t), b = 2 * t * (1 - t), c = t * t;
    return [a * XY[u][0] + b * q[0] + c * XY[v][0], a * XY[u][1] + b * q[1] + c * XY[v][1]];
  }
  function labelSpots(u, v) {  // where an edge's α label may go, in order of preference
    if (u === v) {
      var o = outward(u), d = R + LOOP * 2.2;
      return [0, 0.8, -0.8, 1.6, -1.6, 2.4, -2.4].map(function (ang) {
        var c = Math.cos(ang), s = Math.sin(ang);
        return [XY[u][0] + (o[0] * c - o[1] * s) * d, XY[u][1] + (o[0] * s + o[1] * c) * d];
      });
    }
    return S.label_at.map(function (t) { return bezier(u, v, t); });
  }
  // gnnbook.attention_model.place_labels: the first spot whose box meets no node and no earlier label
  // (and, here, stays inside the picture: an SVG clips what leaves its viewBox).
  function placeLabels(items, font) {
    var placed = [];
    function box(p, text) { var hw = 0.31 * font * text.length + 0.45 * font, hh = 0.85 * font; return [p[0] - hw, p[1] - hh, p[0] + hw, p[1] + hh]; }
    function hits(b) {
      var n = b[0] < 0 || b[1] < 0 || b[2] > W || b[3] > HT ? 1 : 0;
      placed.forEach(function (o) { if (b[0] < o[2] && o[0] < b[2] && b[1] < o[3] && o[1] < b[3]) n++; });
      XY.forEach(function (p) {
        var qx = Math.min(Math.max(p[0], b[0]), b[2]), qy = Math.min(Math.max(p[1], b[1]), b[3]);
        if (Math.hypot(p[0] - qx, p[1] - qy) < R) n++;
      });
      return n;
    }
    return items.map(function (it) {  // null: no free spot, the label is left out
      for (var i = 0; i < it.spots.length; i++) {
        var b = box(it.spots[i], it.text);
        if (hits(b) === 0) { placed.push(b); return it.spots[i]; }
      }
      return null;
    });
  }

  // ---- drawing ----------------------------------------------------------------------------------
  function colour(a, vmax) {
    var t = Math.min(Math.max(vmax > 0 ? a / vmax : 0, 0), 1) * (P.cmap.length - 1);
    var i = Math.min(Math.floor(t), P.cmap.length - 2), u = t - i, rgb = [0, 1, 2].map(function (c) {
      return Math.round(255 * (P.cmap[i][c] * (1 - u) + P.cmap[i + 1][c] * u));
    });
    return "rgb(" + rgb.join(",") + ")";
  }
  function fmt(x, d) { return (Math.round(x * Math.pow(10, d)) / Math.pow(10, d)).toFixed(d); }
  function esc(s) { return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;"); }
  function width(a, vmax) { var w = S.width_range; return w[0] + (w[1] - w[0]) * Math.min(Math.max(vmax > 0 ? a / vmax : 0, 0), 1); }
  // one edge u -> v: with its alpha a (data-eid k, a tooltip), or a = null: the graph's edge drawn
  // faintly under full attention (no alpha of its own)
  function edgeShape(u, v, k, a, vmax, faded) {
    var lw = faded ? S.faded_width : width(a, vmax);
    var paint = faded ? ' class="ga-faded"' : ' stroke="' + colour(a, vmax) + '"', fill = faded ? ' class="ga-faded-fill"' : ' fill="' + colour(a, vmax) + '"';
    var head = a === null
      ? '<g class="ga-under" opacity="' + S.underlay_opacity + '">'
      : '<g class="ga-edge" data-eid="' + k + '" data-src="' + u + '" data-dst="' + v + '" data-alpha="' + String(a) + '"><title>' +
        esc(P.labels[u]) + " \u2192 " + esc(P.labels[v]) + ": \u03b1 = " + a.toFixed(6) + "</title>";
    if (u === v) {
      var o = outward(u), lx = XY[u][0] + o[0] * (R + LOOP * 0.6), ly = XY[u][1] + o[1] * (R + LOOP * 0.6);
      return head + '<circle cx="' + lx.toFixed(2) + '" cy="' + ly.toFixed(2) + '" r="' + LOOP + '" fill="none"' + paint + ' stroke-width="' + lw.toFixed(2) + '"/></g>';
    }
    var x0 = XY[u][0], y0 = XY[u][1], x2 = XY[v][0], y2 = XY[v][1], q = control(u, v), qx = q[0], qy = q[1];
    function toward(px, py, tx, ty, dist) { var l = Math.hypot(tx - px, ty - py) || 1; return [px + (tx - px) / l * dist, py + (ty - py) / l * dist]; }
    var a0 = toward(x0, y0, qx, qy, R + 2), tipP = toward(x2, y2, qx, qy, R + 2);
    var alen = 5 + 1.3 * lw, aw = 2.6 + 0.85 * lw;
    var dl = Math.hypot(tipP[0] - qx, tipP[1] - qy) || 1, ux = (tipP[0] - qx) / dl, uy = (tipP[1] - qy) / dl;
    var bx = tipP[0] - ux * alen, by = tipP[1] - uy * alen;
    return head + '<path d="M' + a0[0].toFixed(2) + "," + a0[1].toFixed(2) + " Q" + qx.toFixed(2) + "," + qy.toFixed(2) + " " + (bx + ux * 0.5).toFixed(2) + "," + (by + uy * 0.5).toFixed(2) +
      '" fill="none"' + paint + ' stroke-width="' + lw.toFixed(2) + '"/><polygon points="' + tipP[0].toFixed(2) + "," + tipP[1].toFixed(2) + " " +
      (bx - uy * aw).toFixed(2) + "," + (by + ux * aw).toFixed(2) + " " + (bx + uy * aw).toFixed(2) + "," + (by - ux * aw).toFixed(2) + '"' + fill + "/></g>";
  }
  function colourBar(vmax) {
    var gid = root.id + "-grad", bar = '<defs><linearGradient id="' + gid + '" x1="0" x2="1" y1="0" y2="0">';
    P.cmap.forEach(function (c, i) { bar += '<stop offset="' + (i / (P.cmap.length - 1)).toFixed(3) + '" stop-color="' + colour(i / (P.cmap.length - 1), 1) + '"/>'; });
    var bx0 = 150, bw = 260, by0 = HT - 34;
    bar += '</linearGradient></defs><rect x="' + bx0 + '" y="' + by0 + '" width="' + bw + '" height="10" fill="url(#' + gid + ')" stroke="#888" stroke-width="0.5"/>';
    [0, 0.5, 1].forEach(function (t) { bar += '<text class="ga-tick" x="' + (bx0 + t * bw) + '" y="' + (by0 + 24) + '">' + fmt(t * vmax, 3) + "</text>"; });
    return bar + '<text class="ga-barlabel" x="' + (bx0 - 8) + '" y="' + (by0 + 9) + '">\u03b1 (width, colour)</text>';
  }

  var ctl = {};
  root.querySelectorAll("[data-control]").forEach(function (el) { ctl[el.getAttribute("data-control")] = el; });
  var holder = root.querySelector(".ga-svg"), info = root.querySelector(".ga-info");
  function readState() {
    var head = ctl.head.value, p = ctl.perturb_node.value;
    return {
      node: parseInt(ctl.node.value, 10), head: head === "mean" ? "mean" : parseInt(head, 10), kind: ctl.kind.value,
      slope: parseFloat(ctl.slope.value), scale: parseFloat(ctl.scale.value),
      perturb_node: p === "" ? null : parseInt(p, 10), perturb: parseFloat(ctl.perturb.value),
      full: ctl.full.checked, pe: ctl.pe.value
    };
  }
  // gnnbook.attention_model.sources_of: the in-neighbours, or every node under full attention
  function neighbourOptions(node, keep) {
    var seen = {}, opts = "", ed = ctl.full.checked ? fullEdges(node) : GRAPH;
    for (var k = 0; k < ed.src.length; k++) {
      if (ed.dst[k] !== node || seen[ed.src[k]]) continue;
      seen[ed.src[k]] = true;
      var j = ed.src[k];
      opts += '<option value="' + j + '"' + (j === keep ? " selected" : "") + ">" + esc(P.labels[j]) + (j === node ? " (itself)" : "") + "</option>";
    }
    ctl.perturb_node.innerHTML = opts || '<option value="">none</option>';
    if (keep === null || !seen[keep]) ctl.perturb_node.selectedIndex = 0;
  }
  function render() {
    var st = readState(), focusKey = document.activeElement && holder.contains(document.activeElement) ? document.activeElement.getAttribute("data-node") : null;
    // full attention: only the N edges into the focused node are computed (a softmax per
    // destination: the same numbers as over all N^2 pairs) and drawn over the graph's own edges
    var ed = st.full ? fullEdges(st.node) : GRAPH, M = ed.src.length, base = st.full ? st.node * N : 0;
    var alpha = pickHead(attention(st, ed), st.head);
    var vmax = 0;
    alpha.forEach(function (a) { vmax = Math.max(vmax, a); });
    if (P.vmax !== null && P.vmax !== undefined) vmax = P.vmax;
    if (!(vmax > 0)) vmax = 1;
    var order = [];
    for (var k = 0; k < M; k++) order.push(k);
    order.sort(function (p, q) { var fp = ed.dst[p] === st.node, fq = ed.dst[q] === st.node; return fp !== fq ? (fp ? 1 : -1) : alpha[p] - alpha[q]; });
    var edges = "", items = [], inNbrs = {}, best = null;
    if (st.full) for (var g = 0; g < E; g++) edges += edgeShape(P.src[g], P.dst[g], g, null, vmax, true);
    order.forEach(function (k) {
      var focusEdge = ed.dst[k] === st.node;
      edges += edgeShape(ed.src[k], ed.dst[k], base + k, alpha[k], vmax, !focusEdge);
      if (focusEdge) {
        items.push({ k: base + k, a: alpha[k], text: fmt(alpha[k], 2), spots: labelSpots(ed.src[k], ed.dst[k]) });
        inNbrs[ed.src[k]] = true;
        if (best === null || alpha[k] > alpha[best]) best = k;
      }
    });
    items.sort(function (p, q) { return q.a - p.a; });
    items = items.slice(0, S.label_cap);
    var spots = placeLabels(items, SIZE.svg_font - 1), text = "";
    items.forEach(function (it, i) {
      if (spots[i] !== null) text += '<text class="ga-alpha" data-eid="' + it.k + '" x="' + spots[i][0].toFixed(1) + '" y="' + spots[i][1].toFixed(1) + '">' + it.text + "</text>";
    });
    var nodes = "";
    for (var v = 0; v < N; v++) {
      var cls = v === st.node ? "ga-node ga-focus" : inNbrs[v] ? "ga-node ga-nbr" : "ga-node";
      var pert = st.perturb !== 0 && st.perturb_node === v ? " ga-perturbed" : "";
      nodes += '<g class="' + cls + pert + '" data-node="' + v + '" tabindex="0" role="button" aria-pressed="' + (v === st.node) + '" aria-label="node ' + esc(P.labels[v]) +
        '"><circle cx="' + XY[v][0].toFixed(2) + '" cy="' + XY[v][1].toFixed(2) + '" r="' + R + '"/>' +
        (N <= S.label_nodes_max ? '<text x="' + XY[v][0].toFixed(2) + '" y="' + XY[v][1].toFixed(2) + '" style="font-size:' + SIZE.svg_font + 'px">' + esc(P.labels[v]) + "</text>" : "") + "</g>";
    }
    var deg = 0, ent = 0;
    for (var kk = 0; kk < M; kk++) if (ed.dst[kk] === st.node) { deg += 1; if (alpha[kk] > 0) ent -= alpha[kk] * Math.log(alpha[kk]); }
    var label = (st.full ? "Full " : "") + P.kind_info[st.kind].label + " attention into node " + P.labels[st.node] + (H > 1 ? (st.head === "mean" ? ", mean of " + H + " heads" : ", head " + st.head) : "") +
      (st.pe !== "none" ? ", " + ctl.pe.options[ctl.pe.selectedIndex].text + " encoding" : "");
    var desc = "A graph of " + N + " nodes and " + E + " edges; " + (st.full ? "under full attention every node attends to every node: the graph's edges are drawn faintly, the " + N +
      " attention edges into the chosen node on top, their" : "edge") + " width and colour show attention \u03b1. Node " + P.labels[st.node] + " has " + deg +
      (st.full ? " sources" : " incoming edge" + (deg === 1 ? "" : "s")) + (best === null ? "." : "; the largest \u03b1 is " + fmt(alpha[best], 2) + " from node " + P.labels[ed.src[best]] + ".") +
      " Nodes are buttons: Tab to one, Enter or Space to focus it.";
    holder.innerHTML = '<svg viewBox="0 0 ' + W + " " + HT + '" role="group" aria-labelledby="' + root.id + '-svgtitle" aria-describedby="' + root.id + '-svgdesc"><title id="' + root.id + '-svgtitle">' + esc(label) +
      '</title><desc id="' + root.id + '-svgdesc">' + esc(desc) + '</desc><g class="ga-edges">' + edges + "</g>" + nodes + text + colourBar(vmax) + "</svg>";
    holder.querySelectorAll(".ga-node").forEach(function (g) {
      function choose() { ctl.node.value = g.getAttribute("data-node"); onNode(); }
      g.addEventListener("click", choose);
      g.addEventListener("keydown", function (ev) { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); choose(); } });
    });
    if (focusKey !== null) { var again = holder.querySelector('[data-node="' + focusKey + '"]'); if (again) again.focus(); }
    info.textContent = "node " + P.labels[st.node] + ": " + deg + (st.full ? " sources (full attention)" : " incoming edge" + (deg === 1 ? "" : "s")) + "; entropy of its attention " +
      fmt(ent, 3) + " nats (uniform attention: log " + deg + " = " + fmt(Math.log(Math.max(deg, 1)), 3) + ")";
    ["slope", "scale", "perturb"].forEach(function (name) { var o = root.querySelector('[data-show="' + name + '"]'); if (o) o.textContent = fmt(parseFloat(ctl[name].value), 2); });
    ctl.slope.disabled = P.kind_info[st.kind].controls.indexOf("slope") < 0;  // no LeakyReLU in this kind
    root.setAttribute("data-state", JSON.stringify(st));
  }
  function onNode() { var keep = readState().perturb_node; neighbourOptions(parseInt(ctl.node.value, 10), keep); render(); }
  var init = P.init;
  ctl.node.value = String(init.node);
  ctl.head.value = String(init.head);
  ctl.kind.value = init.kind;
  ctl.slope.value = String(init.slope);
  ctl.scale.value = String(init.scale);
  ctl.perturb.value = String(init.perturb);
  ctl.full.checked = init.full;
  ctl.pe.value = init.pe;
  neighbourOptions(init.node, init.perturb_node);
  ctl.node.addEventListener("change", onNode);
  ctl.full.addEventListener("change", onNode);  // the perturbation's choices change with it
  ["head", "kind", "perturb_node", "pe"].forEach(function (n) { ctl[n].addEventListener("change", render); });
  ["slope", "scale", "perturb"].forEach(function (n) { ctl[n].addEventListener("input", render); ctl[n].addEventListener("change", render); });
  var fallback = root.querySelector(".ga-nojs");
  if (fallback) fallback.parentNode.removeChild(fallback);
  // test hook: the browser test compares this with gnnbook's Python for every kind (all N^2 pairs
  // under full attention, in gnnbook.attention_model.full_graph's order)
  root.gnnbookAttention = function (st) { return attention(st); };
  render();
})();
