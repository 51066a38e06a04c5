(function () {
  "use strict";
  // One interactive attention figure of gnnbook.web. Everything is scoped to `root`, the figure's own
  // <div>, so several figures on one page never clash. Attention is recomputed here in float64 from
  // the layer weights and node features embedded in the figure's JSON block.
  var script = document.currentScript;
  var root = script && script.parentNode;
  if (!root || !root.classList || !root.classList.contains("gnnbook-attention")) root = document.getElementById("__FIGURE_ID__");
  if (!root || root.getAttribute("data-ready") === "1") return;
  root.setAttribute("data-ready", "1");
  var P = JSON.parse(root.querySelector("script.gnnbook-params").textContent);
  var N = P.n, E = P.src.length, H = P.heads, F = P.out_feats, D = P.in_feats;
  var W = 560, HT = 430, PAD = 46;
  var R = N <= 12 ? 17 : N <= 40 ? 11 : 5;
  var LOOP = N <= 12 ? 12 : 7;
  var RAD = 0.16;  // arc bend, as matplotlib's arc3,rad=0.16 in gnnbook.draw

  // ---- the attention computation (one definition of the controls, mirrored by gnnbook.web) ----
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
  function attention(st) {
    var L = P.kinds[st.kind], s = st.scale, v, k, h, f;
    var feat = P.feat.map(function (row) { return row.slice(); });
    if (st.perturb !== 0 && st.perturb_node !== null) {
      for (var c = 0; c < D; c++) feat[st.perturb_node][c] += st.perturb * P.direction[c];
    }
    var zs = feat.map(function (x) { return project(L.Ws, L.bs, x); });
    var zd = L.Wd ? feat.map(function (x) { return project(L.Wd, L.bd, x); }) : zs;
    var e = new Array(E);
    if (st.kind === "gat") {  // e_ij = LeakyReLU(s a_l.z_j + s a_r.z_i)
      var el = [], er = [];
      for (v = 0; v < N; v++) {
        el.push([]); er.push([]);
        for (h = 0; h < H; h++) {
          var sl = 0.0, sr = 0.0;
          for (f = 0; f < F; f++) { sl += zs[v][h * F + f] * (s * L.al[h][f]); sr += zd[v][h * F + f] * (s * L.ar[h][f]); }
          el[v].push(sl); er[v].push(sr);
        }
      }
      for (k = 0; k < E; k++) {
        e[k] = [];
        for (h = 0; h < H; h++) e[k].push(leaky(el[P.src[k]][h] + er[P.dst[k]][h], st.slope));
      }
    } else if (st.kind === "gatv2") {  // e_ij = (s a).LeakyReLU(z_j + z_i)
      for (k = 0; k < E; k++) {
        e[k] = [];
        var zj = zs[P.src[k]], zi = zd[P.dst[k]];
        for (h = 0; h < H; h++) {
          var t = 0.0;
          for (f = 0; f < F; f++) t += leaky(zj[h * F + f] + zi[h * F + f], st.slope) * (s * L.a[h][f]);
          e[k].push(t);
        }
      }
    } else {  // dot product: e_ij = s z_j.z_i / sqrt(F)
      for (k = 0; k < E; k++) {
        e[k] = [];
        var qj = zs[P.src[k]], qi = zd[P.dst[k]];
        for (h = 0; h < H; h++) {
          var d = 0.0;
          for (f = 0; f < F; f++) d += qj[h * F + f] * qi[h * F + f];
          e[k].push(s * d / Math.sqrt(F));
        }
      }
    }
    // softmax over each destination's incoming edges, per head (max subtracted first)
    var peak = [], total = [], alpha = new Array(E);
    for (v = 0; v < N; v++) { peak.push(new Array(H).fill(-Infinity)); total.push(new Array(H).fill(0.0)); }
    for (k = 0; k < E; k++) for (h = 0; h < H; h++) peak[P.dst[k]][h] = Math.max(peak[P.dst[k]][h], e[k][h]);
    for (k = 0; k < E; k++) {
      alpha[k] = [];
      for (h = 0; h < H; h++) { var w = Math.exp(e[k][h] - peak[P.dst[k]][h]); alpha[k].push(w); total[P.dst[k]][h] += w; }
    }
    for (k = 0; k < E; k++) for (h = 0; h < H; h++) alpha[k][h] /= total[P.dst[k]][h];
    return alpha;
  }
  function pickHead(alpha, head) {
    return alpha.map(function (row) {
      if (head !== "mean") return row[head];
      var m = 0.0;
      for (var h = 0; h < row.length; h++) m += row[h];
      return m / row.length;
    });
  }

  // ---- drawing --------------------------------------------------------------------------------
  var XY = P.pos.map(function (p) { return [PAD + (p[0] + 1) / 2 * (W - 2 * PAD), PAD - 8 + (1 - (p[1] + 1) / 2) * (HT - 2 * PAD - 40)]; });
  var cx = 0, cy = 0;
  XY.forEach(function (p) { cx += p[0] / N; cy += p[1] / N; });
  function colour(a, vmax, faded) {
    var t = Math.min(Math.max(vmax > 0 ? a / vmax : 0, 0), 1) * (P.cmap.length - 1);
    var i = Math.min(Math.floor(t), P.cmap.length - 2), u = t - i, rgb = [0, 1, 2].map(function (c) {
      var x = P.cmap[i][c] * (1 - u) + P.cmap[i + 1][c] * u;
      return Math.round(255 * (faded ? 0.22 * x + 0.78 : x));
    });
    return "rgb(" + rgb.join(",") + ")";
  }
  function fmt(x, d) { return (Math.round(x * Math.pow(10, d)) / Math.pow(10, d)).toFixed(d); }
  function esc(s) { return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/"/g, "&quot;"); }
  function edgeShape(k, a, vmax, faded) {
    var u = P.src[k], v = P.dst[k], lw = 0.8 + 6.2 * Math.min(vmax > 0 ? a / vmax : 0, 1), col = colour(a, vmax, faded);
    var tip = esc(P.labels[u]) + " \u2192 " + esc(P.labels[v]) + ": \u03b1 = " + a.toFixed(6);
    var head = '<g class="ga-edge" data-eid="' + k + '" data-src="' + u + '" data-dst="' + v + '" data-alpha="' + String(a) + '"><title>' + tip + "</title>";
    if (u === v) {
      var ox = XY[u][0] - cx, oy = XY[u][1] - cy, n = Math.hypot(ox, oy);
      if (n < 1e-9) { ox = 0; oy = -1; n = 1; }
      var lx = XY[u][0] + ox / n * (R + LOOP * 0.6), ly = XY[u][1] + oy / n * (R + LOOP * 0.6);
      return { svg: head + '<circle cx="' + lx.toFixed(2) + '" cy="' + ly.toFixed(2) + '" r="' + LOOP + '" fill="none" stroke="' + col + '" stroke-width="' + lw.toFixed(2) + '"/></g>',
               label: [XY[u][0] + ox / n * (R + LOOP * 2.3), XY[u][1] + oy / n * (R + LOOP * 2.3)] };
    }
    var x0 = XY[u][0], y0 = XY[u][1], x2 = XY[v][0], y2 = XY[v][1], dx = x2 - x0, dy = y2 - y0;
    var qx = (x0 + x2) / 2 - RAD * dy, qy = (y0 + y2) / 2 + RAD * dx;  // control point
    function toward(px, py, tx, ty, dist) { var l = Math.hypot(tx - px, ty - py) || 1; return [px + (tx - px) / l * dist, py + (ty - py) / l * dist]; }
    var a0 = toward(x0, y0, qx, qy, R + 2), tipP = toward(x2, y2, qx, qy, R + 2);
    var alen = 5 + 1.3 * lw, aw = 2.6 + 0.85 * lw;
    var dl = Math.hypot(tipP[0] - qx, tipP[1] - qy) || 1, ux = (tipP[0] - qx) / dl, uy = (tipP[1] - qy) / dl;
    var bx = tipP[0] - ux * alen, by = tipP[1] - uy * alen;
    var svg = head + '<path d="M' + a0[0].toFixed(2) + "," + a0[1].toFixed(2) + " Q" + qx.toFixed(2) + "," + qy.toFixed(2) + " " + (bx + ux * 0.5).toFixed(2) + "," + (by + uy * 0.5).toFixed(2) +
      '" fill="none" stroke="' + col + '" stroke-width="' + lw.toFixed(2) + '"/><polygon points="' + tipP[0].toFixed(2) + "," + tipP[1].toFixed(2) + " " +
      (bx - uy * aw).toFixed(2) + "," + (by + ux * aw).toFixed(2) + " " + (bx + uy * aw).toFixed(2) + "," + (by - ux * aw).toFixed(2) + '" fill="' + col + '"/></g>';
    return { svg: svg, label: [0.25 * x0 + 0.5 * qx + 0.25 * x2, 0.25 * y0 + 0.5 * qy + 0.25 * y2] };
  }

  var ctl = {};
  root.querySelectorAll("[data-control]").forEach(function (el) { ctl[el.getAttribute("data-control")] = el; });
  var holder = root.querySelector(".ga-svg"), info = root.querySelector(".ga-info");
  function readState() {
    var head = ctl.head.value;
    var p = ctl.perturb_node.value;
    return {
      node: parseInt(ctl.node.value, 10), head: head === "mean" ? "mean" : parseInt(head, 10), kind: ctl.kind.value,
      slope: parseFloat(ctl.slope.value), scale: parseFloat(ctl.scale.value),
      perturb_node: p === "" ? null : parseInt(p, 10), perturb: parseFloat(ctl.perturb.value)
    };
  }
  function neighbourOptions(node, keep) {
    var seen = {}, opts = "";
    for (var k = 0; k < E; k++) {
      if (P.dst[k] !== node || seen[P.src[k]]) continue;
      seen[P.src[k]] = true;
      var j = P.src[k];
      opts += '<option value="' + j + '"' + (j === keep ? " selected" : "") + ">" + esc(P.labels[j]) + (j === node ? " (itself)" : "") + "</option>";
    }
    ctl.perturb_node.innerHTML = opts || '<option value="">none</option>';
    if (keep === null || !seen[keep]) ctl.perturb_node.selectedIndex = 0;
  }
  function render() {
    var st = readState();
    var alpha = pickHead(attention(st), st.head);
    var vmax = 0;
    alpha.forEach(function (a) { vmax = Math.max(vmax, a); });
    if (P.vmax !== null && P.vmax !== undefined) vmax = P.vmax;
    if (!(vmax > 0)) vmax = 1;
    var order = [];
    for (var k = 0; k < E; k++) order.push(k);
    order.sort(function (p, q) { var fp = P.dst[p] === st.node, fq = P.dst[q] === st.node; return fp !== fq ? (fp ? 1 : -1) : alpha[p] - alpha[q]; });
    var edges = "", labels = [], inNbrs = {};
    order.forEach(function (k) {
      var focusEdge = P.dst[k] === st.node, shape = edgeShape(k, alpha[k], vmax, !focusEdge);
      edges += shape.svg;
      if (focusEdge) { labels.push([shape.label, alpha[k]]); inNbrs[P.src[k]] = true; }
    });
    labels.sort(function (p, q) { return q[1] - p[1]; });
    var text = "";
    labels.slice(0, 8).forEach(function (l) {
      text += '<text class="ga-alpha" x="' + l[0][0].toFixed(1) + '" y="' + l[0][1].toFixed(1) + '">' + fmt(l[1], 2) + "</text>";
    });
    var nodes = "";
    for (var v = 0; v < N; v++) {
      var cls = v === st.node ? "ga-node ga-focus" : inNbrs[v] ? "ga-node ga-nbr" : "ga-node";
      var pert = st.perturb !== 0 && st.perturb_node === v ? " ga-perturbed" : "";
      nodes += '<g class="' + cls + pert + '" data-node="' + v + '"><title>node ' + esc(P.labels[v]) + '</title><circle cx="' + XY[v][0].toFixed(2) + '" cy="' + XY[v][1].toFixed(2) + '" r="' + R + '"/>' +
        (N <= 60 ? '<text x="' + XY[v][0].toFixed(2) + '" y="' + XY[v][1].toFixed(2) + '">' + esc(P.labels[v]) + "</text>" : "") + "</g>";
    }
    var gid = root.id + "-grad", bar = '<defs><linearGradient id="' + gid + '" x1="0" x2="1" y1="0" y2="0">';
    P.cmap.forEach(function (c, i) { bar += '<stop offset="' + (i / (P.cmap.length - 1)).toFixed(3) + '" stop-color="' + colour(i / (P.cmap.length - 1), 1, false) + '"/>'; });
    var bx0 = 150, bw = 260, by0 = HT - 34;
    bar += '</linearGradient></defs><rect x="' + bx0 + '" y="' + by0 + '" width="' + bw + '" height="10" fill="url(#' + gid + ')" stroke="#888" stroke-width="0.5"/>';
    [0, 0.5, 1].forEach(function (t) { bar += '<text class="ga-tick" x="' + (bx0 + t * bw) + '" y="' + (by0 + 24) + '">' + fmt(t * vmax, 3) + "</text>"; });
    bar += '<text class="ga-barlabel" x="' + (bx0 - 8) + '" y="' + (by0 + 9) + '">\u03b1 (width, colour)</text>';
    holder.innerHTML = '<svg viewBox="0 0 ' + W + " " + HT + '" role="img" aria-label="attention figure"><g class="ga-edges">' + edges + "</g>" + nodes + text + bar + "</svg>";
    holder.querySelectorAll(".ga-node").forEach(function (g) {
      g.addEventListener("click", function () { ctl.node.value = g.getAttribute("data-node"); onNode(); });
    });
    // a line on the focused node's attention: entropy against the uniform baseline log(deg)
    var ent = 0, deg = 0;
    for (var kk = 0; kk < E; kk++) if (P.dst[kk] === st.node) { deg += 1; if (alpha[kk] > 0) ent -= alpha[kk] * Math.log(alpha[kk]); }
    info.textContent = "node " + P.labels[st.node] + ": " + deg + " incoming edge" + (deg === 1 ? "" : "s") + "; entropy of its attention " +
      fmt(ent, 3) + " nats (uniform attention: log " + deg + " = " + fmt(Math.log(Math.max(deg, 1)), 3) + ")";
    ["slope", "scale", "perturb"].forEach(function (name) { var o = root.querySelector('[data-show="' + name + '"]'); if (o) o.textContent = fmt(parseFloat(ctl[name].value), 2); });
    ctl.slope.disabled = st.kind === "dot";
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
  neighbourOptions(init.node, init.perturb_node);
  ctl.node.addEventListener("change", onNode);
  ["head", "kind", "perturb_node"].forEach(function (n) { ctl[n].addEventListener("change", render); });
  ["slope", "scale", "perturb"].forEach(function (n) { ctl[n].addEventListener("input", render); ctl[n].addEventListener("change", render); });
  var fallback = root.querySelector(".ga-nojs");
  if (fallback) fallback.parentNode.removeChild(fallback);
  render();
})();
