#!/usr/bin/env bash
# Installs the system tools the tests and the demo need (git with http-backend; chromium for the
# HTML report render test). Idempotent.
set -euo pipefail
need=()
command -v git >/dev/null 2>&1 || need+=(git)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq "${need[@]}"
  else
    echo "norestore needs: ${need[*]} (install them with your package manager)" >&2
    exit 1
  fi
fi
backend="$(git --exec-path)/git-http-backend"
[ -x "$backend" ] || { echo "git-http-backend not found at $backend: install the full git package" >&2; exit 1; }
