#!/bin/sh
# deps.sh - install the Debian 12 packages reel needs to build, test and run, if any are missing.
# Uses apt-get directly as root, sudo otherwise. Prints what it installs; silent when all are there.
set -eu
PACKAGES="gcc make autoconf automake libtool pkg-config libsqlite3-dev libzstd-dev libhtscodecs-dev check
sqlite3 python3 ffmpeg libavformat-dev libavcodec-dev libavutil-dev libswscale-dev
python3-dev python3-numpy python3-pytest python3-torch python3-opencv python3-av
libjansson-dev libxxhash-dev clang libclang-rt-14-dev libcurl4-openssl-dev libssl-dev curl nginx ceph-mon ceph-osd radosgw valgrind"
missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
echo "deps.sh: installing:$missing"
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# packages must not start system daemons (nginx on :80, ceph): the tests start their own
prc=/usr/sbin/policy-rc.d
added=""
if [ ! -e $prc ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee $prc >/dev/null
    $SUDO chmod +x $prc
    added=1
fi
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
if [ -n "$added" ]; then $SUDO rm -f $prc; fi
