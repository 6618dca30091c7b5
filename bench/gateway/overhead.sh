#!/usr/bin/env bash
# The latency and throughput the gateway adds, beside nginx proxying the same
# upstream. Not a test: it prints figures (docs/GATEWAY.md has a run).
#   bench/gateway/overhead.sh [SECONDS_PER_RUN]      # default 5
# Needs build/src/genstack, nginx and wrk (Debian packages; scripts/install.sh).
# The upstream is nginx answering a fixed chat completion; everything runs on
# 127.0.0.1 on free ports, is stopped by PID and its temp folder removed.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-5}"
genstack="${GENSTACK_BINARY:-build/src/genstack}"
for tool in nginx wrk "$genstack"; do
  command -v "$tool" >/dev/null || { echo "overhead.sh: $tool not found" >&2; exit 1; }
done

dir="$(mktemp -d /tmp/gs-gateway-bench-XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "overhead.sh: nothing listens on port $1" >&2
  exit 1
}

answer='{"id":"chatcmpl-bench","object":"chat.completion","created":0,"model":"bench","choices":[{"index":0,"message":{"role":"assistant","content":"hello"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}'
up_port="$(free_port)"
proxy_port="$(free_port)"
gw_port="$(free_port)"

# nginx -c CONF -p DIR: one worker each, no logs, keep-alive to the upstream as the gateway does.
nginx_conf() {  # NAME SERVER_BLOCK
  mkdir -p "$dir/$1"
  cat >"$dir/$1/nginx.conf" <<CONF
worker_processes 1;
pid $dir/$1/nginx.pid;
error_log $dir/$1/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/$1; proxy_temp_path $dir/$1; fastcgi_temp_path $dir/$1;
  uwsgi_temp_path $dir/$1; scgi_temp_path $dir/$1;
  upstream bench_upstream { server 127.0.0.1:$up_port; keepalive 64; }
  $2
}
CONF
  nginx -c "$dir/$1/nginx.conf" -p "$dir/$1" -g 'daemon off;' &
  pids+=($!)
  nginx_pid=$!
}
nginx_conf upstream "server { listen 127.0.0.1:$up_port; keepalive_requests 1000000;
  location / { default_type application/json; return 200 '$answer'; } }"
nginx_conf proxy "server { listen 127.0.0.1:$proxy_port; keepalive_requests 1000000;
  location / { proxy_pass http://bench_upstream; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }"
proxy_pid=$nginx_pid

cat >"$dir/gateway.yaml" <<CONF
listen: 127.0.0.1:$gw_port
io_threads: 1
upstreams: [{name: up, url: "http://127.0.0.1:$up_port"}]
routes: [{model: bench, pool: [up]}]
tiers: {bench: {}}
keys: {db: $dir/gateway.db}
cache: {enabled: true, ttl_s: 3600}
limits: {max_concurrent: 1024}
CONF
key="$("$genstack" keys --db "$dir/gateway.db" create --tier bench 2>/dev/null)"
"$genstack" gateway --config "$dir/gateway.yaml" >"$dir/gateway.log" 2>&1 &
pids+=($!)
gateway_pid=$!
wait_port "$up_port"
wait_port "$proxy_port"
wait_port "$gw_port"

# wrk scripts: the same chat request, uncacheable (temperature 0.7) or cacheable (temperature 0).
for temperature in 0.7 0; do
  cat >"$dir/post_$temperature.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $key"
wrk.body = '{"model":"bench","messages":[{"role":"user","content":"hi"}],"temperature":$temperature}'
LUA
done

# CPU time (clock ticks, user + system) of a process and its children (nginx's worker).
cpu_ticks() {
  local total=0 pid
  for pid in "$1" $(pgrep -P "$1" || true); do
    total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat")))
  done
  echo "$total"
}

# Prints "p50_ms p99_ms req_per_s requests" of one wrk run: URL TEMPERATURE CONNECTIONS.
run_wrk() {
  local threads=$(($3 < 2 ? 1 : 2))
  wrk -t"$threads" -c"$3" -d"${seconds}s" --latency -s "$dir/post_$2.lua" "$1/v1/chat/completions" |
    awk 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
         $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) } $1 == "Requests/sec:" { rps = $2 }
         $1 == "Non-2xx" { bad = 1 } $2 == "requests" && $3 == "in" { n = $1 }
         END { if (bad) { print "non-2xx answers" > "/dev/stderr"; exit 1 } printf "%.3f %.3f %.0f %d\n", p50, p99, rps, n }'
}

warm() { wrk -t1 -c4 -d1s -s "$dir/post_$2.lua" "$1/v1/chat/completions" >/dev/null; }
warm "http://127.0.0.1:$gw_port" 0
warm "http://127.0.0.1:$proxy_port" 0.7

declare -A result
ticks_per_s="$(getconf CLK_TCK)"
for target in direct:$up_port:0.7:0 nginx:$proxy_port:0.7:$proxy_pid gateway-uncached:$gw_port:0.7:$gateway_pid \
              gateway-cached:$gw_port:0:$gateway_pid; do
  IFS=: read -r name port temperature pid <<<"$target"
  result[$name,1]="$(run_wrk "http://127.0.0.1:$port" "$temperature" 1)"
  [ "$pid" = 0 ] || before="$(cpu_ticks "$pid")"
  result[$name,64]="$(run_wrk "http://127.0.0.1:$port" "$temperature" 64)"
  result[$name,cpu]="-"
  if [ "$pid" != 0 ]; then  # the proxy's own CPU time per request at c64: robust on a noisy machine
    read -r _ _ _ n <<<"${result[$name,64]}"
    result[$name,cpu]="$(awk -v t=$(($(cpu_ticks "$pid") - before)) -v hz="$ticks_per_s" -v n="$n" \
      'BEGIN { printf "%.1f", t / hz * 1e6 / n }')"
  fi
done

echo "gateway overhead bench: ${seconds}s per run, $(nproc) cores, nginx $(nginx -v 2>&1 | sed 's/.*\///')"
printf '%-18s %12s %12s %14s %14s %12s %18s\n' target "p50 ms (c1)" "p99 ms (c1)" "+p50 ms (c1)" \
  "+p99 ms (c1)" "req/s (c64)" "proxy CPU us/req"
read -r base50 base99 _ <<<"${result[direct,1]}"
for name in direct nginx gateway-uncached gateway-cached; do
  read -r p50 p99 _ <<<"${result[$name,1]}"
  read -r _ _ rps _ <<<"${result[$name,64]}"
  awk -v n="$name" -v a="$p50" -v b="$p99" -v c="$base50" -v d="$base99" -v r="$rps" -v u="${result[$name,cpu]}" \
    'BEGIN { printf "%-18s %12.3f %12.3f %14.3f %14.3f %12s %18s\n", n, a, b, a - c, b - d, r, u }'
done
