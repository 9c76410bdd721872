#!/bin/sh
# Builds a stand-in for the `node:20-bookworm-slim` base image where no image registry can be
# reached (the CI machine): a minimal root file system holding this machine's own node binary, the
# glibc libraries it links against and busybox, imported into the local Docker engine under TAG.
# The Dockerfile then builds unchanged, with no pull (../shared/notes/containers-and-netns.md §1.3).
#
#   scripts/build-base-image.sh [TAG]        # default TAG: node:20-bookworm-slim
#
# Needs: a running engine (DOCKER_HOST), a glibc Linux host with node 20, busybox-static.
# Users with registry access never run this: `docker compose up` pulls the real image.
set -eu
TAG=${1:-node:20-bookworm-slim}
NODE=$(command -v node)
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] || { echo "$0: busybox not found (apt-get install busybox-static)" >&2; exit 69; }
# A static busybox: the image has no libraries but the ones node needs.
if ldd "$BUSYBOX" >/dev/null 2>&1; then echo "$0: $BUSYBOX is not static (apt-get install busybox-static)" >&2; exit 69; fi

R=$(mktemp -d /tmp/glacis-rootfs.XXXXXX)
trap 'rm -rf "$R"' EXIT
mkdir -p "$R/bin" "$R/sbin" "$R/usr/bin" "$R/usr/sbin" "$R/usr/local/bin" "$R/etc" "$R/tmp" "$R/root"
cp "$NODE" "$R/usr/bin/node"
for lib in $(ldd "$NODE" | grep -o '/[^ ]*'); do
  mkdir -p "$R$(dirname "$lib")"
  cp -L "$lib" "$R$lib"
done
cp "$BUSYBOX" "$R/bin/busybox"
# Every applet busybox has (sh, env, ls, ps, ...), each in its usual directory.
"$BUSYBOX" --list-full | while read -r applet; do
  [ -e "$R/$applet" ] || ln -s /bin/busybox "$R/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$R/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$R/etc/group"
chmod 1777 "$R/tmp"
tar -C "$R" -c . | docker import \
  -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' \
  -c 'CMD ["node"]' \
  -m "stand-in for node:20-bookworm-slim: host node $("$NODE" --version) + busybox (scripts/build-base-image.sh)" \
  - "$TAG" >/dev/null
echo "base image $TAG: node $(docker run --rm "$TAG" node --version)"
