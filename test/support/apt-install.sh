# Installs the Debian packages a group of tests needs, unattended (as root, or through
# password-less sudo), or stops at once with the command to run by hand. Sourced by
# install-ceph.sh and install-chromium.sh, which decide first whether anything is missing.

# apt_refuse NEED REASON HOW: says why nothing can be installed here and what to do; exits 3.
# APT_REFUSE_NOTE, when set, closes the message.
apt_refuse() {
  cat >&2 <<MESSAGE
$1, and $2
$3

then run the tests again.${APT_REFUSE_NOTE:+ $APT_REFUSE_NOTE}
MESSAGE
  exit 3
}

# apt_install NEED PLAN NO_APT_HOW ANNOUNCE MISSING PACKAGE...
#   NEED        the start of a refusal: "The S3 tests need Ceph's radosgw, but ceph is not installed"
#   PLAN        true: print the apt-get commands that would run, and run nothing
#   NO_APT_HOW  what to do on a system without apt-get
#   ANNOUNCE    the line printed before apt-get runs
#   MISSING     what is missing, for the plan's first line
# Exits 3 when it cannot install here, 1 when apt-get fails.
apt_install() {
  local need=$1 plan=$2 no_apt=$3 announce=$4 missing=$5
  shift 5
  local packages=("$@")
  local manual="sudo apt-get update && sudo apt-get install -y ${packages[*]}"
  command -v apt-get >/dev/null 2>&1 || apt_refuse "$need" "this system has no apt-get to install it with." "$no_apt"
  # sudo resets the environment, so the frontend setting goes through env on both paths.
  local as_root=(env DEBIAN_FRONTEND=noninteractive)
  if [[ $(id -u) != 0 ]]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      as_root=(sudo -n "${as_root[@]}")
    else
      apt_refuse "$need" "installing it needs root (this user is not root and has no password-less sudo)." \
        "Install it once with:

  $manual"
    fi
  fi
  local update=("${as_root[@]}" apt-get update -qq)
  local install=("${as_root[@]}" apt-get install -y -qq -o Dpkg::Use-Pty=0 "${packages[@]}")
  if $plan; then
    echo "missing: $missing"
    echo "would run: ${update[*]}"
    echo "would run: ${install[*]}"
    return 0
  fi
  echo "$announce"
  local log
  log=$(mktemp --suffix=-apt.log)
  if ! "${update[@]}" >"$log" 2>&1 || ! "${install[@]}" >>"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "${0##*/}: apt-get could not install ${packages[*]} (full log: $log). Fix the cause above, or run: $manual" >&2
    exit 1
  fi
}
