#!/bin/sh
# nginx.sh start|restart|stop STATEDIR [PORT] - a plain HTTP server on 127.0.0.1 for the
# remote-store tests: static files with byte ranges, PUT and DELETE (nginx's DAV module), no
# auth, an access log (the tests count requests in it). start makes STATEDIR anew, restart
# keeps its files; both print ENDPOINT=...; stop ends only the nginx it started (its pid file).
set -eu
cmd=$1
d=$2
port=${3:-18080}
case $cmd in
stop)
    [ -f "$d/nginx.pid" ] && kill "$(cat "$d/nginx.pid")" 2>/dev/null || true
    i=0
    while [ -f "$d/nginx.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    exit 0
    ;;
start) rm -rf "$d" ;;
restart) ;;
*) echo "usage: nginx.sh start|restart|stop STATEDIR [PORT]" >&2; exit 2 ;;
esac
command -v nginx >/dev/null || { echo "nginx.sh: nginx is not installed (apt-get install nginx)" >&2; exit 1; }
mkdir -p "$d/data" "$d/tmp" "$d/logs"
user=""
[ "$(id -u)" -eq 0 ] && user="user root root;"
cat >"$d/nginx.conf" <<CONF
$user
worker_processes 1;
daemon on;
pid $d/nginx.pid;
error_log $d/logs/error.log warn;
events { worker_connections 256; }
http {
    access_log $d/logs/access.log;
    client_body_temp_path $d/tmp;
    proxy_temp_path $d/tmp;
    fastcgi_temp_path $d/tmp;
    uwsgi_temp_path $d/tmp;
    scgi_temp_path $d/tmp;
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$port;
        root $d/data;
        client_max_body_size 0;
        dav_methods PUT DELETE MKCOL;
        create_full_put_path on;
    }
}
CONF
nginx -p "$d" -e "$d/logs/error.log" -c "$d/nginx.conf"
i=0
until curl -s -o /dev/null "http://127.0.0.1:$port/"; do
    i=$((i + 1))
    [ $i -gt 100 ] && { echo "nginx.sh: not ready" >&2; cat "$d/logs/error.log" >&2; exit 1; }
    sleep 0.1
done
echo "ENDPOINT=http://127.0.0.1:$port"
