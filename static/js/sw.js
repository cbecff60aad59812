/* The service worker of the phone app (served at /sw.js by inspections.pwa.service_worker, which
 * prepends self.SW_CONFIG: version, precache, staticPrefix, recordUrl, offlineUrl, logoutUrl,
 * loginUrl, sessionUrls).
 *
 * - install: precache the record page's shell (vendored CSS/JS, app.css, the record and queue
 *   scripts, the icons, the offline page) in a cache named after SW_VERSION;
 * - activate: carry the kept record pages over (fetched again), drop every cache of another version;
 * - static files: cache-first for the precached shell and for hashed (collected) names, network
 *   first with the cache as fallback for the rest (an unhashed file may change under its name);
 * - the record page (any query, e.g. ?round=3): network-first (the kept copy after 8 s without an
 *   answer), the answer kept per URL, so that
 *   after one visit online it opens offline with its embedded rounds, points and check items; an
 *   answer that is not the page (a redirect to the login: logged out) drops the kept pages;
 * - other navigations: the network, else the offline page;
 * - nothing else is touched: no POST, no API, no admin, no other page is ever cached. Signing out
 *   or signing in (a POST to one of SW_CONFIG.sessionUrls: the site's and the admin's login and
 *   logout) drops the kept record pages: a phone passed to another inspector never shows the
 *   previous one's page.
 */
/* global self, caches, fetch, URL, Response */
(function () {
  "use strict";

  var CONFIG = self.SW_CONFIG || {};
  var VERSION = CONFIG.version || "dev";
  var STATIC_CACHE = "cc-static-" + VERSION;
  var PAGE_CACHE = "cc-pages-" + VERSION;
  var PRECACHE = CONFIG.precache || [];
  var STATIC_PREFIX = CONFIG.staticPrefix || "/static/";
  var RECORD_PATH = CONFIG.recordUrl || "/inspections/record/";
  var OFFLINE_URL = CONFIG.offlineUrl || "/offline/";
  var LOGOUT_PATH = CONFIG.logoutUrl || "/logout/";
  var LOGIN_PATH = CONFIG.loginUrl || "/login/";
  var SESSION_PATHS = {}; // a POST to one of these signs someone in or out (the admin's pages too)
  (CONFIG.sessionUrls || [LOGIN_PATH, LOGOUT_PATH]).forEach(function (path) { SESSION_PATHS[path] = true; });
  var NETWORK_TIMEOUT_MS = 8000;
  var HASHED = /\.[0-9a-f]{12}\.[A-Za-z0-9]+$/; // ManifestStaticFilesStorage's names

  var precached = {};
  PRECACHE.forEach(function (url) { precached[new URL(url, self.location.origin).pathname] = true; });

  self.addEventListener("install", function (event) {
    event.waitUntil(
      caches.open(STATIC_CACHE).then(function (cache) {
        // One by one with the credentials of the site: the offline page is a page.
        return Promise.all(PRECACHE.map(function (url) {
          return fetch(url, { credentials: "same-origin", cache: "no-cache" }).then(function (response) {
            if (!response.ok) throw new Error("precache " + url + ": " + response.status);
            return cache.put(url, response);
          });
        }));
      }).then(function () { return self.skipWaiting(); })
    );
  });

  /* The record pages kept by the previous version, fetched again for this one (they name the new
   * shell's files), or copied as they are when there is no network. */
  function carryPages(names) {
    var old = names.filter(function (name) { return name.indexOf("cc-pages-") === 0 && name !== PAGE_CACHE; });
    return caches.open(PAGE_CACHE).then(function (current) {
      return Promise.all(old.map(function (name) {
        return caches.open(name).then(function (previous) {
          return previous.keys().then(function (requests) {
            return Promise.all(requests.map(function (request) {
              return fetch(request.url, { credentials: "same-origin" }).then(function (response) {
                if (response.ok && !response.redirected) return current.put(request.url, response);
                return null; // signed out meanwhile: not carried
              }).catch(function () {
                return previous.match(request).then(function (hit) { return hit && current.put(request.url, hit); });
              });
            }));
          });
        });
      }));
    }).catch(function () { /* a page not carried is fetched again on the next visit */ }).then(function () {
      return names;
    });
  }

  self.addEventListener("activate", function (event) {
    event.waitUntil(
      caches.keys().then(carryPages).then(function (names) {
        return Promise.all(names.filter(function (name) {
          return name.indexOf("cc-") === 0 && name !== STATIC_CACHE && name !== PAGE_CACHE;
        }).map(function (name) { return caches.delete(name); }));
      }).then(function () { return self.clients.claim(); })
    );
  });

  function isRecordPage(url) {
    return url.pathname === RECORD_PATH;
  }

  function cacheFirst(request) {
    return caches.open(STATIC_CACHE).then(function (cache) {
      return cache.match(request, { ignoreVary: true }).then(function (hit) {
        if (hit) return hit;
        return fetch(request).then(function (response) {
          if (response.ok && response.type === "basic") cache.put(request, response.clone());
          return response;
        });
      });
    });
  }

  function networkFirstStatic(request) {
    return caches.open(STATIC_CACHE).then(function (cache) {
      return fetch(request).then(function (response) {
        if (response.ok && response.type === "basic") cache.put(request, response.clone());
        return response;
      }).catch(function () {
        return cache.match(request, { ignoreVary: true }).then(function (hit) {
          return hit || Response.error();
        });
      });
    });
  }

  function offlinePage() {
    return caches.match(OFFLINE_URL, { ignoreVary: true }).then(function (hit) {
      return hit || new Response("<!doctype html><meta charset=utf-8><title>当前离线</title><p>当前离线，请联网后重试。</p>", {
        status: 503, headers: { "Content-Type": "text/html; charset=utf-8" },
      });
    });
  }

  function keptPage(request) {
    return caches.open(PAGE_CACHE).then(function (cache) {
      return cache.match(request.url, { ignoreVary: true }).then(function (hit) {
        // Another query of the same page (another ?round=) falls back to any kept copy.
        return hit || cache.match(request.url, { ignoreVary: true, ignoreSearch: true });
      });
    });
  }

  function recordPage(request) {
    var network = fetch(request).then(function (response) {
      var landed = response.url ? new URL(response.url) : null;
      if (response.ok && response.type === "basic" && !response.redirected && (!landed || isRecordPage(landed))) {
        var copy = response.clone();
        caches.open(PAGE_CACHE).then(function (cache) { return cache.put(request.url, copy); });
      } else if (response.redirected || response.type === "opaqueredirect" || response.status === 401 || response.status === 403) {
        // Logged out (sent to the login page) or no longer allowed: forget the kept pages.
        caches.delete(PAGE_CACHE);
      }
      return response;
    });
    // A signal too weak to answer (the phone believes it is online): after NETWORK_TIMEOUT_MS the
    // kept copy is shown, while the network's answer, if it comes, still refreshes the cache.
    var slow = new Promise(function (resolve) { setTimeout(resolve, NETWORK_TIMEOUT_MS); })
      .then(function () { return exactPage(request); })
      .then(function (hit) { return hit || network; });
    slow.catch(function () { /* settled by the race */ });
    return Promise.race([network, slow]).catch(function () {
      return keptPage(request).then(function (hit) { return hit || offlinePage(); });
    });
  }

  function exactPage(request) {
    return caches.open(PAGE_CACHE).then(function (cache) { return cache.match(request.url, { ignoreVary: true }); });
  }

  self.addEventListener("fetch", function (event) {
    var request = event.request;
    var url = new URL(request.url);
    if (url.origin !== self.location.origin) return;
    if (request.method === "POST" && SESSION_PATHS[url.pathname]) {
      // Signing out, or someone signing in: the kept record pages were the previous session's.
      event.waitUntil(caches.delete(PAGE_CACHE));
      return;
    }
    if (request.method !== "GET") return;
    if (url.pathname.indexOf(STATIC_PREFIX) === 0) {
      if (precached[url.pathname] || HASHED.test(url.pathname)) return event.respondWith(cacheFirst(request));
      return event.respondWith(networkFirstStatic(request));
    }
    if (isRecordPage(url)) return event.respondWith(recordPage(request));
    if (url.pathname === OFFLINE_URL) return event.respondWith(caches.match(OFFLINE_URL).then(function (hit) { return hit || fetch(request); }));
    if (request.mode === "navigate") {
      event.respondWith(fetch(request).catch(offlinePage));
    }
  });
})();
