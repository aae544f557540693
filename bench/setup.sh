#!/bin/sh
# Set-up of `npm run bench:full`: installs wrk (the load generator) and nginx-light (the reverse-proxy
# baseline) from Debian's packages when they are missing and this user can install them. It never fails the
# bench: a tool still missing afterwards makes bench/full.ts skip what needs it, with the reason printed.
# BENCH_SKIP_SETUP=1 skips this step.

if [ -n "$BENCH_SKIP_SETUP" ]; then
  echo "bench setup: skipped (BENCH_SKIP_SETUP is set)"
  exit 0
fi

PATH="$PATH:/usr/sbin:/sbin"
missing=""
command -v wrk >/dev/null 2>&1 || missing="$missing wrk"
command -v nginx >/dev/null 2>&1 || missing="$missing nginx-light"

if [ -z "$missing" ]; then
  echo "bench setup: wrk and nginx present"
  exit 0
fi

echo "bench setup: missing:$missing"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "bench setup: not installing:$missing (no apt-get: not a Debian-based system)"
  exit 0
fi
if [ "$(id -u)" = "0" ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  echo "bench setup: not installing:$missing (not root, and no password-less sudo)"
  exit 0
fi

# shellcheck disable=SC2086
if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends $missing >/dev/null 2>&1; then
  echo "bench setup: apt-get install failed; running apt-get update once and retrying"
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get update >/dev/null 2>&1
  # shellcheck disable=SC2086
  if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends $missing; then
    echo "bench setup: apt-get install$missing failed; the phases that need them will be skipped"
    exit 0
  fi
fi
# nginx's package starts a system nginx on port 80 where a service manager runs; the bench starts its own.
echo "bench setup: installed:$missing"
exit 0
