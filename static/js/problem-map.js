/* ProblemMap — the map of problems (问题地图, issue 16 item 4): clusters coloured by status and a heat
 * layer over Leaflet 1.9, reading GET /api/v1/problem-map/ (inspections/problem_map.py).
 *
 * Load after static/vendor/leaflet/leaflet.js, static/vendor/leaflet.markercluster/leaflet.markercluster.js
 * (+ MarkerCluster.css) and static/vendor/leaflet.heat/leaflet-heat-global.js. No CDN, no tile server needed.
 *
 *   var pm = ProblemMap.init(element, options);
 *
 * options (all optional):
 *   url          the endpoint; default "/api/v1/problem-map/"
 *   filters      query parameters of the endpoint: {campaign, week, since, until, district, category,
 *                point_type, status ("open"|"closed"|"overdue"), overdue ("1")}; empty values are dropped
 *   tileUrl      a tile URL template (settings.MAP_TILE_URL); empty: a plain background, no tiles
 *   attribution  the tiles' attribution (settings.MAP_TILE_ATTRIBUTION)
 *   dark         true: the dark theme of the 大屏 (background, legend, switch, popups)
 *   map          an existing L.Map to draw into (the points map) instead of making one in `element`
 *   mode         "cluster" (聚合, default) or "heat" (热力)
 *   detailUrl    the problem page with 0 for the id; default "/inspections/problems/0/"
 *   fit          fit the view to the problems after each load; default true unless `map` is given
 *   controls     false: no switch, legend or count drawn on the map (the page draws its own)
 *   onLoad       function (data) after each load (the endpoint's answer); onError function (message)
 *
 * Returns {map, reload(filters), setMode(mode), show(), hide(), data()}. The element gets
 * data-problem-state (loading | ready | error), data-problems, data-unlocated, data-truncated and
 * data-problem-mode, which tests and the 大屏 read. Status colours come from the endpoint's
 * `statuses` (defined once, in inspections/problem_map.py).
 */
(function (global) {
  "use strict";

  var STYLE_ID = "problem-map-style";
  var CSS = [
    ".pm-plain.leaflet-container{background-color:#eef3f8;background-image:linear-gradient(#dde5ee 1px,transparent 1px),linear-gradient(90deg,#dde5ee 1px,transparent 1px);background-size:40px 40px}",
    ".pm-dark.pm-plain.leaflet-container{background-color:#0b1526;background-image:linear-gradient(#15243b 1px,transparent 1px),linear-gradient(90deg,#15243b 1px,transparent 1px)}",
    // A pin (a square with one sharp corner turned down), so a problem is not taken for a point's dot.
    ".pm-marker span{display:block;width:18px;height:18px;border-radius:50% 50% 50% 0;transform:rotate(-45deg);border:2px solid #fff;box-shadow:0 0 0 1px rgba(0,0,0,.35)}",
    ".pm-marker.pm-overdue span{border-color:#d63939;box-shadow:0 0 0 2px #d63939}",
    ".pm-cluster div{display:flex;align-items:center;justify-content:center;width:100%;height:100%;border-radius:50%;color:#fff;font-weight:700;font-size:12px;border:3px solid rgba(255,255,255,.85);box-shadow:0 0 0 1px rgba(0,0,0,.25)}",
    ".pm-cluster.pm-overdue div{border-color:#d63939}",
    ".pm-box{background:#fff;color:#1d273b;padding:6px 8px;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.25);font-size:12px;line-height:1.5}",
    ".pm-dark .pm-box{background:rgba(11,21,38,.88);color:#e6edf7;box-shadow:0 0 0 1px #2b3f5f}",
    ".pm-switch{display:flex;padding:2px}",
    ".pm-switch button{border:0;background:transparent;color:inherit;padding:3px 10px;border-radius:3px;font-size:13px;cursor:pointer}",
    ".pm-switch button[aria-pressed=true]{background:#206bc4;color:#fff}",
    ".pm-legend span.pm-dot{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:4px;vertical-align:-1px}",
    ".pm-legend div{white-space:nowrap}",
    ".pm-dark .leaflet-popup-content-wrapper,.pm-dark .leaflet-popup-tip{background:#14233a;color:#e6edf7}",
    ".pm-dark .leaflet-popup-content a{color:#7cb8ff}",
    ".pm-dark .leaflet-bar a{background:#14233a;color:#e6edf7;border-color:#2b3f5f}",
    ".pm-dark .leaflet-control-scale-line{background:rgba(11,21,38,.75);color:#e6edf7;border-color:#7f8ea3}",
  ].join("\n");

  function ensureStyle() {
    if (document.getElementById(STYLE_ID)) return;
    var style = document.createElement("style");
    style.id = STYLE_ID;
    style.textContent = CSS;
    document.head.appendChild(style);
  }

  function esc(text) {
    return String(text == null ? "" : text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function query(filters) {
    var params = new URLSearchParams();
    Object.keys(filters || {}).forEach(function (key) {
      var value = filters[key];
      if (value !== undefined && value !== null && value !== "" && value !== false) params.append(key, value);
    });
    var text = params.toString();
    return text ? "?" + text : "";
  }

  function init(element, options) {
    options = options || {};
    ensureStyle();
    var url = options.url || "/api/v1/problem-map/";
    var detailUrl = options.detailUrl || "/inspections/problems/0/";
    var filters = options.filters || {};
    var mode = options.mode === "heat" ? "heat" : "cluster";
    var ownMap = !options.map;
    var fit = options.fit === undefined ? ownMap : !!options.fit;
    var showControls = options.controls !== false;
    var visible = true;
    var last = null;
    var request = 0;

    if (typeof L === "undefined" || !L.markerClusterGroup || !L.heatLayer) {
      element.textContent = "地图组件未加载。";
      element.dataset.problemState = "error";
      return null;
    }
    var map = options.map;
    if (ownMap) {
      map = L.map(element, { attributionControl: !!options.tileUrl, zoomSnap: 0.5 });
      if (options.tileUrl) {
        L.tileLayer(options.tileUrl, { maxZoom: 19, attribution: options.attribution || "" }).addTo(map);
      } else {
        element.classList.add("pm-plain");
      }
      L.control.scale({ imperial: false }).addTo(map);
      map.setView([35.0, 105.0], 4);
    }
    // The clusters need a highest zoom; a map without tiles (the points map with no tile server) has none.
    if (!isFinite(map.getMaxZoom())) map.setMaxZoom(19);
    var container = map.getContainer();
    if (options.dark) container.classList.add("pm-dark");

    var statuses = {};
    function colourOf(status, overdue) {
      if (overdue && statuses.overdue) return statuses.overdue.colour;
      return (statuses[status] || { colour: "#868e96" }).colour;
    }

    var clusters = L.markerClusterGroup({
      chunkedLoading: true,
      showCoverageOnHover: false,
      maxClusterRadius: 50,
      iconCreateFunction: function (cluster) {
        var counts = {};
        var overdue = 0;
        var best = null;
        cluster.getAllChildMarkers().forEach(function (marker) {
          var status = marker.options.problemStatus;
          counts[status] = (counts[status] || 0) + 1;
          if (best === null || counts[status] > counts[best]) best = status;
          if (marker.options.problemOverdue) overdue += 1;
        });
        var total = cluster.getChildCount();
        var size = total < 10 ? 30 : total < 100 ? 36 : total < 1000 ? 44 : 52;
        var label = (statuses[best] || { label: "" }).label;
        return L.divIcon({
          html:
            '<div style="background:' + colourOf(best, false) + '" title="' + esc(total + " 个问题，多为" + label +
            (overdue ? "，其中超期 " + overdue + " 个" : "")) + '">' + total + "</div>",
          className: "pm-cluster" + (overdue ? " pm-overdue" : ""),
          iconSize: [size, size],
        });
      },
    });
    var heat = L.heatLayer([], { radius: 24, blur: 18, minOpacity: 0.3, max: 0.6 });

    function popup(row) {
      var status = statuses[row[3]] || { label: row[3] };
      var href = detailUrl.replace(/0\/$/, row[0] + "/");
      return '<div data-testid="problem-popup"><strong>问题 #' + esc(row[0]) + "</strong><br>" +
        '<span>' + esc(status.label) + (row[4] ? ' · <span style="color:#d63939">超期</span>' : "") + "</span><br>" +
        '<a href="' + esc(href) + '" data-testid="problem-popup-link">打开问题</a></div>';
    }

    function draw(data) {
      statuses = {};
      (data.statuses || []).forEach(function (s) { statuses[s.code] = s; });
      clusters.clearLayers();
      var markers = [];
      var points = [];
      var bounds = [];
      data.problems.forEach(function (row) {
        var overdue = !!row[4];
        var marker = L.marker([row[1], row[2]], {
          problemStatus: row[3],
          problemOverdue: overdue,
          title: "问题 #" + row[0],
          alt: "问题 #" + row[0],
          icon: L.divIcon({
            html: '<span style="background:' + colourOf(row[3], false) + '"></span>',
            className: "pm-marker" + (overdue ? " pm-overdue" : ""),
            iconSize: [18, 18],
            iconAnchor: [9, 22],
            popupAnchor: [0, -20],
          }),
        });
        marker.bindPopup(function () { return popup(row); });
        markers.push(marker);
        points.push([row[1], row[2], overdue ? 1 : row[3] === "closed" ? 0.4 : 0.7]);
        bounds.push([row[1], row[2]]);
      });
      clusters.addLayers(markers);
      heat.setLatLngs(points);
      if (fit && bounds.length) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 16 });
      legend.update(data);
      info.update(data);
    }

    function applyMode() {
      var on = visible ? (mode === "heat" ? heat : clusters) : null;
      [clusters, heat].forEach(function (layer) {
        if (layer !== on && map.hasLayer(layer)) map.removeLayer(layer);
      });
      if (on && !map.hasLayer(on)) map.addLayer(on);
      element.dataset.problemMode = mode;
      switcher.update();
    }

    // --- Controls: the 聚合/热力 switch, the legend, the count -----------------------------------
    var Switch = L.Control.extend({
      options: { position: "topright" },
      onAdd: function () {
        var box = L.DomUtil.create("div", "pm-box pm-switch leaflet-bar");
        box.setAttribute("role", "group");
        box.setAttribute("aria-label", "问题图层显示方式");
        box.innerHTML = '<button type="button" data-mode="cluster" data-testid="problem-mode-cluster">聚合</button>' +
          '<button type="button" data-mode="heat" data-testid="problem-mode-heat">热力</button>';
        L.DomEvent.disableClickPropagation(box);
        box.addEventListener("click", function (event) {
          var button = event.target.closest("button[data-mode]");
          if (button) setMode(button.dataset.mode);
        });
        this._box = box;
        this.update();
        return box;
      },
      update: function () {
        if (!this._box) return;
        Array.prototype.forEach.call(this._box.querySelectorAll("button"), function (button) {
          button.setAttribute("aria-pressed", String(button.dataset.mode === mode));
        });
      },
    });
    var Legend = L.Control.extend({
      options: { position: "bottomright" },
      onAdd: function () {
        this._box = L.DomUtil.create("div", "pm-box pm-legend");
        this._box.dataset.testid = "problem-legend";
        if (last) this.update(last);
        return this._box;
      },
      update: function (data) {
        if (!this._box) return;
        this._box.innerHTML = (data.statuses || []).map(function (s) {
          return '<div><span class="pm-dot" style="background:' + esc(s.colour) + '"></span>' + esc(s.label) + "</div>";
        }).join("");
      },
    });
    var Info = L.Control.extend({
      options: { position: "bottomleft" },
      onAdd: function () {
        this._box = L.DomUtil.create("div", "pm-box pm-info");
        this._box.dataset.testid = "problem-count";
        this._box.textContent = "正在读取问题……";
        if (last) this.update(last);
        return this._box;
      },
      update: function (data, message) {
        if (!this._box) return;
        if (message) { this._box.textContent = message; return; }
        var text = data.located ? "问题 " + data.count + " 个" : "所选范围内没有有位置的问题，可放宽筛选条件。";
        if (data.truncated) text += "（只显示最新的 " + data.limit + " 个，共 " + data.located + " 个）";
        if (data.unlocated) text += "；另有 " + data.unlocated + " 个没有位置，未显示";
        this._box.textContent = text;
      },
    });
    var switcher = new Switch();
    var legend = new Legend();
    var info = new Info();
    var controls = showControls ? [switcher, legend, info] : [];

    function setMode(value) {
      mode = value === "heat" ? "heat" : "cluster";
      applyMode();
    }

    function load() {
      var mine = ++request;
      element.dataset.problemState = "loading";
      fetch(url + query(filters), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          return response.json().then(function (body) { return { ok: response.ok, body: body }; });
        })
        .then(function (result) {
          if (mine !== request) return;
          if (!result.ok) throw new Error(result.body.detail || "读取问题失败。");
          last = result.body;
          draw(last);
          element.dataset.problems = String(last.count);
          element.dataset.unlocated = String(last.unlocated);
          element.dataset.truncated = String(!!last.truncated);
          element.dataset.problemState = "ready";
          if (options.onLoad) options.onLoad(last);
        })
        .catch(function (error) {
          if (mine !== request) return;
          var message = error && error.message && /[\u4e00-\u9fff]/.test(error.message) ? error.message : "读取问题失败，请稍后重试。";
          element.dataset.problemState = "error";
          info.update(null, message);
          if (options.onError) options.onError(message);
        });
    }

    function show() {
      visible = true;
      controls.forEach(function (control) { if (!control._map) control.addTo(map); });
      applyMode();
    }

    function hide() {
      visible = false;
      controls.forEach(function (control) { if (control._map) control.remove(); });
      applyMode();
    }

    show();
    load();
    if (ownMap) {
      window.addEventListener("resize", function () { map.invalidateSize(); });
    }
    return {
      map: map,
      reload: function (next) { if (next) filters = next; load(); },
      setMode: setMode,
      show: show,
      hide: hide,
      data: function () { return last; },
    };
  }

  global.ProblemMap = { init: init };
})(window);
