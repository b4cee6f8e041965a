// spiqa-view: the page's whole program (no network, no libraries). Data: the JSON in #spiqa-data, written by
// python/src/spiqa/view.py: records of attention [layers, heads, n, n] as base64 float16 or √p bytes, one per
// stream (two with --compare). Everything taken from the data is put into the page as text, never as HTML.
(function () {
  "use strict";

  var DATA = JSON.parse(document.getElementById("spiqa-data").textContent);
  var SELFTEST = /^#selftest/.test(location.hash);
  var errors = [];
  if (SELFTEST) {
    window.addEventListener("error", function (e) { errors.push("error: " + e.message); });
    window.addEventListener("unhandledrejection", function (e) { errors.push("unhandled rejection: " + e.reason); });
    var consoleError = console.error;
    console.error = function () {
      errors.push("console.error: " + Array.prototype.join.call(arguments, " "));
      consoleError.apply(console, arguments);
    };
  }

  var THUMB = 34;            // thumbnail size in CSS pixels
  // The matrix's side without labels: smaller when two streams share the detail, so they fit side by side.
  var MATRIX_PX = DATA.streams.length > 1 ? 300 : 420;
  var STREAM_COLOURS = ["#2f6fd6", "#e0702b"];
  var $ = function (id) { return document.getElementById(id); };

  // ---------------------------------------------------------------- decoding
  var F16 = new Float32Array(65536);
  (function () {
    for (var h = 0; h < 65536; h++) {
      var s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 31, f = h & 1023;
      F16[h] = e === 0 ? s * f * 5.960464477539063e-8
        : e === 31 ? (f ? NaN : s * Infinity) : s * Math.pow(2, e - 15) * (1 + f / 1024);
    }
  })();

  function base64Bytes(text) {
    var bin = atob(text), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function decode(text) {
    var bytes = base64Bytes(text), out, i;
    if (DATA.encoding === "f16") {
      var u = new Uint16Array(bytes.buffer, 0, bytes.length >> 1);   // little-endian, as written
      out = new Float32Array(u.length);
      for (i = 0; i < u.length; i++) out[i] = F16[u[i]];
    } else {
      out = new Float32Array(bytes.length);
      for (i = 0; i < bytes.length; i++) { var r = bytes[i] / 255; out[i] = r * r; }
    }
    return out;
  }

  // ---------------------------------------------------------------- colours
  // viridis-like stops for probabilities, magma-like for |A − B|.
  var PALETTES = {
    p: [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]],
    diff: [[0, 0, 4], [81, 18, 124], [183, 55, 121], [252, 137, 97], [252, 253, 191]]
  };
  var LUTS = {};
  Object.keys(PALETTES).forEach(function (name) {
    var stops = PALETTES[name], lut = new Uint8Array(256 * 3);
    for (var k = 0; k < 256; k++) {
      var x = k / 255 * (stops.length - 1), a = Math.min(Math.floor(x), stops.length - 2), t = x - a;
      for (var c = 0; c < 3; c++) lut[k * 3 + c] = Math.round(stops[a][c] * (1 - t) + stops[a + 1][c] * t);
    }
    LUTS[name] = lut;
  });

  function scaled(v) {
    if (!(v > 0)) return 0;
    if (v >= 1) return 1;
    if (state.scale === "linear") return v;
    if (state.scale === "log") return Math.max(0, (Math.log(v) / Math.LN10 + 6) / 6);
    return Math.sqrt(v);
  }

  function colour(v, palette) {
    var lut = LUTS[palette || "p"], k = Math.round(scaled(v) * 255) * 3;
    return "rgb(" + lut[k] + "," + lut[k + 1] + "," + lut[k + 2] + ")";
  }

  // ---------------------------------------------------------------- state
  var state = { record: -1, layer: 0, head: 0, gridMode: "0", scale: "sqrt", pinned: null, hover: null, values: [] };
  var rec = null, L = 0, H = 0, n = 0;

  function value(s, l, h, i, j) { return state.values[s][((l * H + h) * n + i) * n + j]; }
  function cellValue(mode, l, h, i, j) {
    if (mode === "diff") return Math.abs(value(0, l, h, i, j) - value(1, l, h, i, j));
    return value(+mode, l, h, i, j);
  }
  function token(i) { return rec.tokens ? rec.tokens[i] : "#" + i; }
  function describe(info) {
    if (!info) return "";
    var parts = [];
    if (info.threshold) parts.push("pruned p > " + info.threshold);
    if (info.method) parts.push(info.method + (info.bits != null ? " " + info.bits + " bits" : ""));
    if (!parts.length) parts.push("exact");
    if (info.encoding === "codes") parts.push("stored as codes");
    if (info.dtype) parts.push(info.dtype);
    return parts.join(", ");
  }

  // ---------------------------------------------------------------- drawing a head into a canvas
  var scratch = document.createElement("canvas");
  function headImage(mode, l, h) {
    scratch.width = n; scratch.height = n;
    var ctx = scratch.getContext("2d"), img = ctx.createImageData(n, n), px = img.data;
    var lut = LUTS[mode === "diff" ? "diff" : "p"];
    for (var i = 0; i < n; i++) {
      for (var j = 0; j < n; j++) {
        var k = Math.round(scaled(cellValue(mode, l, h, i, j)) * 255) * 3, o = (i * n + j) * 4;
        px[o] = lut[k]; px[o + 1] = lut[k + 1]; px[o + 2] = lut[k + 2]; px[o + 3] = 255;
      }
    }
    ctx.putImageData(img, 0, 0);
    return scratch;
  }

  function drawScaled(canvas, mode, l, h, x, y, size) {
    var ctx = canvas.getContext("2d");
    ctx.imageSmoothingEnabled = n > size;   // smooth when shrinking, sharp cells when enlarging
    ctx.drawImage(headImage(mode, l, h), x, y, size, size);
  }

  // ---------------------------------------------------------------- the grid
  function buildGrid() {
    var table = $("grid");
    table.textContent = "";
    var head = table.insertRow();
    head.appendChild(document.createElement("th"));
    rec.heads.forEach(function (h) {
      var th = document.createElement("th");
      th.textContent = "H" + h;
      head.appendChild(th);
    });
    for (var l = 0; l < L; l++) {
      var row = table.insertRow(), th = document.createElement("th");
      th.textContent = "L" + rec.layers[l];
      row.appendChild(th);
      for (var h = 0; h < H; h++) {
        var c = document.createElement("canvas");
        c.className = "thumb";
        c.width = THUMB; c.height = THUMB;
        c.dataset.layer = l; c.dataset.head = h;
        c.title = "layer " + rec.layers[l] + ", head " + rec.heads[h];
        row.insertCell().appendChild(c);
      }
    }
    drawGrid();
  }

  function drawGrid() {
    var thumbs = document.querySelectorAll("#grid canvas.thumb");
    for (var k = 0; k < thumbs.length; k++) {
      var c = thumbs[k];
      drawScaled(c, state.gridMode, +c.dataset.layer, +c.dataset.head, 0, 0, THUMB);
      c.classList.toggle("selected", +c.dataset.layer === state.layer && +c.dataset.head === state.head);
    }
    var names = DATA.streams.map(function (s) { return s.name; });
    $("grid-title").textContent = state.gridMode === "diff" ? "|A − B| per head" : "heads of " + names[+state.gridMode];
    var bar = $("legend-bar"), ctx = bar.getContext("2d");
    for (var x = 0; x < bar.width; x++) {
      var t = x / (bar.width - 1), v = state.scale === "log" ? Math.pow(10, 6 * t - 6) : state.scale === "sqrt" ? t * t : t;
      ctx.fillStyle = colour(v, state.gridMode === "diff" ? "diff" : "p");
      ctx.fillRect(x, 0, 1, bar.height);
    }
  }

  // ---------------------------------------------------------------- the detail: matrices and head views
  function layout() {
    var cell = Math.max(1, Math.min(22, Math.floor(MATRIX_PX / n)));
    var labels = !!rec.tokens && cell >= 7 || n <= 40;
    var margin = labels ? Math.min(100, 14 + 7 * maxTokenLength()) : 24;
    var rowH = Math.max(4, Math.min(18, Math.floor(900 / n)));
    return { cell: cell, labels: labels, margin: margin, font: Math.min(12, Math.max(7, cell - 2)), rowH: rowH };
  }

  function maxTokenLength() {
    var m = 2;
    for (var i = 0; i < n; i++) m = Math.max(m, Math.min(16, String(token(i)).length));
    return m;
  }

  function buildDetail() {
    var panes = $("panes");
    panes.textContent = "";
    var g = layout();
    state.values.forEach(function (_, s) {
      var pane = document.createElement("div");
      pane.className = "pane";
      var title = document.createElement("h3");
      title.textContent = (state.values.length > 1 ? "ABCD"[s] + ": " : "") + DATA.streams[s].name;
      pane.appendChild(title);
      var info = document.createElement("div");
      info.className = "info";
      info.textContent = describe(rec.info[s]);
      pane.appendChild(info);
      var m = document.createElement("canvas");
      m.className = "matrix";
      m.dataset.stream = s;
      m.width = g.margin + n * g.cell; m.height = g.margin + n * g.cell;
      m.addEventListener("mousemove", function (e) { hoverMatrix(e, m, g); });
      m.addEventListener("mouseleave", function () { $("hover").textContent = "\u00a0"; });
      pane.appendChild(m);
      pane.appendChild(buildLines(s, g));
      panes.appendChild(pane);
    });
    drawDetail();
  }

  function buildLines(s, g) {
    var box = document.createElement("div");
    box.className = "lines";
    box.dataset.stream = s;
    var left = document.createElement("div"), right = document.createElement("div");
    left.className = "tokens left"; right.className = "tokens right";
    var show = g.rowH >= 10;
    [left, right].forEach(function (col, side) {
      col.style.fontSize = Math.max(7, g.rowH - 5) + "px";
      col.style.lineHeight = g.rowH + "px";
      if (!show) col.style.width = "0";
      for (var i = 0; i < n && show; i++) {
        var t = document.createElement("span");
        t.className = "tok";
        t.dataset.i = i;
        t.textContent = token(i);
        t.style.height = g.rowH + "px";
        if (side === 0) {
          t.addEventListener("mouseenter", function (e) { state.hover = +e.target.dataset.i; drawLinesAll(); });
          t.addEventListener("mouseleave", function () { state.hover = null; drawLinesAll(); });
          t.addEventListener("click", function (e) { pin(+e.target.dataset.i); });
        }
        col.appendChild(t);
      }
    });
    var c = document.createElement("canvas");
    c.width = DATA.streams.length > 1 ? 150 : 200; c.height = n * g.rowH;
    c.addEventListener("click", function (e) {
      var r = c.getBoundingClientRect();
      pin(Math.min(n - 1, Math.max(0, Math.floor((e.clientY - r.top) / g.rowH))));
    });
    box.appendChild(left); box.appendChild(c); box.appendChild(right);
    return box;
  }

  function pin(i) {
    state.pinned = state.pinned === i ? null : i;
    drawLinesAll();
  }

  function drawDetail() {
    var g = layout(), l = state.layer, h = state.head;
    $("detail-title").textContent = "layer " + rec.layers[l] + " · head " + rec.heads[h] +
      "  —  " + recordLabel(state.record);
    var mats = document.querySelectorAll("#panes canvas.matrix");
    for (var k = 0; k < mats.length; k++) {
      var m = mats[k], s = +m.dataset.stream, ctx = m.getContext("2d");
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, m.width, m.height);
      drawScaled(m, String(s), l, h, g.margin, g.margin, n * g.cell);
      m.dataset.layer = rec.layers[l]; m.dataset.head = rec.heads[h];
      m.setAttribute("aria-label", "attention of layer " + rec.layers[l] + " head " + rec.heads[h] + ", " + n + " × " + n);
      drawMatrixLabels(ctx, g);
    }
    var summary = "rows: queries, columns: keys, n = " + n;
    if (state.values.length > 1) {
      var maxd = 0, sum = 0;
      for (var i = 0; i < n; i++) for (var j = 0; j < n; j++) {
        var d = Math.abs(value(0, l, h, i, j) - value(1, l, h, i, j));
        sum += d; if (d > maxd) maxd = d;
      }
      summary += "; |A − B|: max " + maxd.toPrecision(3) + ", mean " + (sum / (n * n)).toPrecision(3);
    }
    $("detail-summary").textContent = summary;
    drawLinesAll();
    var thumbs = document.querySelectorAll("#grid canvas.thumb");
    for (var t = 0; t < thumbs.length; t++) {
      thumbs[t].classList.toggle("selected", +thumbs[t].dataset.layer === l && +thumbs[t].dataset.head === h);
    }
  }

  function drawMatrixLabels(ctx, g) {
    ctx.fillStyle = "#334";
    ctx.font = g.font + "px sans-serif";
    var step = g.labels ? 1 : Math.ceil(n / 8);
    for (var i = 0; i < n; i += step) {
      var label = g.labels ? String(token(i)).slice(0, 16) : String(i);
      var y = g.margin + (i + 0.5) * g.cell;
      ctx.textAlign = "right"; ctx.textBaseline = "middle";
      ctx.fillText(label, g.margin - 3, y);
      ctx.save();
      ctx.translate(y, g.margin - 3);
      ctx.rotate(-Math.PI / 2);
      ctx.textAlign = "left";
      ctx.fillText(label, 0, 0);
      ctx.restore();
    }
  }

  function hoverMatrix(e, m, g) {
    var r = m.getBoundingClientRect();
    var j = Math.floor((e.clientX - r.left - g.margin) / g.cell), i = Math.floor((e.clientY - r.top - g.margin) / g.cell);
    if (i < 0 || j < 0 || i >= n || j >= n) { $("hover").textContent = "\u00a0"; return; }
    var text = "query " + i + " \u201c" + token(i) + "\u201d \u2192 key " + j + " \u201c" + token(j) + "\u201d: ";
    text += state.values.map(function (_, s) {
      return (state.values.length > 1 ? "ABCD"[s] + " " : "") + value(s, state.layer, state.head, i, j).toPrecision(4);
    }).join(", ");
    $("hover").textContent = text;
  }

  function drawLinesAll() {
    var g = layout(), q = state.hover != null ? state.hover : state.pinned;
    var boxes = document.querySelectorAll("#panes .lines");
    for (var k = 0; k < boxes.length; k++) {
      var box = boxes[k], s = +box.dataset.stream, c = box.querySelector("canvas"), ctx = c.getContext("2d");
      box.dataset.query = q == null ? "" : q;
      ctx.clearRect(0, 0, c.width, c.height);
      ctx.strokeStyle = STREAM_COLOURS[s % 2];
      ctx.lineWidth = g.rowH >= 10 ? 2 : 1;
      for (var i = 0; i < n; i++) {
        if (q != null && i !== q) continue;
        for (var j = 0; j < n; j++) {
          var w = value(s, state.layer, state.head, i, j);
          if (!(w > 0.005)) continue;
          ctx.globalAlpha = Math.min(1, q != null ? 0.15 + w : w);
          ctx.beginPath();
          ctx.moveTo(0, (i + 0.5) * g.rowH);
          ctx.lineTo(c.width, (j + 0.5) * g.rowH);
          ctx.stroke();
        }
      }
      ctx.globalAlpha = 1;
      var toks = box.querySelectorAll(".tokens.left .tok");
      for (var t = 0; t < toks.length; t++) toks[t].classList.toggle("active", +toks[t].dataset.i === q);
    }
  }

  // ---------------------------------------------------------------- records and controls
  function recordLabel(i) {
    var r = DATA.records[i];
    return (r.example_id != null ? r.example_id : "record " + i) + (r.feature ? " / feature " + r.feature : "") + " (n = " + r.n + ")";
  }

  function loadRecord(i) {
    state.record = i;
    rec = DATA.records[i];
    L = rec.layers.length; H = rec.heads.length; n = rec.n;
    state.values = rec.data.map(decode);
    state.layer = Math.min(state.layer, L - 1);
    state.head = Math.min(state.head, H - 1);
    state.pinned = null; state.hover = null;
    $("record").value = String(i);
    buildGrid();
    buildDetail();
  }

  function select(l, h) {
    state.layer = Math.max(0, Math.min(L - 1, l));
    state.head = Math.max(0, Math.min(H - 1, h));
    drawDetail();
  }

  function init() {
    $("title").textContent = DATA.title;
    document.title = DATA.title + " · spiqa attention";
    var streams = $("streams");
    DATA.streams.forEach(function (s, k) {
      var span = document.createElement("span"), sw = document.createElement("span");
      span.className = "stream";
      sw.className = "swatch";
      sw.style.background = STREAM_COLOURS[k % 2];
      span.appendChild(sw);
      var h = s.header || {};
      var bits = [s.name];
      if (h.model) bits.push(h.model);
      if (h.task) bits.push(h.task);
      if (h.quantize) bits.push(describe(h.quantize));
      else if (h.settings && (h.settings.method || h.settings.threshold)) bits.push(describe(h.settings));
      span.appendChild(document.createTextNode((DATA.streams.length > 1 ? "ABCD"[k] + ": " : "") + bits.join(" · ")));
      streams.appendChild(span);
    });
    (DATA.notes || []).forEach(function (text) {
      var d = document.createElement("div");
      d.textContent = text;
      $("notes").appendChild(d);
    });
    var sel = $("record");
    DATA.records.forEach(function (r, i) {
      var o = document.createElement("option");
      o.value = String(i);
      o.textContent = i + ": " + recordLabel(i);
      sel.appendChild(o);
    });
    sel.addEventListener("change", function () { loadRecord(+sel.value); });
    if (DATA.streams.length > 1) {
      var gm = $("grid-mode");
      DATA.streams.map(function (s, k) { return [String(k), "ABCD"[k] + ": " + s.name]; })
        .concat([["diff", "|A − B|"]]).forEach(function (p) {
          var o = document.createElement("option");
          o.value = p[0]; o.textContent = p[1];
          gm.appendChild(o);
        });
      $("grid-mode-label").hidden = false;
      gm.addEventListener("change", function () { state.gridMode = gm.value; drawGrid(); });
    }
    $("scale").addEventListener("change", function () {
      state.scale = $("scale").value;
      drawGrid(); drawDetail();
    });
    $("grid").addEventListener("click", function (e) {
      var c = e.target.closest ? e.target.closest("canvas.thumb") : null;
      if (c) select(+c.dataset.layer, +c.dataset.head);
    });
    document.addEventListener("keydown", function (e) {
      if (e.target && e.target.tagName === "SELECT") return;
      var moves = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] }[e.key];
      if (!moves) return;
      e.preventDefault();
      select(state.layer + moves[0], state.head + moves[1]);
    });
    loadRecord(0);
  }

  // ---------------------------------------------------------------- self-test (#selftest): the page clicks itself
  // and writes what it saw into #selftest (JSON) and the title (SELFTEST PASS / FAIL); the tests read both.
  function hasInk(canvas) {
    var d = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data, seen = {}, kinds = 0;
    for (var i = 0; i < d.length; i += 4 * 7) {
      var key = d[i] + "," + d[i + 1] + "," + d[i + 2] + "," + d[i + 3];
      if (!seen[key]) { seen[key] = 1; if (++kinds > 2) return true; }
    }
    return false;
  }

  function selftest() {
    var out = { ok: true, checks: [], errors: errors };
    function check(name, cond, detail) {
      out.checks.push({ name: name, ok: !!cond, detail: detail === undefined ? "" : String(detail) });
      if (!cond) out.ok = false;
    }
    try {
      var thumbs = document.querySelectorAll("#grid canvas.thumb");
      check("grid has layers × heads thumbnails", thumbs.length === L * H, thumbs.length + " for " + L + " × " + H);
      check("thumbnails are drawn", thumbs.length > 0 && hasInk(thumbs[0]));
      var tl = Math.min(1, L - 1), th = Math.min(2, H - 1);
      var target = document.querySelector('canvas.thumb[data-layer="' + tl + '"][data-head="' + th + '"]');
      check("target thumbnail exists", !!target);
      target.dispatchEvent(new MouseEvent("click", { bubbles: true, cancelable: true }));
      var title = $("detail-title").textContent;
      check("click switches head", state.layer === tl && state.head === th &&
        title.indexOf("layer " + rec.layers[tl] + " · head " + rec.heads[th]) === 0, title);
      check("one selected thumbnail, the clicked one", target.classList.contains("selected") &&
        document.querySelectorAll("canvas.thumb.selected").length === 1);
      var mats = document.querySelectorAll("#panes canvas.matrix");
      check("one matrix per stream", mats.length === DATA.streams.length, mats.length);
      check("matrix shows the clicked head", mats[0].dataset.layer === String(rec.layers[tl]) &&
        mats[0].dataset.head === String(rec.heads[th]), mats[0].dataset.layer + "/" + mats[0].dataset.head);
      check("matrix is drawn", hasInk(mats[0]));
      var toks = document.querySelectorAll('#panes .lines[data-stream="0"] .tokens.left .tok');
      var g = layout();
      if (g.rowH >= 10) {
        check("token labels", toks.length === n && toks[0].textContent === String(token(0)), toks.length + " " +
          (toks[0] && toks[0].textContent));
        var qi = Math.min(1, n - 1);
        toks[qi].dispatchEvent(new MouseEvent("click", { bubbles: true }));
        var box = document.querySelector('#panes .lines[data-stream="0"]');
        check("clicking a token shows its lines", box.dataset.query === String(qi) && toks[qi].classList.contains("active"),
          box.dataset.query);
      }
      var row = [];
      for (var j = 0; j < Math.min(n, 8); j++) row.push(value(0, tl, th, 0, j));
      out.sample = { record: state.record, layer: tl, head: th, n: n, row0: row, tokens: rec.tokens ? rec.tokens.slice(0, 8) : null };
      if (DATA.streams.length > 1) {
        var gm = $("grid-mode");
        gm.value = "diff";
        gm.dispatchEvent(new Event("change"));
        check("grid shows |A − B|", state.gridMode === "diff" && $("grid-title").textContent.indexOf("|A − B|") === 0);
        check("compare summary", $("detail-summary").textContent.indexOf("|A − B|") >= 0, $("detail-summary").textContent);
        gm.value = "0";
        gm.dispatchEvent(new Event("change"));
      }
      if (DATA.records.length > 1) {
        var sel = $("record");
        sel.value = "1";
        sel.dispatchEvent(new Event("change"));
        var r1 = DATA.records[1];
        check("record switch", state.record === 1 && $("detail-title").textContent.indexOf(recordLabel(1)) >= 0 &&
          document.querySelectorAll("#grid canvas.thumb").length === r1.layers.length * r1.heads.length,
          $("detail-title").textContent);
        sel.value = "0";
        sel.dispatchEvent(new Event("change"));
        select(tl, th);
        if (g.rowH >= 10) pin(Math.min(1, n - 1));
      }
    } catch (e) {
      check("self-test ran without exceptions", false, e && e.stack || e);
    }
    out.ok = out.ok && errors.length === 0;
    var pre = $("selftest");
    pre.textContent = JSON.stringify(out);
    pre.hidden = false;
    pre.style.display = "none";
    document.title = (out.ok ? "SELFTEST PASS" : "SELFTEST FAIL") + " · " + DATA.title;
  }

  init();
  if (SELFTEST) selftest();
})();
