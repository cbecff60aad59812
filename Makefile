# Targets named in the README: run, test, lint, clean (browser-deps is called by test).
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PORT ?= 8000
PYTEST_ARGS ?=
REQUIRE_SERVICES ?=

VENV := .venv
PY := $(VENV)/bin/python

# The demo and the first test pass always use SQLite and eager Celery, whatever the shell exports.
# DEBUG=1 because settings demand a real SECRET_KEY otherwise.
SQLITE_ENV := env -u DATABASE_URL -u REDIS_URL DEBUG=1
PYTEST := DJANGO_ALLOW_ASYNC_UNSAFE=true $(VENV)/bin/pytest -p no:cacheprovider

DEMO_PASSWORD := demo-pass-2026

.PHONY: help venv run test fuzz lint clean browser-deps require-services

help:
	@echo "make run     演示环境（SQLite）：迁移、载入演示数据、启动 http://127.0.0.1:$(PORT)/  (PORT=9000 可改端口)"
	@echo "make test    迁移检查 + pytest（SQLite）；设置了 DATABASE_URL=postgres… 和 REDIS_URL 时再跑一遍（含集成测试）"
	@echo "make fuzz    接口模糊测试（schemathesis，每个接口×角色 $(FUZZ_EXAMPLES) 例；make test 只跑少量）"
	@echo "make lint    ruff check + ruff format --check"
	@echo "make clean   删除 db.sqlite3、media/、staticfiles/（保留 .venv）"

# --- virtualenv -------------------------------------------------------------------------------
# Created only when missing; requirements are reinstalled only when a requirements file is newer
# than the stamp, so repeated runs cost nothing.
venv: $(PY)

$(PY):
	@if command -v python3.11 >/dev/null 2>&1 && python3.11 -c '' >/dev/null 2>&1; then \
	  bootstrap=python3.11; else bootstrap=python3; fi; \
	echo "creating $(VENV) with $$bootstrap"; \
	"$$bootstrap" -m venv $(VENV)

# uv (pinned, from the package index, into the venv) installs the requirements in seconds where pip takes
# most of a minute (measured on a fresh machine, empty caches: 59 s → 8 s). It compiles the
# bytecode on both cores at install, as pip does on one: left to the first imports, that cost the
# migrate, the seed and the server 15 s more. uv reads its own index settings (UV_INDEX_URL,
# UV_FIND_LINKS …), not pip's: wherever it cannot install the requirements, pip does.
$(VENV)/.stamp-run: requirements.txt | $(PY)
	@if $(PY) -m pip install --quiet uv==0.13.9 && $(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PY) -r requirements.txt; then \
	  echo "requirements installed (uv)"; \
	else \
	  echo "uv could not install the requirements: installing them with pip"; \
	  $(PY) -m pip install --quiet -r requirements.txt; \
	fi
	@touch $@

# requirements-dev.txt includes requirements.txt, so a change to either reinstalls.
$(VENV)/.stamp-dev: requirements-dev.txt requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

# --- run --------------------------------------------------------------------------------------
run: $(VENV)/.stamp-run
	$(SQLITE_ENV) $(PY) manage.py migrate --noinput
	$(SQLITE_ENV) $(PY) manage.py seed_demo --if-empty
	@echo
	@echo "演示账号（密码均为 $(DEMO_PASSWORD)）："
	@echo "  office     创建办"
	@echo "  inspector  督查员"
	@echo "  leader     领导"
	@echo "  liaison    东湖区湖滨街道联络员"
	@echo "  liaison2   西山区山前街道联络员"
	@echo "  dept       市城管局联络员"
	@echo
	@echo "打开 http://127.0.0.1:$(PORT)/"
	$(SQLITE_ENV) $(PY) manage.py runserver 127.0.0.1:$(PORT)

# --- test -------------------------------------------------------------------------------------
# Listed first so a CI run without services fails before spending time on anything else.
require-services:
	@if [ "$(REQUIRE_SERVICES)" = 1 ]; then \
	  case "$${DATABASE_URL:-}" in postgres*) ;; \
	    *) echo "REQUIRE_SERVICES=1 但 DATABASE_URL 未设置或不是 postgres:// 开头。" >&2; \
	       echo "REQUIRE_SERVICES=1 but DATABASE_URL is unset or not postgres://…" >&2; exit 1;; \
	  esac; \
	  if [ -z "$${REDIS_URL:-}" ]; then \
	    echo "REQUIRE_SERVICES=1 但 REDIS_URL 未设置。" >&2; \
	    echo "REQUIRE_SERVICES=1 but REDIS_URL is unset." >&2; exit 1; \
	  fi; \
	fi

test: require-services $(VENV)/.stamp-dev browser-deps
	$(SQLITE_ENV) $(PY) manage.py makemigrations --check --dry-run
	@echo "== pytest on SQLite (eager Celery) =="
	env -u DATABASE_URL -u REDIS_URL $(PYTEST) $(PYTEST_ARGS)
	@case "$${DATABASE_URL:-}" in postgres*) db=1;; *) db=;; esac; \
	if [ -n "$$db" ] && [ -n "$${REDIS_URL:-}" ]; then \
	  echo "== pytest on PostgreSQL + Redis (includes tests marked services) =="; \
	  echo "$(PYTEST) $(PYTEST_ARGS)"; \
	  $(PYTEST) $(PYTEST_ARGS); \
	else \
	  echo "PostgreSQL + Redis pass skipped: set DATABASE_URL=postgres://… and REDIS_URL to run it."; \
	fi

# Chromium for browser tests, a CJK font so screenshots and PDFs show glyphs, pdftotext to read
# PDFs, pango for WeasyPrint. Without root it only says what to install; the suite skips browser
# tests when /usr/bin/chromium is absent.
browser-deps:
	@missing=(); \
	[ -x /usr/bin/chromium ] || missing+=(chromium); \
	if ! command -v fc-list >/dev/null 2>&1; then missing+=(fontconfig fonts-wqy-microhei); \
	elif [ -z "$$(fc-list :lang=zh)" ]; then missing+=(fonts-wqy-microhei); fi; \
	command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils); \
	for pkg in libpango-1.0-0 libpangoft2-1.0-0; do \
	  dpkg -s "$$pkg" >/dev/null 2>&1 || missing+=("$$pkg"); \
	done; \
	if [ $${#missing[@]} -eq 0 ]; then echo "browser-deps: chromium, CJK font, pdftotext, pango present"; exit 0; fi; \
	echo "browser-deps: missing $${missing[*]}"; \
	if [ "$$(id -u)" = 0 ]; then \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update; \
	  apt-get install -y "$${missing[@]}"; \
	else \
	  echo "Not root: run this, then make test again (browser tests are skipped meanwhile):"; \
	  echo "  sudo env DEBIAN_FRONTEND=noninteractive sh -c 'apt-get update && apt-get install -y $${missing[*]}'"; \
	fi

# --- fuzz -------------------------------------------------------------------------------------
# The schema fuzzer of the suite (tests/fuzz) with many more examples per operation and persona;
# `make test` runs it with a few (FUZZ_EXAMPLES, default 10). SQLite, as the first test pass.
FUZZ_EXAMPLES ?= 200

fuzz: $(VENV)/.stamp-dev
	env -u DATABASE_URL -u REDIS_URL FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PYTEST) tests/fuzz $(PYTEST_ARGS)

# --- lint / clean -----------------------------------------------------------------------------
lint: $(VENV)/.stamp-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf db.sqlite3 db.sqlite3-journal db.sqlite3-wal db.sqlite3-shm media staticfiles
