#!/bin/sh
# ceph.sh start|stop STATEDIR [PORT] - a one-node Ceph on 127.0.0.1 for the remote-store tests:
# one monitor, one OSD on memstore (RAM), and the RADOS Gateway (S3) on PORT (default 17480,
# the monitor on PORT+1), with a user whose keys are printed. start prints ENDPOINT=...,
# ACCESS_KEY=..., SECRET_KEY=...; stop ends the daemons it started (their pid files).
# What makes it start in seconds on one node: a 50 ms paxos proposal interval, pools of 8
# placement groups and a raised limit of placement groups per OSD (the gateway makes many
# pools), pool size 1. The gateway also takes virtual-hosted requests (BUCKET.localhost:PORT,
# which libcurl resolves to 127.0.0.1 itself).
set -eu
cmd=$1
d=$2
port=${3:-17480}
mon_port=$((port + 1))
ak=REELTESTACCESSKEY001
sk=reeltestsecretkey000000000000000000000001
stop() { # the gateway, the OSD, then the monitor
    for f in client.rgw.gw osd.0 mon.a; do
        p=$(cat "$d/run/$f.pid" 2>/dev/null || true)
        [ -n "$p" ] && kill "$p" 2>/dev/null || true
        i=0
        while [ -n "$p" ] && kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true
        rm -f "$d/run/$f.pid"
    done
}
case $cmd in
stop) stop; exit 0 ;;
start) ;;
*) echo "usage: ceph.sh start|stop STATEDIR [PORT]" >&2; exit 2 ;;
esac
for b in ceph-mon ceph-osd radosgw ceph-authtool monmaptool; do
    command -v $b >/dev/null || { echo "ceph.sh: $b is missing (apt-get install ceph-mon ceph-osd radosgw)" >&2; exit 1; }
done
rm -rf "$d"
mkdir -p "$d/mon" "$d/osd" "$d/rgw" "$d/run" "$d/log"
fsid=$(cat /proc/sys/kernel/random/uuid)
c="$d/ceph.conf"
cat >"$c" <<CONF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon_port
public addr = 127.0.0.1
cluster addr = 127.0.0.1
keyring = $d/keyring
run dir = $d/run
admin socket = $d/run/\$name.asok
pid file = $d/run/\$name.pid
log file = $d/log/\$name.log
mon cluster log file = $d/log/cluster.log
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
mon allow pool size one = true
osd crush chooseleaf type = 0
auth allow insecure global id reclaim = false
mon warn on pool no redundancy = false
paxos propose interval = 0.05
[mon.a]
mon data = $d/mon
[osd.0]
osd data = $d/osd
osd objectstore = memstore
memstore device bytes = 2147483648
osd memory target = 939524096
[client.rgw.gw]
rgw data = $d/rgw
rgw frontends = beast endpoint=127.0.0.1:$port
rgw thread pool size = 32
rgw dns name = localhost
rgw sts key = reeltestststkey1
rgw s3 auth use sts = true
CONF
k="$d/keyring"
ceph-authtool --create-keyring "$k" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool "$k" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' >/dev/null
ceph-authtool "$k" --gen-key -n osd.0 --cap mon 'allow profile osd' --cap mgr 'allow profile osd' --cap osd 'allow *' >/dev/null
ceph-authtool "$k" --gen-key -n client.rgw.gw --cap mon 'allow rw' --cap osd 'allow rwx' --cap mgr 'allow rw' >/dev/null
monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$d/monmap" >/dev/null
fail() { echo "ceph.sh: $1 (logs in $d/log)" >&2; tail -20 "$d/log/$2" >&2 2>/dev/null; stop; exit 1; }
ceph-mon -c "$c" --mkfs -i a --monmap "$d/monmap" --keyring "$k" || fail "mon mkfs" mon.a.log
ceph-mon -c "$c" -i a 2>>"$d/log/stderr" || fail "mon start" mon.a.log
ceph="ceph -c $c --connect-timeout 30"
uuid=$(cat /proc/sys/kernel/random/uuid)
[ "$($ceph osd new "$uuid" 2>>"$d/log/stderr")" = 0 ] || fail "osd new" stderr
ceph-osd -c "$c" -i 0 --mkfs --osd-uuid "$uuid" >"$d/log/osd-mkfs" 2>&1 || fail "osd mkfs" osd-mkfs
ceph-osd -c "$c" -i 0 2>>"$d/log/stderr" || fail "osd start" osd.0.log
i=0
until $ceph osd dump 2>/dev/null | grep -q '^osd.0 up'; do
    i=$((i + 1)); [ $i -gt 120 ] && fail "osd.0 not up" osd.0.log; sleep 0.5
done
radosgw -c "$c" -n client.rgw.gw 2>>"$d/log/stderr" || fail "radosgw start" client.rgw.gw.log
i=0
until curl -s -o /dev/null "http://127.0.0.1:$port/"; do
    i=$((i + 1)); [ $i -gt 240 ] && fail "radosgw not ready" client.rgw.gw.log; sleep 0.5
done
radosgw-admin -c "$c" user create --uid=reeltest --display-name=reeltest --access-key="$ak" \
    --secret-key="$sk" >/dev/null 2>>"$d/log/stderr" || fail "user create" stderr
echo "ENDPOINT=http://127.0.0.1:$port"
echo "ACCESS_KEY=$ak"
echo "SECRET_KEY=$sk"
