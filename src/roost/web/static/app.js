/* Roost's own script: draws the charts (uPlot), keeps dashboards fresh, and a few small
   conveniences. No inline script anywhere: pages describe charts in data-* attributes. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  var UTC_KEY = "roost.utc";
  var charts = [];

  function useUtc() {
    try { return localStorage.getItem(UTC_KEY) === "1"; } catch (e) { return false; }
  }

  function css(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function formatValue(v) {
    if (v == null) return "—";
    var a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toFixed(2).replace(/\.?0+$/, "") + "G";
    if (a >= 1e6) return (v / 1e6).toFixed(2).replace(/\.?0+$/, "") + "M";
    if (a >= 1e4) return (v / 1e3).toFixed(1).replace(/\.0$/, "") + "k";
    return Number.isInteger(v) ? String(v) : v.toPrecision(4).replace(/\.?0+$/, "");
  }

  function formatTime(seconds, utc) {
    var d = new Date(seconds * 1000);
    return utc ? d.toISOString().slice(0, 16).replace("T", " ") + " UTC" : d.toLocaleString();
  }

  // Annotation markers: a small element per note over the plot, with its text on hover
  // (title) and for screen readers (aria-label); the list under the chart says the same.
  function placeNotes(u, chart) {
    var over = u.over;
    over.querySelectorAll(".note-mark").forEach(function (el) { el.remove(); });
    chart.notes.forEach(function (note) {
      var x = u.valToPos(note.t, "x");
      if (x < 0 || x > over.clientWidth) return;
      var mark = document.createElement("span");
      mark.className = "note-mark";
      mark.title = note.text + " — " + formatTime(note.t, chart.utc);
      mark.setAttribute("role", "img");
      mark.setAttribute("aria-label", "Annotation: " + note.text);
      mark.style.left = x + "px";
      over.appendChild(mark);
    });
  }

  function drawNoteLines(u, chart) {
    var ctx = u.ctx;
    ctx.save();
    ctx.strokeStyle = css("--chart-note");
    ctx.setLineDash([4, 4]);
    ctx.lineWidth = Math.max(1, devicePixelRatio);
    chart.notes.forEach(function (note) {
      var x = Math.round(u.valToPos(note.t, "x", true));
      if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
      ctx.beginPath();
      ctx.moveTo(x, u.bbox.top);
      ctx.lineTo(x, u.bbox.top + u.bbox.height);
      ctx.stroke();
    });
    ctx.restore();
  }

  // A line needs two neighbours to show: a lone bucket between gaps would vanish, so values
  // are also drawn as dots while there are few of them.
  var FEW_VALUES = 120;
  function fewValues(u, seriesIndex) {
    var values = u.data[seriesIndex] || [];
    var count = 0;
    for (var i = 0; i < values.length && count <= FEW_VALUES; i++) if (values[i] != null) count++;
    return count <= FEW_VALUES;
  }

  function options(chart, data, width, height) {
    var isValue = data.kind === "value";
    var utc = chart.utc;
    var axis = { stroke: css("--muted"), grid: { stroke: css("--chart-grid") }, ticks: { stroke: css("--chart-grid") } };
    var series = [{ value: function (u, v) { return v == null ? "—" : formatTime(v, utc); } }];
    if (isValue) {
      series.push({
        label: "mean", stroke: css("--chart-line"), width: 1.5,
        points: { show: fewValues, size: 6, fill: css("--chart-line") },
        value: function (u, v) { return formatValue(v); }
      });
      series.push({ label: "min", stroke: "transparent", points: { show: false }, value: function (u, v) { return formatValue(v); } });
      series.push({ label: "max", stroke: "transparent", points: { show: false }, value: function (u, v) { return formatValue(v); } });
    } else {
      series.push({
        label: "sum", stroke: css("--chart-line"), fill: css("--chart-bar"), width: 0,
        paths: uPlot.paths.bars({ size: [0.85, 60], gap: 1 }), points: { show: false },
        value: function (u, v) { return formatValue(v); }
      });
    }
    var opts = {
      width: width, height: height, series: series,
      scales: { x: { time: true, range: [data.start, data.end] } },
      axes: [
        Object.assign({}, axis),
        Object.assign({}, axis, { size: 56, values: function (u, vals) { return vals.map(formatValue); } })
      ],
      cursor: { points: { show: false } },
      legend: { show: true, live: true },
      hooks: {
        draw: [function (u) { drawNoteLines(u, chart); placeNotes(u, chart); }]
      }
    };
    if (isValue) opts.bands = [{ series: [3, 2], fill: css("--chart-band") }];
    if (utc) opts.tzDate = function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); };
    return opts;
  }

  function columns(data) {
    return data.kind === "value" ? [data.t, data.v, data.lo, data.hi] : [data.t, data.v];
  }

  function size(chart) {
    var width = Math.max(200, chart.plot.clientWidth);
    var height = chart.height;
    if (!height) height = Math.max(160, window.innerHeight - chart.plot.getBoundingClientRect().top - 60);
    return [width, height];
  }

  function renderNotes(chart) {
    chart.list.textContent = "";
    chart.notes.forEach(function (note) {
      var li = document.createElement("li");
      li.textContent = formatTime(note.t, chart.utc) + ": " + note.text;
      chart.list.appendChild(li);
    });
  }

  function draw(chart, data) {
    chart.data = data;
    chart.notes = data.notes || [];
    var hasPoints = data.points > 0;
    chart.status.textContent = hasPoints ? "" : "No data in this range.";
    renderNotes(chart);
    if (chart.plot.dataset.kindShown !== data.kind && chart.u) { chart.u.destroy(); chart.u = null; }
    if (chart.u) {
      chart.u.setScale("x", { min: data.start, max: data.end });
      chart.u.setData(columns(data), false);
      chart.u.setScale("x", { min: data.start, max: data.end });
    } else {
      var wh = size(chart);
      chart.u = new uPlot(options(chart, data, wh[0], wh[1]), columns(data), chart.plot);
      chart.plot.dataset.kindShown = data.kind;
    }
    chart.el.dataset.drawn = String(Date.now());
    // Milliseconds since navigation started: what the bench reads for "rendered and drawn".
    chart.el.dataset.drawnAt = performance.now().toFixed(1);
    document.dispatchEvent(new CustomEvent("roost:drawn", { detail: chart.el }));
  }

  function load(chart) {
    return fetch(chart.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) return r.json().then(function (b) { throw new Error(b.error || r.statusText); });
        return r.json();
      })
      .then(function (data) { draw(chart, data); })
      .catch(function (err) { chart.status.textContent = "Could not load: " + err.message; });
  }

  function setUp(el) {
    var chart = {
      el: el, src: el.dataset.src, height: parseInt(el.dataset.height, 10) || 0,
      plot: el.querySelector(".plot"), status: el.querySelector(".chart-status"),
      list: el.querySelector(".notes"), notes: [], u: null, utc: useUtc()
    };
    charts.push(chart);
    return load(chart);
  }

  function redrawAll() {
    charts.forEach(function (chart) {
      chart.utc = useUtc();
      if (chart.u) { chart.u.destroy(); chart.u = null; }
      if (chart.data) draw(chart, chart.data);
    });
  }

  // datetime-local inputs hold the browser's local time (or UTC with the toggle on); the
  // server gets ISO 8601 in UTC through the hidden inputs.
  function toIso(value) {
    if (!value) return "";
    var d = useUtc() ? new Date(value + ":00Z") : new Date(value);
    return isNaN(d) ? "" : d.toISOString();
  }

  function toLocalInput(iso) {
    var d = new Date(/^\d+(\.\d+)?$/.test(iso) ? Number(iso) * 1000 : iso);
    if (isNaN(d)) return "";
    if (!useUtc()) d = new Date(d.getTime() - d.getTimezoneOffset() * 60000);
    return d.toISOString().slice(0, 16);
  }

  function wireForms() {
    document.querySelectorAll("input[data-time]").forEach(function (input) {
      if (input.dataset.value) input.value = toLocalInput(input.dataset.value);
    });
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) { event.preventDefault(); return; }
      form.querySelectorAll("input[data-time]").forEach(function (input) {
        var hidden = form.querySelector('input[type=hidden][name="' + input.dataset.time + '"]');
        if (hidden) hidden.value = toIso(input.value);
      });
    });
    document.addEventListener("change", function (event) {
      var el = event.target;
      if (el.matches("select[data-autosubmit]")) el.form.requestSubmit();
      if (el.matches("input[data-utc-toggle]")) {
        try { localStorage.setItem(UTC_KEY, el.checked ? "1" : "0"); } catch (e) { /* private mode */ }
        document.querySelectorAll("input[data-utc-toggle]").forEach(function (box) { box.checked = el.checked; });
        document.querySelectorAll("input[data-time]").forEach(function (input) {
          if (input.dataset.value) input.value = toLocalInput(input.dataset.value);
        });
        localTimes();
        redrawAll();
      }
    });
    document.addEventListener("click", function (event) {
      var button = event.target.closest("[data-copy]");
      if (!button) return;
      var source = document.getElementById(button.dataset.copy);
      if (!source || !navigator.clipboard) return;
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        var before = button.textContent;
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = before; }, 1500);
      }, function () { button.textContent = "Select and copy"; });
    });
  }

  function localTimes() {
    document.querySelectorAll("time[data-local]").forEach(function (el) {
      var seconds = Date.parse(el.getAttribute("datetime")) / 1000;
      if (!isNaN(seconds)) el.textContent = formatTime(seconds, useUtc());
    });
  }

  function refreshEvery(container) {
    var seconds = parseInt(container.dataset.refresh, 10);
    if (!seconds) return;
    var stamp = document.querySelector("[data-refreshed]");
    setInterval(function () {
      if (document.hidden) return;
      var inside = charts.filter(function (c) { return container.contains(c.el); });
      Promise.all(inside.map(load)).then(function () {
        if (stamp) stamp.textContent = "Refreshes every " + seconds + " s · updated " + new Date().toLocaleTimeString();
      });
    }, seconds * 1000);
  }

  // Forms whose parts depend on a choice: data-when="kind=threshold delta" shows an element
  // only while the form's "kind" field has one of those values (without script, all show).
  function followSwitches(form) {
    form.querySelectorAll("[data-when]").forEach(function (el) {
      var rule = el.dataset.when.split("=");
      var chosen = form.elements[rule[0]];
      el.hidden = !!chosen && rule[1].split(" ").indexOf(chosen.value) < 0;
    });
  }

  function start() {
    document.querySelectorAll("input[data-utc-toggle]").forEach(function (box) { box.checked = useUtc(); });
    wireForms();
    document.querySelectorAll("form[data-switches]").forEach(function (form) {
      followSwitches(form);
      form.addEventListener("change", function () { followSwitches(form); });
    });
    localTimes();
    document.querySelectorAll("[data-chart]").forEach(setUp);
    document.querySelectorAll("[data-refresh]").forEach(refreshEvery);
    var pending;
    window.addEventListener("resize", function () {
      clearTimeout(pending);
      pending = setTimeout(function () {
        charts.forEach(function (c) { if (c.u) { var wh = size(c); c.u.setSize({ width: wh[0], height: wh[1] }); } });
      }, 100);
    });
    document.body.addEventListener("htmx:afterSwap", localTimes);
    // The session waterfall: choosing a row loads its event's panel through htmx (the link
    // itself is a plain page, ?event=…), marks the row and keeps the choice in the URL.
    document.addEventListener("click", function (event) {
      var link = event.target.closest("ol.waterfall a.wf-name");
      if (!link || event.ctrlKey || event.metaKey || event.shiftKey || !window.htmx) return;
      event.preventDefault();
      var list = link.closest("ol.waterfall");
      var chosen = new URL(link.href).searchParams.get("event") || "";
      htmx.ajax("GET", list.dataset.eventBase + encodeURIComponent(chosen), {
        target: "#event-detail", swap: "outerHTML"
      }).then(function () {
        list.querySelectorAll("a[aria-current]").forEach(function (el) {
          el.removeAttribute("aria-current");
          el.parentElement.classList.remove("wf-selected");
        });
        link.setAttribute("aria-current", "true");
        link.parentElement.classList.add("wf-selected");
        history.pushState({}, "", link.href);
        localTimes();
      });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
