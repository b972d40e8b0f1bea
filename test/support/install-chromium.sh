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

# shellcheck source=apt-install.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh"
apt_install \
  "The browser tests need Chromium at $browser, which is not installed" \
  "$plan" \
  "Install Chromium with this system's package manager and set SFVAULT_CHROMIUM to its path," \
  "Installing chromium from Debian for the browser tests (missing: $browser)..." \
  "$browser" \
  chromium
$plan && exit 0
[[ -x "$browser" ]] || {
  echo "install-chromium: chromium was installed but $browser is still missing; set SFVAULT_CHROMIUM to its path." >&2
  exit 1
}
echo "Installed: $("$browser" --version 2>/dev/null || echo chromium)"
