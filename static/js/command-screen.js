/* The 大屏 (templates/accountability/command_screen.html).
   The page's first data is embedded (#screen-data); every `data-refresh` seconds the one JSON
   endpoint (`data-api`, GET /api/v1/command-screen/) is fetched again and drawn in place — no
   reload. A failed fetch keeps the last data on the wall and says 连接中断 until one succeeds.
   window.commandScreen.refresh() fetches now (used by the browser test). */
(function () {
  "use strict";
  var root = document.querySelector("[data-testid=command-screen]");
  if (!root) return;
  var data = JSON.parse(document.getElementById("screen-data").textContent);
  var refreshSeconds = Math.max(5, parseInt(root.dataset.refresh, 10) || 60);
  var font = getComputedStyle(document.body).fontFamily;
  var status = document.querySelector("[data-testid=screen-status]");
  var charts = {};

  function two(n) { return (n < 10 ? "0" : "") + n; }
  function hms(d) { return two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds()); }
  function setText(selector, text) {
    document.querySelectorAll(selector).forEach(function (el) { el.textContent = text; });
  }
  function pct(v) { return v === null || v === undefined ? "—" : Number(v).toFixed(1) + "%"; }

  // ------------------------------------------------------------------ clock
  var WEEKDAYS = "日一二三四五六";
  function tick() {
    var now = new Date();
    setText("[data-testid=screen-clock]", hms(now));
    setText("[data-testid=screen-date]",
      now.getFullYear() + "年" + (now.getMonth() + 1) + "月" + now.getDate() + "日 星期" + WEEKDAYS[now.getDay()]);
  }
  tick();
  setInterval(tick, 1000);

  // ------------------------------------------------------------------ charts
  function chart(id) {
    if (charts[id]) return charts[id];
    var el = document.getElementById(id);
    if (!el || !window.echarts) return null;
    var c = echarts.init(el, null, { renderer: "canvas", locale: "ZH" });
    c.on("finished", function () { el.setAttribute("data-chart-ready", "1"); });
    if (window.ResizeObserver) new ResizeObserver(function () { c.resize(); }).observe(el);
    charts[id] = c;
    return c;
  }
  var AXIS = { axisLine: { lineStyle: { color: "#3b5577" } }, axisLabel: { color: "#b8c7db", fontSize: 16 },
               splitLine: { lineStyle: { color: "#1d3557" } } };

  function drawTrend(points) {
    var panel = document.querySelector("[data-testid=screen-trend-panel]");
    var has = points.some(function (p) { return p.rate !== null; });
    panel.classList.toggle("is-empty", !has);
    if (!has) return;
    var c = chart("screen-trend");
    if (!c) return;
    c.setOption({
      textStyle: { fontFamily: font }, animationDuration: 400, backgroundColor: "transparent",
      grid: { left: 8, right: 24, top: 36, bottom: 4, containLabel: true },
      xAxis: Object.assign({ type: "category", data: points.map(function (p) { return p.label; }) }, AXIS,
                           { axisLabel: { color: "#b8c7db", fontSize: 15, hideOverlap: true } }),
      yAxis: Object.assign({ type: "value", splitNumber: 4,
                             min: function (v) { return Math.max(0, Math.floor((v.min - 2) / 5) * 5); },
                             max: function (v) { return Math.min(100, Math.ceil((v.max + 2) / 5) * 5); } }, AXIS,
                           { axisLabel: { color: "#b8c7db", fontSize: 15, formatter: "{value}%" } }),
      series: [{
        type: "line", name: "全市得分率", smooth: true, symbolSize: 10, connectNulls: false,
        data: points.map(function (p) { return p.rate; }),
        lineStyle: { width: 4, color: "#4dabf7" }, itemStyle: { color: "#4dabf7" },
        areaStyle: { color: "rgba(77, 171, 247, .18)" },
        label: { show: true, color: "#fff", fontSize: 16, formatter: function (d) { return pct(d.value); } }
      }]
    }, true);
  }

  function drawRanking(districts) {
    var panel = document.querySelector("[data-testid=screen-ranking-panel]");
    panel.classList.toggle("is-empty", !districts.length);
    if (!districts.length) return;
    var c = chart("screen-ranking");
    if (!c) return;
    var rows = districts.slice(0, 12);
    c.setOption({
      textStyle: { fontFamily: font }, animationDuration: 400, backgroundColor: "transparent",
      grid: { left: 8, right: 70, top: 4, bottom: 4, containLabel: true },
      xAxis: Object.assign({ type: "value", min: function (v) { return Math.max(0, Math.floor((v.min - 5) / 10) * 10); },
                             max: 100, splitNumber: 3 }, AXIS, { axisLabel: { show: false } }),
      yAxis: Object.assign({ type: "category", inverse: true,
                             data: rows.map(function (r) { return (r.rank ? r.rank + " " : "") + r.unit_name; }) }, AXIS,
                           { axisLabel: { color: "#e6edf7", fontSize: 18 } }),
      series: [{
        type: "bar", barMaxWidth: 26,
        data: rows.map(function (r) {
          var colour = r.vetoed ? "#e03131" : r.list === "red" ? "#ff8787" : r.list === "black" ? "#868e96" : "#4dabf7";
          return { value: r.composite === null ? 0 : r.composite, itemStyle: { color: colour, borderRadius: [0, 4, 4, 0] } };
        }),
        label: { show: true, position: "right", color: "#fff", fontSize: 17,
                 formatter: function (d) {
                   var r = rows[d.dataIndex];
                   if (r.vetoed) return "否决";
                   return r.composite === null ? "样本不足" : r.composite.toFixed(1);
                 } }
      }]
    }, true);
  }

  // ------------------------------------------------------------------ lists, counters, band
  function esc(text) {
    return String(text == null ? "" : text).replace(/[&<>"']/g, function (ch) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[ch];
    });
  }
  function drawBoards(boards) {
    var panel = document.querySelector("[data-testid=screen-boards]");
    var any = boards.some(function (b) { return b.red.length || b.black.length; });
    panel.classList.toggle("is-empty", !any);
    ["red", "black"].forEach(function (side) {
      var html = "";
      boards.forEach(function (b) {
        b[side].forEach(function (r) {
          var right = r.vetoed ? '<span class="veto">否决</span>'
            : '<span class="score">' + (r.composite === null ? "—" : r.composite.toFixed(1)) + "</span>";
          html += '<li data-testid="board-' + side + '"><span class="who"><span class="kind">' + esc(b.population_label) +
                  "</span>" + esc(r.unit_name) + "</span>" + right + "</li>";
        });
        var total = b[side + "_total"];
        if (total > b[side].length) html += '<li class="more">' + esc(b.population_label) + "共 " + total + " 个，详见周评比</li>";
      });
      var list = document.querySelector("[data-board=" + side + "]");
      list.innerHTML = html || '<li class="more">无</li>';
      fitList(list);
    });
  }
  // A list never runs past its box: the names that do not fit give way to one line saying how many.
  function fitList(list) {
    var bottom = list.parentElement.getBoundingClientRect().bottom - 4;
    var hidden = 0;
    function over() { return list.lastElementChild && list.lastElementChild.getBoundingClientRect().bottom > bottom; }
    if (!over()) return;
    while (over()) {
      var last = list.lastElementChild;
      if (!last.classList.contains("more")) hidden += 1;
      list.removeChild(last);
      if (!over()) break;
    }
    var more = document.createElement("li");
    more.className = "more";
    more.setAttribute("data-testid", "board-hidden");
    while (list.lastElementChild) {
      more.textContent = "另有 " + hidden + " 个单位，详见周评比";
      list.appendChild(more);
      if (!over()) break;
      list.removeChild(more);
      var gone = list.lastElementChild;
      if (!gone.classList.contains("more")) hidden += 1;
      list.removeChild(gone);
    }
  }
  function drawVeto(events) {
    var band = document.querySelector("[data-testid=screen-veto]");
    band.classList.toggle("is-empty", !events.length);
    band.querySelector("[data-field=veto]").textContent = events.length
      ? events.map(function (e) { return e.unit_name + " · " + e.title + "（" + e.occurred_on + "）"; }).join("；") +
        "。未解决前不能获得称号。"
      : "没有未解决的一票否决事项";
  }

  function draw(d) {
    setText("[data-field=campaign_name]", d.campaign_name);
    setText("[data-field=days_left]", d.days_left >= 0 ? String(d.days_left) : "已过 " + (-d.days_left));
    setText("[data-field=phase]", d.phase ? d.phase.label + "阶段" : "未设置阶段");
    setText("[data-field=week_label]", d.week_label || "暂无发布");
    setText("[data-field=week_label_small]", d.week_label);
    var last = d.trend.length ? d.trend[d.trend.length - 1].rate : null;
    setText("[data-field=city_rate]", pct(last));
    Object.keys(d.counters).forEach(function (key) { setText("[data-counter=" + key + "]", String(d.counters[key])); });
    drawVeto(d.veto_events);
    drawBoards(d.boards);
    drawTrend(d.trend);
    drawRanking(d.districts);
  }

  // ------------------------------------------------------------------ map
  function mountMap() {
    var el = document.getElementById("screen-map");
    var options = JSON.parse(document.getElementById("screen-map-options").textContent || "{}");
    if (window.ProblemMap && typeof window.ProblemMap.init === "function") {
      return window.ProblemMap.init(el, {
        url: data.problem_map_url, filters: mapFilters(data), tileUrl: options.tileUrl,
        attribution: options.attribution, dark: true
      });
    }
    // Without the component: an empty map, so the panel still says where the map goes.
    if (typeof L === "undefined") { el.textContent = "地图组件未加载。"; return null; }
    var map = L.map(el, { attributionControl: !!options.tileUrl, zoomControl: false });
    if (options.tileUrl) L.tileLayer(options.tileUrl, { maxZoom: 19, attribution: options.attribution || "" }).addTo(map);
    map.setView([35.0, 105.0], 4);
    return null;
  }
  function mapFilters(d) { return { campaign: d.campaign, since: d.problem_map_since }; }
  var problemMap = mountMap();

  // ------------------------------------------------------------------ refresh
  function shown(d) {
    var at = (d.generated_at || "").slice(11, 19);
    status.textContent = "数据更新于 " + at;
    status.classList.remove("is-lost");
  }
  function lost() {
    status.textContent = "连接中断 · 显示 " + (data.generated_at || "").slice(11, 19) + " 的数据";
    status.classList.add("is-lost");
  }
  function refresh() {
    return fetch(root.dataset.api, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (fresh) {
        data = fresh;
        draw(fresh);
        shown(fresh);
        if (problemMap) problemMap.reload(mapFilters(fresh));
      })
      .catch(lost);
  }
  draw(data);
  shown(data);
  window.addEventListener("resize", function () { drawBoards(data.boards); });
  setInterval(refresh, refreshSeconds * 1000);
  window.commandScreen = { refresh: refresh, charts: charts, data: function () { return data; } };
})();
