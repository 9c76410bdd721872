#!/usr/bin/env bash
# Runs a command next to a private Docker engine, then puts the host back as it was.
#
#   scripts/with-dockerd.sh CMD [ARGS...]
#
# For a Linux machine with Debian's docker.io installed but no engine running (the CI machine:
# see .ci/run and ../shared/notes/containers-and-netns.md). Needs root. While CMD runs:
#   * dockerd's data, state and socket live in a fresh `mktemp -d` directory, nothing in /var/lib/docker;
#   * DOCKER_HOST points at that socket (testcontainers, docker and docker-compose all honour it);
#   * every Docker address is in 10.231.0.0/16 (--bip, --default-address-pool), away from 172.17/16.
# On exit (success, failure, Ctrl-C) the engine is stopped by its PID and the host restored:
# iptables filter and nat tables as they were saved before (Docker leaves FORWARD DROP behind, which
# breaks bridges in the root namespace), docker0 and any other bridge the engine created removed,
# ip_forward and the bridge-netfilter sysctls back to their old values, the temporary directory gone,
# and the few paths dockerd and containerd create outside it (/etc/docker/key.json, /opt/containerd,
# /run/docker, /run/containerd) removed unless they were there before.
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: $0 CMD [ARGS...]" >&2
  exit 64
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "$0: needs root (it starts dockerd)" >&2
  exit 77
fi
command -v dockerd >/dev/null || {
  echo "$0: dockerd not found; install Debian's docker.io first" >&2
  exit 69
}

sysctl_get() { cat "/proc/sys/$1" 2>/dev/null || true; }
sysctl_set() { [ -z "$2" ] || echo "$2" >"/proc/sys/$1" 2>/dev/null || true; }

FWD0=$(sysctl_get net/ipv4/ip_forward)
BNF0=$(sysctl_get net/bridge/bridge-nf-call-iptables)
BNF6=$(sysctl_get net/bridge/bridge-nf-call-ip6tables)
IPT0=$(iptables-save 2>/dev/null || true)
LINKS0=$(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | sort)
OUTSIDE=(/etc/docker/key.json /opt/containerd /run/docker /run/containerd)
CREATED=()
for p in "${OUTSIDE[@]}"; do [ -e "$p" ] || CREATED+=("$p"); done
DROOT=$(mktemp -d /tmp/glacis-dockerd.XXXXXX)
DPID=

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
    kill -TERM "$DPID"
    for _ in $(seq 1 300); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$DPID" 2>/dev/null && kill -KILL "$DPID"
    wait "$DPID" 2>/dev/null
  fi
  # containerd and its shims belong to this engine only if they run out of our directory.
  for pid in $(pgrep -f "$DROOT" || true); do kill -KILL "$pid" 2>/dev/null; done
  # iptables: empty the tables Docker filled, then put back what was there before.
  iptables -P FORWARD ACCEPT 2>/dev/null
  for t in filter nat; do
    iptables -t "$t" -F 2>/dev/null
    iptables -t "$t" -X 2>/dev/null
  done
  [ -n "$IPT0" ] && printf '%s\n' "$IPT0" | iptables-restore
  # Bridges (docker0, br-*) and veths the engine left behind.
  for l in $(comm -13 <(printf '%s\n' "$LINKS0") <(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | sort)); do
    case "$l" in docker0 | br-* | veth*) ip link del "$l" 2>/dev/null ;; esac
  done
  sysctl_set net/ipv4/ip_forward "$FWD0"
  sysctl_set net/bridge/bridge-nf-call-iptables "$BNF0"
  sysctl_set net/bridge/bridge-nf-call-ip6tables "$BNF6"
  # Mounts the engine may have left (overlay layers, network namespaces), deepest first.
  awk -v d="$DROOT" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  rm -rf "$DROOT"
  for p in "${CREATED[@]}"; do rm -rf "$p"; done
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

dockerd --storage-driver=overlay2 \
  --bip=10.231.3.1/24 --default-address-pool base=10.231.16.0/20,size=24 \
  --host "unix://$DROOT/docker.sock" --data-root "$DROOT/data" --exec-root "$DROOT/exec" \
  --pidfile "$DROOT/dockerd.pid" >"$DROOT/dockerd.log" 2>&1 &
DPID=$!
export DOCKER_HOST="unix://$DROOT/docker.sock"
for _ in $(seq 1 200); do docker info >/dev/null 2>&1 && break; sleep 0.1; done
if ! docker info >/dev/null 2>&1; then
  echo "$0: dockerd did not come up; its log:" >&2
  tail -30 "$DROOT/dockerd.log" >&2
  exit 1
fi
echo "with-dockerd: engine $(docker version --format '{{.Server.Version}}') up (pid $DPID, DOCKER_HOST=$DOCKER_HOST)" >&2
"$@"
