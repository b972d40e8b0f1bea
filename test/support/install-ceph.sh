#!/usr/bin/env bash
# Makes sure Ceph's radosgw, which the S3 tests start, is installed; the one place that installs
# it, for .ci/run and for `npm test` (test/support/ceph-global-setup.ts) alike.
#
# When every binary the cluster needs is found, it does nothing (no apt, no sudo). Otherwise it
# installs the Debian packages with apt-get when it can do so unattended: as root, or through
# password-less sudo. When it cannot, it stops at once and prints the one command to run.
#
# Usage: test/support/install-ceph.sh [--plan]
#   --plan   print what would be done (ready, the apt-get commands, or the refusal) and do nothing
# Environment:
#   SFVAULT_CEPH_BINARIES  the binaries whose presence means Ceph is installed, space-separated
#                          (default: the cluster's; name a missing one to see what would happen)
# Exit status: 0 installed or nothing to do, 1 the install failed, 3 it cannot install here.
set -euo pipefail

packages=(radosgw ceph-mon ceph-osd ceph-common)
read -r -a binaries <<<"${SFVAULT_CEPH_BINARIES:-ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool}"
plan=false
case "${1:-}" in
--plan) plan=true ;;
"") ;;
*)
  echo "install-ceph: unknown argument \"$1\"; the only option is --plan." >&2
  exit 2
  ;;
esac

# The daemons live in sbin, which a non-root PATH often lacks.
search_path="$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
missing=()
for binary in "${binaries[@]}"; do
  PATH="$search_path" command -v "$binary" >/dev/null 2>&1 || missing+=("$binary")
done

if ((${#missing[@]} == 0)); then
  echo "Ceph for the S3 tests is installed (${packages[*]})."
  exit 0
fi

# shellcheck source=apt-install.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh"
APT_REFUSE_NOTE="(To skip the S3 tests instead, set SFVAULT_SKIP_RADOSGW_TESTS=1.)"
apt_install \
  "The S3 tests need Ceph's radosgw, but ${missing[*]} $( ((${#missing[@]} == 1)) && echo is || echo are) not installed" \
  "$plan" \
  "Install radosgw, ceph-mon, ceph-osd and ceph-common (Debian's names) with this system's package manager," \
  "Installing ${packages[*]} from Debian for the S3 tests (missing: ${missing[*]}; about 30 s)..." \
  "${missing[*]}" \
  "${packages[@]}"
$plan && exit 0
echo "Installed: $(PATH="$search_path" ceph --version 2>/dev/null || echo "${packages[*]}")"
