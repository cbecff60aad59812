/* The outbox of the phone record page: inspections and photos kept on the phone (IndexedDB) until
 * the server has them.
 *
 * Stores (database "cc-offline"):
 *   outbox  {client_uuid, user, created_at, label, round_label, payload, status, error, attempts}
 *           payload is the record page's JSON POST; an observation's photo is either the id of a
 *           photo already uploaded or "local:<key>", a photo kept here;
 *   photos  {key, user, blob, name, thumb, uploaded}: a photo taken without a network, resized on
 *           the phone; `uploaded` keeps the server's answer once sent, so a retry never sends it
 *           twice.
 *
 * Sync (on load, on the `online` event, every minute while something waits, and on 立即同步 / 重试):
 * each waiting record uploads its kept photos, then POSTs itself with its client_uuid — the server
 * answers a known client_uuid with the record it already has, so a retry never duplicates. A
 * refusal (4xx: the round's points changed, an item no longer applies…) stays in the outbox as
 * 失败 with the server's message, to retry or delete; a network error or a 5xx waits for the next
 * round; a CSRF failure fetches a fresh token from the record page and retries once (unless the
 * page is another user's: someone else signed in meanwhile); 401 keeps everything and asks to sign
 * in again.
 */
(function () {
  "use strict";

  var DB_NAME = "cc-offline";
  var DB_VERSION = 1;
  var MAX_SIDE = 1600;
  var JPEG_QUALITY = 0.8;
  var RETRY_MS = 60000;
  var SYNCED_SHOWN_MS = 4000;
  var AUTH_MESSAGE = "登录已过期，请重新登录后同步";

  // --- IndexedDB ----------------------------------------------------------------------------

  var dbPromise = null;

  function openDb() {
    if (dbPromise) return dbPromise;
    dbPromise = new Promise(function (resolve, reject) {
      if (!window.indexedDB) {
        reject(new Error("此浏览器不支持本机离线存储（IndexedDB），离线时无法保存记录。"));
        return;
      }
      var request = window.indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = function () {
        var db = request.result;
        if (!db.objectStoreNames.contains("outbox")) db.createObjectStore("outbox", { keyPath: "client_uuid" });
        if (!db.objectStoreNames.contains("photos")) db.createObjectStore("photos", { keyPath: "key" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error || new Error("无法打开本机离线存储。")); };
    });
    dbPromise.catch(function () { dbPromise = null; });
    return dbPromise;
  }

  function run(storeName, mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(storeName, mode);
        var result;
        var request = work(tx.objectStore(storeName));
        if (request) request.onsuccess = function () { result = request.result; };
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = function () { reject(tx.error || new Error("本机存储写入失败。")); };
        tx.onabort = function () {
          var error = tx.error;
          if (error && error.name === "QuotaExceededError") error = new Error("手机存储空间不足，无法保存到本机。");
          reject(error || new Error("本机存储写入失败。"));
        };
      });
    });
  }

  function getAll(storeName) { return run(storeName, "readonly", function (s) { return s.getAll(); }); }
  function get(storeName, key) { return run(storeName, "readonly", function (s) { return s.get(key); }); }
  function put(storeName, value) { return run(storeName, "readwrite", function (s) { return s.put(value); }); }
  function remove(storeName, key) { return run(storeName, "readwrite", function (s) { return s.delete(key); }); }

  // --- Photos: resized on the phone -----------------------------------------------------------

  function loadImage(file) {
    if (window.createImageBitmap) {
      return window.createImageBitmap(file, { imageOrientation: "from-image" }).catch(function () {
        return window.createImageBitmap(file);
      }).catch(function () { return loadElement(file); });
    }
    return loadElement(file);
  }

  function loadElement(file) {
    return new Promise(function (resolve, reject) {
      var url = URL.createObjectURL(file);
      var img = new Image();
      img.onload = function () { URL.revokeObjectURL(url); resolve(img); };
      img.onerror = function () { URL.revokeObjectURL(url); reject(new Error("无法读取这张照片，请重新拍摄。")); };
      img.src = url;
    });
  }

  function draw(image, longest) {
    var width = image.width, height = image.height;
    var scale = Math.min(1, longest / Math.max(width, height));
    var canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(width * scale));
    canvas.height = Math.max(1, Math.round(height * scale));
    canvas.getContext("2d").drawImage(image, 0, 0, canvas.width, canvas.height);
    return canvas;
  }

  /* {blob, thumb}: the photo with its longest side ≤ 1600 px as a JPEG (quality 0.8) — or the file
   * itself when it is a JPEG already that small (it keeps its EXIF) — and a small data URL to show. */
  function preparePhoto(file) {
    return loadImage(file).then(function (image) {
      var thumb = draw(image, 240).toDataURL("image/jpeg", 0.7);
      var small = Math.max(image.width, image.height) <= MAX_SIDE;
      if (small && file.type === "image/jpeg") return { blob: file, thumb: thumb };
      var canvas = draw(image, MAX_SIDE);
      return new Promise(function (resolve, reject) {
        canvas.toBlob(function (blob) {
          if (blob) resolve({ blob: blob, thumb: thumb });
          else reject(new Error("照片压缩失败，请重新拍摄。"));
        }, "image/jpeg", JPEG_QUALITY);
      });
    });
  }

  function newKey() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  // --- The queue ----------------------------------------------------------------------------

  function create(options) {
    var user = options.user;
    var urls = options.urls;
    var csrf = options.csrf || "";
    var listeners = [];
    var items = []; // the user's outbox, newest last
    var live = {}; // client_uuid -> "syncing" | "synced" (not stored)
    var authExpired = false;
    var syncing = null;
    var timer = null;

    function notify() {
      listeners.forEach(function (fn) {
        try { fn(state()); } catch (e) { /* a listener's error is its own */ }
      });
    }

    function state() {
      return {
        items: items.map(function (item) {
          return {
            client_uuid: item.client_uuid,
            label: item.label,
            round_label: item.round_label,
            round: item.payload.round,
            point: item.payload.point,
            created_at: item.created_at,
            status: live[item.client_uuid] || item.status,
            error: item.error || "",
          };
        }).concat(Object.keys(live).filter(function (id) { return live[id] === "synced"; }).map(function (id) {
          var was = synced[id] || { payload: {} };
          return {
            client_uuid: id, label: was.label || "", round_label: was.round_label || "", round: was.payload.round,
            point: was.payload.point, created_at: was.created_at, status: "synced", error: "",
          };
        })),
        count: items.length,
        authExpired: authExpired,
        online: navigator.onLine !== false,
        busy: !!syncing,
      };
    }

    var synced = {}; // client_uuid -> the record just synced (shown as 已同步 for a moment)

    function reload() {
      return getAll("outbox").then(function (all) {
        items = (all || []).filter(function (item) { return item.user === user; }).sort(function (a, b) {
          return a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0;
        });
        notify();
        schedule();
        return items;
      });
    }

    function schedule() {
      if (timer) window.clearTimeout(timer);
      timer = null;
      var waiting = items.some(function (item) { return item.status === "pending"; });
      if (waiting) timer = window.setTimeout(function () { sync(); }, RETRY_MS);
    }

    function keepPhoto(file) {
      return preparePhoto(file).then(function (prepared) {
        var record = {
          key: newKey(),
          user: user,
          blob: prepared.blob,
          name: (file.name || "photo").replace(/\.[^.]*$/, "") + ".jpg",
          thumb: prepared.thumb,
          taken_at: file.lastModified ? new Date(file.lastModified).toISOString() : new Date().toISOString(),
          uploaded: null,
        };
        return put("photos", record).then(function () {
          return { local: record.key, thumb_url: record.thumb };
        });
      });
    }

    function dropPhotos(payload) {
      var keys = [];
      (payload.observations || []).forEach(function (o) {
        (o.photos || []).forEach(function (ref) {
          if (typeof ref === "string" && ref.indexOf("local:") === 0) keys.push(ref.slice(6));
        });
      });
      return Promise.all(keys.map(function (key) { return remove("photos", key); }));
    }

    function enqueue(record) {
      var item = {
        client_uuid: record.payload.client_uuid,
        user: user,
        created_at: new Date().toISOString(),
        label: record.label || "",
        round_label: record.round_label || "",
        payload: record.payload,
        status: "pending",
        error: "",
        attempts: 0,
      };
      return put("outbox", item).then(reload).then(function () { return item; });
    }

    // --- Talking to the server -----------------------------------------------------------

    function readJson(response) {
      return response.text().then(function (text) {
        var body = null;
        try { body = JSON.parse(text); } catch (e) { body = null; }
        return { status: response.status, body: body, redirected: response.redirected };
      });
    }

    /* The user a record page was rendered for (its record-data JSON), or null. */
    function pageUser(html) {
      var block = /<script id="record-data" type="application\/json">([\s\S]*?)<\/script>/.exec(html);
      if (!block) return null;
      try { return JSON.parse(block[1]).user; } catch (e) { return null; }
    }

    function refreshCsrf() {
      return fetch(urls.record, { credentials: "same-origin", cache: "no-store", headers: { Accept: "text/html" } })
        .then(function (response) {
          if (response.redirected || !response.ok) return false;
          return response.text().then(function (html) {
            // Another inspector signed in on this phone meanwhile (another tab): this outbox is not
            // theirs to send, so it waits for its own inspector (as when signed out).
            if (pageUser(html) !== user) return false;
            var match = /name="csrfmiddlewaretoken" value="([^"]+)"/.exec(html);
            if (!match) return false;
            csrf = match[1];
            if (options.onCsrf) options.onCsrf(csrf);
            return true;
          });
        })
        .catch(function () { return false; });
    }

    /* send(makeRequest) → {status, body}; a CSRF failure (a 403 that is not our JSON) fetches a
     * fresh token and retries once. Network errors reject. */
    function send(makeRequest, retried) {
      return fetch(makeRequest.url, makeRequest.init()).then(readJson).then(function (answer) {
        if (answer.status === 403 && !(answer.body && answer.body.ok === false) && !retried) {
          return refreshCsrf().then(function (fresh) {
            if (!fresh) return { status: 401, body: null };
            return send(makeRequest, true);
          });
        }
        if (answer.redirected && !answer.body) return { status: 401, body: null };
        return answer;
      });
    }

    function uploadPhoto(record) {
      return send({
        url: urls.upload,
        init: function () {
          var form = new FormData();
          form.append("file", record.blob, record.name || "photo.jpg");
          return {
            method: "POST", credentials: "same-origin", body: form,
            headers: { "X-CSRFToken": csrf, Accept: "application/json" },
          };
        },
      });
    }

    function messagesOf(answer, fallback) {
      var body = answer.body;
      if (body && body.messages && body.messages.length) return body.messages.join("；");
      if (body && body.detail) return String(body.detail);
      return fallback;
    }

    /* The photos of one record, uploaded once each: resolves to the payload with ids, or to
     * {refused: message} / {auth: true} / {retry: true}. */
    function withUploadedPhotos(item) {
      var payload = JSON.parse(JSON.stringify(item.payload));
      var refs = [];
      payload.observations.forEach(function (o) {
        (o.photos || []).forEach(function (ref, index) { refs.push({ obs: o, index: index, ref: ref }); });
      });
      var chain = Promise.resolve(null);
      refs.forEach(function (entry) {
        chain = chain.then(function (stop) {
          if (stop) return stop;
          if (typeof entry.ref !== "string" || entry.ref.indexOf("local:") !== 0) return null;
          var key = entry.ref.slice(6);
          return get("photos", key).then(function (record) {
            if (!record) return { refused: "本机保存的照片已丢失，请删除这条记录后重新记录。" };
            if (record.uploaded) {
              entry.obs.photos[entry.index] = record.uploaded.id;
              return null;
            }
            return uploadPhoto(record).then(function (answer) {
              if (answer.status === 201 && answer.body && answer.body.id) {
                record.uploaded = { id: answer.body.id, thumb_url: answer.body.thumb_url, url: answer.body.url };
                entry.obs.photos[entry.index] = answer.body.id;
                return put("photos", record).then(function () { return null; });
              }
              if (answer.status === 401) return { auth: true };
              if (answer.status >= 500 || answer.status === 0) return { retry: true };
              return { refused: "照片上传被拒绝：" + messagesOf(answer, "服务器返回 " + answer.status) };
            });
          });
        });
      });
      return chain.then(function (stop) { return stop || { payload: payload }; });
    }

    function postRecord(payload) {
      return send({
        url: urls.submit,
        init: function () {
          return {
            method: "POST", credentials: "same-origin", body: JSON.stringify(payload),
            headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
          };
        },
      });
    }

    function store(item, changes) {
      Object.keys(changes).forEach(function (key) { item[key] = changes[key]; });
      return put("outbox", item);
    }

    /* One record → {state: "done", body} | {state: "refused", message} | {state: "auth"} |
     * {state: "retry", message}. A record done leaves the outbox with its photos; a refused one
     * stays as 失败 unless `dropRefused` (the page takes it back as a draft). */
    function syncItem(item, dropRefused) {
      live[item.client_uuid] = "syncing";
      notify();
      return withUploadedPhotos(item)
        .then(function (prepared) {
          if (prepared.auth) return { status: 401, body: null };
          if (prepared.retry) return { status: 503, body: null };
          if (prepared.refused) return { status: 400, body: { ok: false, messages: [prepared.refused] } };
          return postRecord(prepared.payload);
        })
        .then(function (answer) {
          item.attempts = (item.attempts || 0) + 1;
          if (answer.body && answer.body.ok) {
            authExpired = false;
            live[item.client_uuid] = "synced";
            synced[item.client_uuid] = item;
            window.setTimeout(function () {
              if (live[item.client_uuid] === "synced") delete live[item.client_uuid];
              notify();
            }, SYNCED_SHOWN_MS);
            return remove("outbox", item.client_uuid)
              .then(function () { return dropPhotos(item.payload); })
              .then(function () { return { state: "done", body: answer.body }; });
          }
          delete live[item.client_uuid];
          if (answer.status === 401) {
            authExpired = true;
            return store(item, { status: "pending", error: AUTH_MESSAGE }).then(function () { return { state: "auth" }; });
          }
          if (answer.status >= 400 && answer.status < 500) {
            var message = messagesOf(answer, "提交被拒绝（服务器返回 " + answer.status + "）");
            if (dropRefused) {
              return remove("outbox", item.client_uuid).then(function () { return { state: "refused", message: message, body: answer.body }; });
            }
            return store(item, { status: "failed", error: message }).then(function () { return { state: "refused", message: message }; });
          }
          var later = "服务器暂时无法处理（" + answer.status + "），稍后自动重试";
          return store(item, { status: "pending", error: later }).then(function () { return { state: "retry", message: later }; });
        })
        .catch(function (error) {
          delete live[item.client_uuid];
          if (error && error.name === "TypeError") {
            var offline = "网络不通，联网后自动同步";
            return store(item, { status: "pending", error: offline }).then(function () { return { state: "retry", message: offline }; });
          }
          throw error;
        });
    }

    /* Send every waiting record (the failed ones only when asked: `only` = a client_uuid). */
    function sync(only) {
      if (syncing) return syncing;
      syncing = reload().then(function () {
        var todo = items.filter(function (item) {
          if (live[item.client_uuid] === "syncing") return false; // being sent by submit()
          return only ? item.client_uuid === only : item.status === "pending";
        });
        var chain = Promise.resolve();
        var stopped = false;
        todo.forEach(function (item) {
          chain = chain.then(function () {
            if (stopped) return null;
            return syncItem(item, false).then(function (result) {
              // Without a network or a session the rest would fail alike: wait for the next round.
              if (result.state === "auth" || (result.state === "retry" && navigator.onLine === false)) stopped = true;
            });
          });
        });
        return chain;
      }).catch(function () { /* reported on the items */ }).then(function () {
        syncing = null;
        return reload();
      });
      notify();
      return syncing;
    }

    /* Submit a record through the outbox: kept first, then sent when online. Resolves to
     * {state: "done", body} | {state: "refused", message, body} (taken out again: the page keeps
     * the draft) | {state: "queued", message}. */
    function submit(record) {
      var id = record.payload.client_uuid;
      var now = navigator.onLine !== false;
      if (now) live[id] = "syncing"; // sent here, not by a sync round meanwhile
      return enqueue(record).catch(function (error) {
        delete live[id];
        throw error;
      }).then(function (item) {
        if (!now) return { state: "queued", message: "" };
        return (syncing || Promise.resolve()).then(function () {
          return syncItem(item, true);
        }).then(function (result) {
          if (result.state === "done" || result.state === "refused") return reload().then(function () { return result; });
          return reload().then(function () { return { state: "queued", message: result.state === "auth" ? AUTH_MESSAGE : result.message }; });
        });
      });
    }

    function retry(clientUuid) {
      return get("outbox", clientUuid).then(function (item) {
        if (!item) return null;
        return store(item, { status: "pending", error: "" }).then(function () { return sync(clientUuid); });
      });
    }

    function discard(clientUuid) {
      return get("outbox", clientUuid).then(function (item) {
        if (!item) return null;
        return remove("outbox", clientUuid).then(function () { return dropPhotos(item.payload); });
      }).then(reload);
    }

    /* Forget kept photos that neither a waiting record nor `keep` (the draft's) cites. */
    function prune(keep) {
      var wanted = {};
      (keep || []).forEach(function (key) { wanted[key] = true; });
      return reload().then(function () {
        items.forEach(function (item) {
          (item.payload.observations || []).forEach(function (o) {
            (o.photos || []).forEach(function (ref) {
              if (typeof ref === "string" && ref.indexOf("local:") === 0) wanted[ref.slice(6)] = true;
            });
          });
        });
        return getAll("photos");
      }).then(function (photos) {
        return Promise.all((photos || []).filter(function (p) { return p.user === user && !wanted[p.key]; }).map(function (p) {
          return remove("photos", p.key);
        }));
      });
    }

    window.addEventListener("online", function () { notify(); sync(); });
    window.addEventListener("offline", notify);

    return {
      ready: reload,
      sync: sync,
      submit: submit,
      retry: retry,
      discard: discard,
      keepPhoto: keepPhoto,
      prune: prune,
      state: state,
      setCsrf: function (token) { csrf = token; },
      onChange: function (fn) { listeners.push(fn); fn(state()); },
    };
  }

  // --- The outbox card on the page ---------------------------------------------------------

  var STATUS_LABELS = { pending: "待同步", syncing: "同步中", synced: "已同步", failed: "失败" };

  function mount(queue, card, urls) {
    if (!card) return;
    urls = urls || {};
    var count = card.querySelector("[data-outbox-count]");
    var note = card.querySelector("[data-outbox-note]");
    var list = card.querySelector("[data-outbox-list]");
    var syncButton = card.querySelector("[data-outbox-sync]");

    function time(iso) {
      if (!iso) return "";
      var d = new Date(iso);
      var pad = function (n) { return (n < 10 ? "0" : "") + n; };
      return pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + pad(d.getHours()) + ":" + pad(d.getMinutes());
    }

    function render(s) {
      card.hidden = !s.items.length && s.online && !s.authExpired;
      count.textContent = "待同步 " + s.count + " 条";
      count.className = "badge " + (s.count ? "bg-orange text-white" : "bg-green-lt");
      var notes = [];
      if (!s.online) notes.push("当前离线：记录保存在本机，联网后自动同步。");
      if (s.authExpired) notes.push(AUTH_MESSAGE + "（待同步的记录仍保存在本机）。");
      note.textContent = notes.join(" ");
      if (s.authExpired && urls.login) {
        var again = document.createElement("a");
        again.href = urls.login + "?next=" + encodeURIComponent(urls.record);
        again.className = "ms-1";
        again.setAttribute("data-testid", "outbox-login");
        again.textContent = "重新登录";
        note.appendChild(again);
      }
      note.hidden = !notes.length;
      note.className = "small mb-0 " + (s.authExpired ? "text-danger" : "text-secondary");
      syncButton.disabled = s.busy || !s.count;
      syncButton.textContent = s.busy ? "同步中…" : "立即同步";
      list.textContent = "";
      s.items.forEach(function (item) {
        var row = document.createElement("div");
        row.className = "list-group-item py-2";
        row.setAttribute("data-testid", "outbox-item");
        row.setAttribute("data-status", item.status);
        row.setAttribute("data-client-uuid", item.client_uuid);
        var top = document.createElement("div");
        top.className = "d-flex align-items-center gap-2";
        var label = document.createElement("div");
        label.className = "flex-fill fw-bold text-truncate";
        label.style.minWidth = "0";
        label.textContent = item.label || "督查记录";
        var status = document.createElement("span");
        status.setAttribute("data-testid", "outbox-status");
        status.className = "text-nowrap small " + ({ failed: "text-danger fw-bold", synced: "text-success", syncing: "text-primary" }[item.status] || "text-orange");
        status.textContent = STATUS_LABELS[item.status] || item.status;
        top.appendChild(label);
        top.appendChild(status);
        row.appendChild(top);
        var meta = document.createElement("div");
        meta.className = "small text-secondary";
        meta.textContent = [item.round_label, time(item.created_at) && time(item.created_at) + " 记录"].filter(Boolean).join(" · ");
        if (meta.textContent) row.appendChild(meta);
        if (item.status === "failed" || (item.status === "pending" && item.error)) {
          var reason = document.createElement("div");
          reason.className = "small " + (item.status === "failed" ? "text-danger" : "text-secondary");
          reason.setAttribute("data-testid", "outbox-error");
          reason.textContent = item.status === "failed" ? "失败：" + item.error : item.error;
          row.appendChild(reason);
        }
        if (item.status === "failed") {
          var actions = document.createElement("div");
          actions.className = "d-flex gap-2 mt-1";
          var again = document.createElement("button");
          again.type = "button";
          again.className = "btn btn-sm";
          again.textContent = "重试";
          again.setAttribute("data-outbox-retry", item.client_uuid);
          var drop = document.createElement("button");
          drop.type = "button";
          drop.className = "btn btn-sm btn-outline-danger";
          drop.textContent = "删除";
          drop.setAttribute("data-outbox-delete", item.client_uuid);
          actions.appendChild(again);
          actions.appendChild(drop);
          row.appendChild(actions);
        }
        list.appendChild(row);
      });
    }

    card.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button) return;
      if (button.hasAttribute("data-outbox-sync")) queue.sync();
      else if (button.hasAttribute("data-outbox-retry")) queue.retry(button.getAttribute("data-outbox-retry"));
      else if (button.hasAttribute("data-outbox-delete")) {
        if (window.confirm("删除后这条督查记录不会提交到服务器，确定删除吗？")) queue.discard(button.getAttribute("data-outbox-delete"));
      }
    });
    queue.onChange(render);
  }

  window.OfflineQueue = { create: create, mount: mount, preparePhoto: preparePhoto };
})();
