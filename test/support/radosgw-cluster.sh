#!/usr/bin/env bash
# A throwaway single-node Ceph cluster for the S3 tests: one monitor, one OSD keeping its data in
# memory (memstore) and radosgw with the "testing" KMS backend, all on 127.0.0.1, all under
# $RGW_DIR. It prints "ready" once radosgw answers and the S3 user exists, then runs until its
# stdin closes (the process that started it has ended, however it ended) or it gets SIGTERM;
# then it stops every daemon and removes $RGW_DIR (kept when RGW_KEEP=1, for debugging).
#
# Inputs (environment): RGW_DIR, RGW_MON_PORT, RGW_PORT, RGW_ACCESS_KEY, RGW_SECRET_KEY,
# RGW_KMS_KEY_ID, RGW_KMS_KEY (base64 of 32 random bytes), RGW_LC_DAY_SECONDS.
set -euo pipefail

for name in RGW_DIR RGW_MON_PORT RGW_PORT RGW_ACCESS_KEY RGW_SECRET_KEY RGW_KMS_KEY_ID RGW_KMS_KEY RGW_LC_DAY_SECONDS; do
  if [[ -z "${!name:-}" ]]; then
    echo "radosgw-cluster: $name is not set; start this script through test/support/radosgw.ts" >&2
    exit 2
  fi
done

conf="$RGW_DIR/ceph.conf"
export CEPH_CONF="$conf"
pids=()

stop_daemons() {
  trap - EXIT TERM INT
  if ((${#pids[@]} > 0)); then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    # The data is throwaway: daemons get a second to exit cleanly, then are killed outright.
    (sleep 1 && kill -KILL "${pids[@]}" 2>/dev/null) &
    local reaper=$!
    wait "${pids[@]}" 2>/dev/null || true
    kill "$reaper" 2>/dev/null || true
  fi
  if [[ "${RGW_KEEP:-}" != 1 ]]; then rm -rf "$RGW_DIR"; fi
}
trap stop_daemons EXIT
trap 'exit 143' TERM INT

fail() {
  echo "radosgw-cluster: $1" >&2
  for log in "$RGW_DIR"/log/*; do
    [[ -f "$log" ]] || continue
    echo "--- last lines of $log" >&2
    tail -n 15 "$log" >&2 || true
  done
  exit 1
}

step() {
  local what=$1
  shift
  "$@" >>"$RGW_DIR/log/setup.out" 2>&1 || fail "$what failed (exit $?): $*"
}

mkdir -p "$RGW_DIR"/{mon,osd0,run,log}
fsid=$(cat /proc/sys/kernel/random/uuid)
osd_uuid=$(cat /proc/sys/kernel/random/uuid)

cat >"$conf" <<CONF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$RGW_MON_PORT
public addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
# Without cephx there is no session key, so every connection must use crc mode, not secure.
ms mon client mode = crc
ms mon cluster mode = crc
ms mon service mode = crc
ms client mode = crc
ms cluster mode = crc
ms service mode = crc
ms bind msgr1 = false
ms bind msgr2 = true
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 4
osd pool default pgp num = 4
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
osd objectstore = memstore
memstore device bytes = 4294967296
mon allow pool size one = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
# Map changes (pool creation) are proposed every second by default; radosgw creates about ten pools.
paxos propose interval = 0.05
paxos min wait = 0.01
run dir = $RGW_DIR/run
admin socket = $RGW_DIR/run/\$name.asok
log file = $RGW_DIR/log/\$name.log
mon data = $RGW_DIR/mon
osd data = $RGW_DIR/osd\$id
debug ms = 0
debug rgw = 0
debug osd = 0
debug bluestore = 0
debug memstore = 0
debug objclass = 0
debug monc = 0
debug auth = 0
# Lifecycle rules count a day as this many seconds, so a test can see a rule act (radosgw runs
# them every such interval too, and "radosgw-admin lc process" at once); no bucket has a rule
# unless a test puts one.
rgw lc debug interval = $RGW_LC_DAY_SECONDS
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw enable usage log = false
rgw crypt s3 kms backend = testing
rgw crypt s3 kms encryption keys = $RGW_KMS_KEY_ID=$RGW_KMS_KEY
rgw crypt require ssl = false
CONF

step "creating the monitor map" monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$RGW_MON_PORT]" "$RGW_DIR/monmap"
step "creating the monitor store" ceph-mon -c "$conf" --mkfs -i a --monmap "$RGW_DIR/monmap"
ceph-mon -c "$conf" -i a -f >>"$RGW_DIR/log/mon.out" 2>&1 &
pids+=($!)
step "registering the OSD (is the monitor up?)" timeout 60 ceph -c "$conf" --connect-timeout 30 osd new "$osd_uuid"
step "formatting the OSD" timeout 60 ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$osd_uuid"
ceph-osd -c "$conf" -i 0 -f >>"$RGW_DIR/log/osd.out" 2>&1 &
pids+=($!)
radosgw -c "$conf" -n client.rgw -f >>"$RGW_DIR/log/rgw.out" 2>&1 &
rgw_pid=$!
pids+=("$rgw_pid")

# radosgw listens once its pools exist, which needs the monitor and the OSD to be working.
for ((i = 0; i < 600; i++)); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$RGW_PORT") 2>/dev/null; then break; fi
  kill -0 "$rgw_pid" 2>/dev/null || fail "radosgw exited during start-up"
  sleep 0.1
done
((i < 600)) || fail "radosgw did not listen on 127.0.0.1:$RGW_PORT within 60 s"

step "creating the S3 user" timeout 60 radosgw-admin -c "$conf" user create --uid sfvault-test \
  --display-name "sfvault test" --access-key "$RGW_ACCESS_KEY" --secret-key "$RGW_SECRET_KEY"

echo ready
while read -r _; do :; done
