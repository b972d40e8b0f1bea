#!/usr/bin/env bash
# Makes sure Debian's Chromium, which the browser tests of `sfbackup ui` drive through
# playwright-core, is installed; the one place that installs it, for .ci/run and for the tests'
# setup (test/support/chromium.ts) alike. Playwright's own browser download needs the internet;
# Debian's package does not.
#
# When the browser is found, it does nothing (no apt, no sudo). Otherwise it installs the Debian
# package with apt-get when it can do so unattended: as root, or through password-less sudo. When
# it cannot, it stops at once and prints the one command to run.
#
# Usage: test/support/install-chromium.sh [--plan]
#   --plan   print what would be done and do nothing
# Environment:
#   SFVAULT_CHROMIUM  the browser executable to look for (default: /usr/bin/chromium)
# Exit status: 0 installed or nothing to do, 1 the install failed, 3 it cannot install here.
set -euo pipefail

browser="${SFVAULT_CHROMIUM:-/usr/bin/chromium}"
plan=false
case "${1:-}" in
--plan) plan=true ;;
"") ;;
*)
  echo "install-chromium: unknown argument \"$1\"; the only option is --plan." >&2
  exit 2
  ;;
esac

if [[ -x "$browser" ]]; then
  echo "Chromium for the browser tests is installed ($browser)."
  exit 0
fi

manual="sudo apt-get update && sudo apt-get install -y chromium"
refuse() {
  cat >&2 <<MESSAGE
The browser tests need Chromium at $browser, which is not installed, and $1
$2

then run the tests again.
MESSAGE
  exit 3
}

command -v apt-get >/dev/null 2>&1 ||
  refuse "this system has no apt-get to install it with." \
    "Install Chromium with this system's package manager and set SFVAULT_CHROMIUM to its path,"
as_root=(env DEBIAN_FRONTEND=noninteractive)
if [[ $(id -u) != 0 ]]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n "${as_root[@]}")
  else
    refuse "installing it needs root (this user is not root and has no password-less sudo)." \
      "Install it once with:

  $manual"
  fi
fi

update=("${as_root[@]}" apt-get update -qq)
install=("${as_root[@]}" apt-get install -y -qq -o Dpkg::Use-Pty=0 chromium)
if $plan; then
  echo "missing: $browser"
  echo "would run: ${update[*]}"
  echo "would run: ${install[*]}"
  exit 0
fi

echo "Installing chromium from Debian for the browser tests (missing: $browser)..."
log=$(mktemp --suffix=-apt-chromium.log)
if ! "${update[@]}" >"$log" 2>&1 || ! "${install[@]}" >>"$log" 2>&1; then
  tail -n 30 "$log" >&2
  echo "install-chromium: apt-get could not install chromium (full log: $log). Fix the cause above, or run: $manual" >&2
  exit 1
fi
[[ -x "$browser" ]] || {
  echo "install-chromium: chromium was installed but $browser is still missing; set SFVAULT_CHROMIUM to its path." >&2
  exit 1
}
echo "Installed: $("$browser" --version 2>/dev/null || echo chromium)"
