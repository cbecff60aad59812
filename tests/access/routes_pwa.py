"""Routes of helper "pwa" (issue 15 item 6), merged into the access matrix: the phone app's web
manifest, its service worker and the offline page. They hold no data — only the app shell — so
every persona, signed in or not, gets them."""

from tests.access.matrix import Route, S

PUBLIC = S(200, 200, 200, 200, 200, 200, 200)

ROUTES: dict[str, Route] = {
    "web-manifest": Route(PUBLIC),
    "service-worker": Route(PUBLIC),
    "offline": Route(PUBLIC),
}
