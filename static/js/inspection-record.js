/* The phone page that records an inspection at a point.
 *
 * Pick the point (nearest first when the browser gives a location), judge each check item of its
 * type (合格 / 不合格 / 严重不合格, occurrences, a note, photos uploaded at once), then submit the
 * whole record as one JSON POST. The draft (round, point, results, notes, photo ids and a
 * client_uuid generated once) lives in localStorage and is saved on every change, so a reload, a
 * dead battery or a lost signal loses nothing; the client_uuid makes a retried submit harmless.
 *
 * Offline (static/js/offline-queue.js): a photo taken without a network is resized on the phone and
 * kept in IndexedDB (cited as "local:<key>" until it is sent); a submitted record goes through the
 * outbox — sent at once when online, else kept as 待同步 and sent when the network comes back.
 */
(function () {
  "use strict";

  var root = document.getElementById("record");
  var dataNode = document.getElementById("record-data");
  if (!root || !dataNode) return;
  var data = JSON.parse(dataNode.textContent);
  var csrfInput = root.querySelector("input[name=csrfmiddlewaretoken]");
  var csrf = csrfInput ? csrfInput.value : "";
  var KEY = "inspection-draft:v1:" + data.user;
  var queue = null;
  if (window.OfflineQueue) {
    queue = window.OfflineQueue.create({
      user: data.user,
      csrf: csrf,
      urls: data.urls,
      onCsrf: function (token) {
        // A fresh token (the session changed meanwhile): the page's forms (signing out) take it too.
        csrf = token;
        Array.prototype.forEach.call(document.querySelectorAll("input[name=csrfmiddlewaretoken]"), function (input) {
          input.value = token;
        });
      },
    });
    window.OfflineQueue.mount(queue, document.getElementById("outbox"), data.urls);
  }
  var RESULT_LABELS = { pass: "合格", fail: "不合格", severe: "严重不合格" };

  var $ = function (selector, scope) { return (scope || root).querySelector(selector); };
  var $$ = function (selector, scope) { return Array.prototype.slice.call((scope || root).querySelectorAll(selector)); };

  var els = {
    round: $("#record-round"),
    geoStatus: $("#geo-status"),
    geoRefresh: $("#geo-refresh"),
    search: $("#point-search"),
    pointList: $("#point-list"),
    currentPoint: $("#current-point"),
    currentMeta: $("#current-point-meta"),
    changePoint: $("#change-point"),
    allPass: $("#all-pass"),
    note: $("#record-note"),
    location: $("#record-location"),
    errors: $("#record-errors"),
    summary: $("#record-summary"),
    submit: $("#record-submit"),
    restored: $("[data-testid=draft-restored]"),
  };

  // --- The draft ---------------------------------------------------------------------------

  function uuid4() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function freshDraft(roundId) {
    return { v: 1, client_uuid: uuid4(), round: roundId || null, point: null, started_at: null, results: {}, note: "", position: null };
  }

  function loadDraft() {
    try {
      var stored = JSON.parse(window.localStorage.getItem(KEY));
      if (stored && stored.v === 1 && stored.client_uuid && typeof stored.results === "object") return stored;
    } catch (e) { /* a broken draft is a new draft */ }
    return null;
  }

  var storageWarned = false;
  function saveDraft() {
    draft.saved_at = new Date().toISOString();
    try {
      window.localStorage.setItem(KEY, JSON.stringify(draft));
    } catch (e) {
      if (!storageWarned) {
        storageWarned = true;
        showErrors(["本机存储不可用（可能处于无痕模式），刷新页面会丢失草稿。"]);
      }
    }
  }

  function clearDraft() {
    try { window.localStorage.removeItem(KEY); } catch (e) { /* nothing to clear */ }
  }

  function hasResults(d) {
    return Object.keys(d.results || {}).some(function (id) { return d.results[id] && d.results[id].result; });
  }

  // --- Rounds, points and distances ----------------------------------------------------------

  function roundById(id) {
    for (var i = 0; i < data.rounds.length; i++) if (data.rounds[i].id === id) return data.rounds[i];
    return null;
  }

  function distanceM(lat1, lng1, lat2, lng2) {
    var r = 6371000, rad = Math.PI / 180;
    var dp = (lat2 - lat1) * rad, dl = (lng2 - lng1) * rad;
    var a = Math.sin(dp / 2) * Math.sin(dp / 2) + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dl / 2) * Math.sin(dl / 2);
    return Math.round(2 * r * Math.asin(Math.sqrt(a)));
  }

  function distanceText(m) {
    if (m == null) return "";
    return m < 1000 ? "约 " + m + " 米" : "约 " + (m / 1000).toFixed(m < 10000 ? 1 : 0) + " 公里";
  }

  function pointDistance(point) {
    if (!position || point.lat == null || point.lng == null) return null;
    return distanceM(position.lat, position.lng, point.lat, point.lng);
  }

  var position = null;
  var pendingPoints = {}; // "round:point" of the records waiting in the outbox
  var pendingKey = "";

  function renderPendingPoints(state) {
    var next = {};
    state.items.forEach(function (item) {
      if (item.status !== "synced" && item.round) next[item.round + ":" + item.point] = true;
      if (item.status === "synced") {
        var round = roundById(item.round);
        if (round && round.visited.indexOf(item.point) === -1) round.visited.push(item.point);
      }
    });
    var key = Object.keys(next).sort().join(",");
    if (key === pendingKey) return;
    pendingKey = key;
    pendingPoints = next;
    renderPoints();
  }

  function renderPoints() {
    var round = roundById(draft.round);
    els.pointList.textContent = "";
    if (!round) return;
    var query = (els.search.value || "").trim();
    var visited = {};
    round.visited.forEach(function (id) { visited[id] = true; });
    var points = round.points.map(function (id) { return data.points[id]; }).filter(function (p) {
      return p && (!query || p.name.indexOf(query) !== -1 || (p.address || "").indexOf(query) !== -1);
    });
    points.forEach(function (p) { p._distance = pointDistance(p); });
    if (position) {
      points.sort(function (a, b) {
        if (a._distance == null) return b._distance == null ? 0 : 1;
        if (b._distance == null) return -1;
        return a._distance - b._distance;
      });
    }
    if (!points.length) {
      var empty = document.createElement("div");
      empty.className = "list-group-item text-secondary";
      empty.textContent = round.points.length ? "没有符合搜索的点位。" : "本批次还没有点位。";
      els.pointList.appendChild(empty);
      return;
    }
    points.forEach(function (p) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "list-group-item list-group-item-action point-choice d-flex align-items-center gap-2";
      button.setAttribute("data-point", p.id);
      button.setAttribute("data-testid", "point-choice");
      var body = document.createElement("div");
      body.className = "flex-fill";
      body.style.minWidth = "0";
      var name = document.createElement("div");
      name.className = "fw-bold text-truncate";
      name.textContent = p.name;
      var meta = document.createElement("div");
      meta.className = "small text-secondary text-truncate";
      meta.textContent = p.type + " · " + p.unit;
      body.appendChild(name);
      body.appendChild(meta);
      button.appendChild(body);
      var side = document.createElement("div");
      side.className = "text-end text-nowrap";
      if (pendingPoints[draft.round + ":" + p.id]) {
        var waiting = document.createElement("span");
        waiting.className = "badge bg-orange-lt d-block mb-1";
        waiting.textContent = "待同步";
        side.appendChild(waiting);
      } else if (visited[p.id]) {
        var badge = document.createElement("span");
        badge.className = "badge bg-green-lt d-block mb-1";
        badge.textContent = "已查";
        side.appendChild(badge);
      }
      if (p._distance != null) {
        var d = document.createElement("span");
        d.className = "small point-distance";
        d.textContent = distanceText(p._distance);
        side.appendChild(d);
      }
      button.appendChild(side);
      els.pointList.appendChild(button);
    });
  }

  // --- Geolocation --------------------------------------------------------------------------

  function onPosition(pos) {
    var first = !position;
    var moved = position ? distanceM(position.lat, position.lng, pos.coords.latitude, pos.coords.longitude) : 0;
    position = {
      lat: pos.coords.latitude, lng: pos.coords.longitude,
      accuracy: Math.round(pos.coords.accuracy || 0), at: new Date(pos.timestamp || Date.now()).toISOString(),
    };
    els.geoStatus.textContent = "已定位，精度约 " + position.accuracy + " 米，点位按距离排序";
    if (draft.point) {
      draft.position = position;
      saveDraft();
      renderLocation();
    }
    if (first || moved > 30) renderPoints();
  }

  function onPositionError(err) {
    if (position) return;
    var reason = { 1: "未授权定位", 2: "暂时无法定位", 3: "定位超时" }[err && err.code] || "无法定位";
    els.geoStatus.textContent = reason + "，点位按类别和名称排列；提交时不记录位置。";
    renderLocation();
  }

  function locate() {
    if (!("geolocation" in navigator)) {
      els.geoStatus.textContent = "此浏览器不支持定位，点位按类别和名称排列。";
      return;
    }
    els.geoStatus.textContent = "正在获取位置…";
    navigator.geolocation.getCurrentPosition(onPosition, onPositionError, { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 });
  }

  function watch() {
    if (!("geolocation" in navigator)) return locate();
    locate();
    try {
      navigator.geolocation.watchPosition(onPosition, onPositionError, { enableHighAccuracy: true, maximumAge: 30000 });
    } catch (e) { /* getCurrentPosition already answered */ }
  }

  function renderLocation() {
    if (!els.location) return;
    var point = data.points[draft.point];
    var where = position || draft.position;
    if (!where) {
      els.location.textContent = "位置：未获取（提交时不记录位置）";
      return;
    }
    var text = "位置：" + where.lat.toFixed(5) + ", " + where.lng.toFixed(5) + "（精度约 " + where.accuracy + " 米）";
    if (point && point.lat != null) text += "，距点位" + distanceText(distanceM(where.lat, where.lng, point.lat, point.lng));
    els.location.textContent = text;
  }

  // --- Steps --------------------------------------------------------------------------------

  function showStep(name) {
    $$("section[data-step]").forEach(function (section) { section.hidden = section.getAttribute("data-step") !== name; });
    window.scrollTo(0, 0);
  }

  function currentBlock() {
    var point = data.points[draft.point];
    return point ? $('[data-type-items="' + point.typeId + '"]') : null;
  }

  function currentItems() {
    var block = currentBlock();
    return block ? $$("[data-item]", block) : [];
  }

  function openPoint() {
    var point = data.points[draft.point];
    if (!point) return showStep("pick");
    els.currentPoint.textContent = point.name;
    els.currentMeta.textContent = point.type + " · " + point.unit + (point.address ? " · " + point.address : "");
    $$("[data-type-items]").forEach(function (block) { block.hidden = String(point.typeId) !== block.getAttribute("data-type-items"); });
    els.note.value = draft.note || "";
    currentItems().forEach(renderItem);
    renderSummary();
    renderLocation();
    showErrors([]);
    showStep("items");
  }

  function choosePoint(id) {
    if (draft.point && draft.point !== id && hasResults(draft)) {
      if (!window.confirm("更换点位将清空当前点位已记录的结果，确定吗？")) return;
    }
    if (draft.point !== id) {
      els.restored.hidden = true;
      draft.point = id;
      draft.results = {};
      draft.note = "";
      draft.started_at = new Date().toISOString();
    }
    draft.position = position || draft.position;
    saveDraft();
    openPoint();
  }

  // --- Items --------------------------------------------------------------------------------

  function entryFor(id) {
    if (!draft.results[id]) draft.results[id] = { result: null, occurrences: 0, note: "", photos: [] };
    return draft.results[id];
  }

  function deductionOf(card, entry) {
    var per = parseFloat(card.getAttribute("data-per")), cap = parseFloat(card.getAttribute("data-cap"));
    if (!entry || !entry.result || entry.result === "pass") return 0;
    if (entry.result === "severe") return cap;
    return Math.min(Math.max(entry.occurrences || 1, 1) * per, cap);
  }

  function renderItem(card) {
    var id = card.getAttribute("data-item");
    var entry = draft.results[id] || null;
    var result = entry && entry.result;
    $$("[data-result]", card).forEach(function (button) {
      var value = button.getAttribute("data-result");
      var active = value === result;
      var colour = { pass: "success", fail: "warning", severe: "danger" }[value];
      button.className = "btn " + (active ? "btn-" + colour : "btn-outline-" + colour);
      button.setAttribute("aria-pressed", active ? "true" : "false");
    });
    var failing = result === "fail" || result === "severe";
    var detail = $(".item-detail", card);
    var open = failing || card.getAttribute("data-open") === "1" || (entry && (entry.note || (entry.photos || []).length));
    detail.hidden = !open;
    $("[data-more]", card).hidden = !!open;
    $("[data-occurrences-row]", card).hidden = !failing;
    $("[data-occurrences]", card).textContent = entry ? String(entry.occurrences || 0) : "0";
    $("[data-deduction]", card).textContent = failing ? "扣 " + formatScore(deductionOf(card, entry)) + " 分" : "";
    var note = $("[data-note]", card);
    if (document.activeElement !== note) note.value = entry ? entry.note || "" : "";
    renderPhotos(card, entry);
    card.classList.remove("is-missing");
  }

  function formatScore(value) {
    return (Math.round(value * 100) / 100).toString();
  }

  function renderPhotos(card, entry) {
    var box = $("[data-photos]", card);
    $$(".photo-slot[data-photo-id]", box).forEach(function (slot) { slot.remove(); });
    ((entry && entry.photos) || []).forEach(function (photo) {
      var slot = document.createElement("div");
      slot.className = "photo-slot";
      slot.setAttribute("data-photo-id", photo.id);
      var link = document.createElement(photo.url ? "a" : "span");
      if (photo.url) {
        link.href = photo.url;
        link.target = "_blank";
        link.rel = "noopener";
      }
      var img = document.createElement("img");
      img.src = photo.thumb_url;
      img.alt = "现场照片";
      img.setAttribute("data-testid", "photo-thumb");
      link.appendChild(img);
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "btn btn-danger btn-remove";
      remove.setAttribute("data-remove-photo", photo.id);
      remove.setAttribute("aria-label", "移除照片");
      remove.textContent = "×";
      slot.appendChild(link);
      if (photo.local) {
        var kept = document.createElement("span");
        kept.className = "badge bg-orange text-white photo-local";
        kept.setAttribute("data-testid", "photo-local");
        kept.textContent = "待上传";
        slot.appendChild(kept);
      }
      slot.appendChild(remove);
      box.insertBefore(slot, box.querySelector(".photo-slot[data-uploading]"));
    });
  }

  function renderSummary() {
    var items = currentItems();
    var marked = 0, total = 0;
    items.forEach(function (card) {
      var entry = draft.results[card.getAttribute("data-item")];
      if (entry && entry.result) marked += 1;
      total += deductionOf(card, entry);
    });
    els.summary.innerHTML = "";
    var line1 = document.createElement("div");
    line1.textContent = "已评 " + marked + " / " + items.length + " 项";
    var line2 = document.createElement("div");
    line2.className = total ? "text-danger fw-bold" : "text-secondary";
    line2.textContent = "预计扣 " + formatScore(total) + " 分";
    els.summary.appendChild(line1);
    els.summary.appendChild(line2);
    if (uploading > 0) {
      var line3 = document.createElement("div");
      line3.className = "text-primary";
      line3.textContent = "照片上传中（" + uploading + "）…";
      els.summary.appendChild(line3);
    }
    els.allPass.hidden = marked === items.length;
  }

  function setResult(card, value) {
    var entry = entryFor(card.getAttribute("data-item"));
    entry.result = value;
    if (value === "pass") entry.occurrences = 0;
    else if (!entry.occurrences) entry.occurrences = 1;
    saveDraft();
    renderItem(card);
    renderSummary();
    clearStaleErrors();
  }

  function clearStaleErrors() {
    if (!els.errors.hidden) showErrors([]);
  }

  function step(card, delta) {
    var entry = entryFor(card.getAttribute("data-item"));
    var next = (entry.occurrences || 0) + delta;
    entry.occurrences = Math.max(1, Math.min(100, next));
    saveDraft();
    renderItem(card);
    renderSummary();
  }

  // --- Photos -------------------------------------------------------------------------------

  var uploading = 0;

  function upload(card, file) {
    var box = $("[data-photos]", card);
    var slot = document.createElement("div");
    slot.className = "photo-slot";
    slot.setAttribute("data-uploading", "1");
    var pending = document.createElement("div");
    pending.className = "photo-pending";
    pending.textContent = "上传中 0%";
    var bar = document.createElement("div");
    bar.className = "progress progress-sm";
    var fill = document.createElement("div");
    fill.className = "progress-bar";
    fill.style.width = "0%";
    bar.appendChild(fill);
    slot.appendChild(pending);
    slot.appendChild(bar);
    box.appendChild(slot);

    function fail(message) {
      uploading -= 1;
      renderSummary();
      bar.remove();
      pending.textContent = "";
      var text = document.createElement("div");
      text.className = "text-danger";
      text.textContent = message;
      var retry = document.createElement("button");
      retry.type = "button";
      retry.className = "btn btn-sm btn-link p-0";
      retry.textContent = "重试";
      retry.addEventListener("click", function () { slot.remove(); upload(card, file); });
      var drop = document.createElement("button");
      drop.type = "button";
      drop.className = "btn btn-sm btn-link p-0 text-secondary";
      drop.textContent = "移除";
      drop.addEventListener("click", function () { slot.remove(); });
      pending.style.flexDirection = "column";
      pending.appendChild(text);
      pending.appendChild(retry);
      pending.appendChild(drop);
    }

    function keepLocal() {
      // No network: resized on the phone and kept with the draft; sent with the record.
      bar.remove();
      pending.textContent = "保存到本机…";
      queue.keepPhoto(file).then(function (photo) {
        uploading -= 1;
        slot.remove();
        var entry = entryFor(card.getAttribute("data-item"));
        entry.photos = entry.photos || [];
        entry.photos.push({ id: "local:" + photo.local, local: photo.local, thumb_url: photo.thumb_url });
        saveDraft();
        renderItem(card);
        renderSummary();
      }).catch(function (error) {
        fail((error && error.message) || "无法保存到本机");
      });
    }

    uploading += 1;
    renderSummary();
    if (queue && navigator.onLine === false) return keepLocal();
    if (data.maxPhotoBytes && file.size > data.maxPhotoBytes) {
      fail("照片过大（" + (file.size / 1048576).toFixed(1) + " MB）");
      return;
    }
    var form = new FormData();
    form.append("file", file, file.name || "photo.jpg");
    var xhr = new XMLHttpRequest();
    xhr.open("POST", data.urls.upload);
    xhr.setRequestHeader("X-CSRFToken", csrf);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = function (event) {
      if (!event.lengthComputable) return;
      var percent = Math.round((100 * event.loaded) / event.total);
      fill.style.width = percent + "%";
      pending.textContent = "上传中 " + percent + "%";
    };
    xhr.onload = function () {
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      if (xhr.status === 201 && body && body.id) {
        uploading -= 1;
        slot.remove();
        var entry = entryFor(card.getAttribute("data-item"));
        entry.photos = entry.photos || [];
        entry.photos.push({ id: body.id, thumb_url: body.thumb_url, url: body.url });
        saveDraft();
        renderItem(card);
        renderSummary();
      } else {
        fail((body && body.messages && body.messages.join("；")) || "上传失败（" + xhr.status + "）");
      }
    };
    xhr.onerror = function () {
      if (queue) keepLocal();
      else fail("网络不通，上传失败");
    };
    xhr.send(form);
  }

  function removePhoto(card, id) {
    var entry = entryFor(card.getAttribute("data-item"));
    entry.photos = (entry.photos || []).filter(function (p) { return String(p.id) !== String(id); });
    saveDraft();
    renderItem(card);
  }

  // --- Submitting ---------------------------------------------------------------------------

  function showErrors(list) {
    els.errors.textContent = "";
    els.errors.hidden = !list.length;
    list.forEach(function (message) {
      var line = document.createElement("div");
      line.textContent = message;
      els.errors.appendChild(line);
    });
    if (list.length) els.errors.scrollIntoView({ block: "center", behavior: "smooth" });
  }

  var submitting = false;

  function submit() {
    if (submitting) return;
    var items = currentItems();
    var missing = items.filter(function (card) {
      var entry = draft.results[card.getAttribute("data-item")];
      return !entry || !entry.result;
    });
    if (!items.length) return showErrors(["该类点位没有测评细则，无法提交。"]);
    if (missing.length) {
      missing.forEach(function (card) { card.classList.add("is-missing"); });
      showErrors(["还有 " + missing.length + " 项未评定：第 " + missing.map(function (c) { return c.getAttribute("data-index"); }).join("、") + " 项。可点“其余未评项全部合格”。"]);
      missing[0].scrollIntoView({ block: "center", behavior: "smooth" });
      return;
    }
    if (uploading > 0) return showErrors(["照片还在上传，请稍候再提交。"]);
    var where = position || draft.position;
    var payload = {
      client_uuid: draft.client_uuid,
      round: draft.round,
      point: draft.point,
      started_at: draft.started_at,
      latitude: where ? Number(where.lat.toFixed(6)) : null,
      longitude: where ? Number(where.lng.toFixed(6)) : null,
      note: draft.note || "",
      observations: items.map(function (card) {
        var entry = draft.results[card.getAttribute("data-item")];
        return {
          check_item: Number(card.getAttribute("data-item")),
          result: entry.result,
          occurrences: entry.result === "pass" ? 0 : entry.occurrences || 1,
          note: entry.note || "",
          photos: (entry.photos || []).map(function (p) { return p.id; }),
        };
      }),
    };
    submitting = true;
    els.submit.disabled = true;
    els.submit.textContent = "提交中…";
    showErrors([]);
    var finish = function () {
      submitting = false;
      els.submit.disabled = false;
      els.submit.textContent = "提交";
    };
    var local = payload.observations.some(function (o) {
      return o.photos.some(function (id) { return typeof id === "string"; });
    });
    if (queue) {
      // One path online and offline: kept in the outbox first, then sent when there is a network.
      var round = roundById(draft.round);
      queue.submit({ payload: payload, label: data.points[draft.point].name, round_label: round ? round.name : "" })
        .then(function (result) {
          if (result.state === "done") return done(result.body);
          if (result.state === "refused") {
            return showErrors((result.body && result.body.messages) || [result.message]);
          }
          queued(result.message);
        })
        .catch(function (error) {
          if (local || navigator.onLine === false) {
            return showErrors([((error && error.message) || "无法保存到本机") + "。草稿已保存在本机，联网后再点“提交”。"]);
          }
          postDirect(payload, finish);
          finish = null;
        })
        .then(function () { if (finish) finish(); });
      return;
    }
    postDirect(payload, finish);
  }

  function postDirect(payload, finish) {
    fetch(data.urls.submit, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(payload),
    })
      .then(function (response) {
        return response.text().then(function (text) {
          var body = null;
          try { body = JSON.parse(text); } catch (e) { body = null; }
          return { status: response.status, body: body };
        });
      })
      .then(function (answer) {
        if (answer.body && answer.body.ok) return done(answer.body);
        if (answer.body && answer.body.messages) return showErrors(answer.body.messages);
        if (answer.status === 403) return showErrors(["提交被拒绝（403）：登录可能已过期，请在新窗口重新登录后再提交。草稿已保存在本机。"]);
        showErrors(["提交失败（服务器返回 " + answer.status + "）。草稿已保存在本机，可稍后再试。"]);
      })
      .catch(function () {
        showErrors(["网络不通，提交失败。草稿已保存在本机，信号恢复后再点“提交”即可，不会重复提交。"]);
      })
      .then(finish);
  }

  var lastQueued = null; // the client_uuid the 待同步 screen speaks of

  function renderQueuedNote(state) {
    if (!lastQueued) return;
    state.items.forEach(function (item) {
      if (item.client_uuid !== lastQueued) return;
      var badge = $("#queued-badge");
      if (item.status === "synced") {
        badge.textContent = "已同步";
        badge.className = "badge bg-green text-white fs-5";
        $("#queued-note").textContent = "网络已恢复，记录已提交到服务器。";
      } else if (item.status === "failed") {
        badge.textContent = "同步失败";
        badge.className = "badge bg-red text-white fs-5";
        $("#queued-note").textContent = "失败：" + item.error + "（可在上方列表中重试或删除）";
      }
    });
  }

  function queued(message) {
    var point = data.points[draft.point];
    lastQueued = draft.client_uuid;
    $("#queued-badge").textContent = "待同步";
    $("#queued-badge").className = "badge bg-orange text-white fs-5";
    clearDraft();
    draft = freshDraft(draft.round);
    saveDraft();
    $("#queued-point").textContent = point ? point.name : "";
    $("#queued-note").textContent = message || (navigator.onLine === false
      ? "当前离线：记录已保存在本机，联网后自动同步，不会重复提交。"
      : "记录已保存在本机，稍后自动同步，不会重复提交。");
    els.restored.hidden = true;
    showStep("queued");
  }

  function done(body) {
    var round = roundById(draft.round);
    if (round && round.visited.indexOf(draft.point) === -1) round.visited.push(draft.point);
    clearDraft();
    draft = freshDraft(draft.round); // the next point is likely in the same round
    saveDraft();
    $("#done-point").textContent = body.inspection.point + (body.created ? "" : "（此前已提交，未重复记录）");
    $("#done-total").textContent = "扣 " + body.total_deduction + " 分";
    $("#done-total").className = "h1 mb-2 " + (parseFloat(body.total_deduction) ? "text-danger" : "text-success");
    var meta = body.inspection.submitted_at + " 提交";
    if (body.inspection.distance_m != null) meta += " · 距点位 " + body.inspection.distance_m + " 米";
    if (body.inspection.far_from_point) meta += "（位置偏离，已标记）";
    $("#done-meta").textContent = meta;
    var list = $("#done-observations");
    list.textContent = "";
    body.observations.forEach(function (o, index) {
      var row = document.createElement("div");
      row.className = "list-group-item d-flex justify-content-between gap-2";
      var text = document.createElement("span");
      text.textContent = index + 1 + ". " + o.text;
      var result = document.createElement("span");
      result.className = "text-nowrap " + (o.result === "pass" ? "text-success" : "text-danger fw-bold");
      result.textContent = o.result_label + (o.result === "pass" ? "" : " · 扣 " + o.deduction + " 分");
      row.appendChild(text);
      row.appendChild(result);
      list.appendChild(row);
    });
    var problems = $("#done-problems");
    problems.textContent = "";
    var sightings = body.sightings || [];
    if (!body.problems.length) {
      var none = document.createElement("div");
      none.className = "list-group-item text-secondary";
      // A failure that became a sighting of an open problem is not "all passed".
      none.textContent = sightings.length ? "没有新立问题（不合格项已记入原有问题）。" : "全部合格，没有新立问题。";
      problems.appendChild(none);
    }
    body.problems.forEach(function (p) {
      var link = document.createElement("a");
      link.className = "list-group-item list-group-item-action";
      link.href = p.url;
      link.setAttribute("data-testid", "done-problem");
      link.textContent = "#" + p.id + " " + p.description + " · 扣 " + p.deduction + " 分";
      problems.appendChild(link);
    });
    sightings.forEach(function (s) {
      // The problem is linked only when the recorder may read it (the server says so).
      var row = document.createElement(s.url ? "a" : "div");
      row.className = "list-group-item" + (s.url ? " list-group-item-action" : "");
      if (s.url) row.href = s.url;
      row.setAttribute("data-testid", "done-sighting");
      row.textContent = "再次发现：" + s.check_item + " · 扣 " + s.deduction + " 分 → 记入原有问题 #" + s.problem + " " + s.description + "（" + s.status + "）";
      problems.appendChild(row);
    });
    $("#done-link").href = body.inspection.url;
    els.restored.hidden = true;
    showStep("done");
  }

  // --- Events -------------------------------------------------------------------------------

  root.addEventListener("click", function (event) {
    var target = event.target.closest("button");
    if (!target || !root.contains(target)) return;
    var card = target.closest("[data-item]");
    if (target.hasAttribute("data-point")) return choosePoint(Number(target.getAttribute("data-point")));
    if (card && target.hasAttribute("data-result")) return setResult(card, target.getAttribute("data-result"));
    if (card && target.hasAttribute("data-delta")) return step(card, Number(target.getAttribute("data-delta")));
    if (card && target.hasAttribute("data-more")) {
      card.setAttribute("data-open", "1");
      return renderItem(card);
    }
    if (card && target.hasAttribute("data-remove-photo")) return removePhoto(card, target.getAttribute("data-remove-photo"));
  });

  root.addEventListener("input", function (event) {
    var target = event.target;
    var card = target.closest("[data-item]");
    if (card && target.hasAttribute("data-note")) {
      entryFor(card.getAttribute("data-item")).note = target.value;
      saveDraft();
    } else if (target === els.note) {
      draft.note = target.value;
      saveDraft();
    }
  });

  root.addEventListener("change", function (event) {
    var target = event.target;
    if (!target.hasAttribute("data-photo-input")) return;
    var card = target.closest("[data-item]");
    Array.prototype.forEach.call(target.files || [], function (file) { upload(card, file); });
    target.value = "";
  });

  els.round.addEventListener("change", function () {
    var id = Number(els.round.value);
    if (draft.point && hasResults(draft) && draft.round !== id) {
      if (!window.confirm("更换批次将清空当前点位已记录的结果，确定吗？")) {
        els.round.value = String(draft.round);
        return;
      }
      draft = freshDraft(id);
    }
    draft.round = id;
    saveDraft();
    renderPoints();
  });
  els.search.addEventListener("input", renderPoints);
  els.geoRefresh.addEventListener("click", locate);
  els.changePoint.addEventListener("click", function () {
    renderPoints();
    showStep("pick");
  });
  els.allPass.addEventListener("click", function () {
    currentItems().forEach(function (card) {
      var entry = entryFor(card.getAttribute("data-item"));
      if (!entry.result) {
        entry.result = "pass";
        entry.occurrences = 0;
      }
      renderItem(card);
    });
    saveDraft();
    renderSummary();
    clearStaleErrors();
  });
  els.submit.addEventListener("click", submit);
  $$("#record-next, #queued-next").forEach(function (button) {
    button.addEventListener("click", function () {
      saveDraft();
      renderPoints();
      showStep("pick");
    });
  });

  // --- Start: restore the draft or begin one --------------------------------------------------

  var draft = loadDraft();
  var initial = data.initial || {};
  var notice = "";
  if (draft && hasResults(draft)) {
    var point = data.points[draft.point];
    if (roundById(draft.round) && point && roundById(draft.round).points.indexOf(draft.point) !== -1) {
      notice = "已恢复未提交的草稿：" + point.name + "。";
    } else {
      notice = "本机有一份未提交的草稿，但它所属的批次或点位已不在进行中的批次里" +
        (draft.round ? "：请打开 " + data.urls.record + "?round=" + draft.round + " 提交，或重新记录。" : "。");
      draft = freshDraft(null);
    }
  } else if (!draft) {
    draft = freshDraft(null);
  }
  if (!hasResults(draft)) {
    if (initial.round && roundById(initial.round)) draft.round = initial.round;
    if (initial.point && roundById(draft.round || initial.round) &&
        roundById(draft.round || initial.round).points.indexOf(initial.point) !== -1) {
      draft.round = draft.round || initial.round;
      if (draft.point !== initial.point) {
        draft.point = initial.point;
        draft.results = {};
        draft.started_at = new Date().toISOString();
      }
    }
  }
  if (!roundById(draft.round)) {
    draft.round = data.rounds.length ? data.rounds[0].id : null;
    draft.point = null;
  }
  if (draft.point && roundById(draft.round).points.indexOf(draft.point) === -1) draft.point = null;
  els.round.value = String(draft.round);
  position = draft.position || null;
  if (notice) {
    els.restored.textContent = notice;
    els.restored.hidden = false;
  }
  saveDraft();
  renderPoints();
  if (draft.point) openPoint();
  else showStep("pick");
  position = null; // a stored position is only for the draft; sorting waits for a fresh one
  watch();
  if (queue) {
    var keep = [];
    Object.keys(draft.results || {}).forEach(function (id) {
      (draft.results[id].photos || []).forEach(function (p) { if (p.local) keep.push(p.local); });
    });
    queue.ready().then(function () {
      queue.onChange(renderPendingPoints);
      queue.onChange(renderQueuedNote);
      return queue.prune(keep);
    }).then(function () {
      if (navigator.onLine !== false) queue.sync();
    }).catch(function (error) {
      showErrors([(error && error.message) || "无法打开本机离线存储"]);
    });
  }
})();
