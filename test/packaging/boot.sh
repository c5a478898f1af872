#!/bin/bash
# The package's life on a scratch root, with rpm's own scriptlets and a real systemd:
#   1. install PREVIOUS into an overlay of this machine's root file system (rpm --root runs the
#      scriptlets in a chroot: %pre creates the mutt user, %post runs tmpfiles and presets);
#   2. boot systemd in a container on that overlay (systemd-nspawn, private network) and run
#      in-container.sh as a oneshot unit that powers the container off when done;
#   3. edit /etc/mutt/mutt.env as an operator would, upgrade to CURRENT (rpm -U), boot again;
#   4. erase the package (rpm -e).
# Results land in OUT (results: key=value lines, plus logs). Run as root, in a private mount
# namespace so the overlay disappears with it:
#   unshare --mount --propagation private boot.sh PREVIOUS CURRENT OUT NODE
# NODE: the Node.js binary mounted as /usr/bin/node inside (the machine's own may be older than the
# package requires).
set -euo pipefail
previous=$1
current=$2
out=$3
node_bin=$4
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/mutt-boot.XXXXXX)
trap 'umount -l "$work/root" 2>/dev/null || true; rm -rf "$work"' EXIT
root=$work/root
res=$out/results
r() { printf '%s=%s\n' "$1" "$2" >> "$res"; }
names() { find "$1" -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort | tr '\n' ' '; }
rpmr() { rpm --root "$root" --dbpath /var/lib/rpm-mutt-test "$@"; }

mkdir -p "$work/upper" "$work/work" "$root"
# Hide what this machine may hold of an earlier MUTT (overlayfs whiteouts), so the container
# starts as a fresh host would.
mkdir -p "$work/upper/var/lib" "$work/upper/etc"
for p in var/lib/mutt etc/mutt; do mknod "$work/upper/$p" c 0 0; done
mount -t overlay overlay -o "lowerdir=/,upperdir=$work/upper,workdir=$work/work" "$root"

install -m 0755 "$here/in-container.sh" "$root/usr/local/sbin/mutt-package-check"
boot() { # boot PHASE: runs in-container.sh with PHASE in a freshly booted container
  cat > "$root/etc/systemd/system/mutt-package-check.service" <<UNIT
[Unit]
Description=MUTT package check ($1)
SuccessAction=poweroff-force
FailureAction=poweroff-force
[Service]
Type=oneshot
Environment=PHASE=$1
ExecStart=/usr/local/sbin/mutt-package-check
TimeoutStartSec=600
StandardOutput=append:/out/check-$1.log
StandardError=append:/out/check-$1.log
UNIT
  timeout 900 systemd-nspawn -q -D "$root" --keep-unit --register=no --private-network \
    --bind="$out:/out" --bind-ro="$node_bin:/usr/bin/node" \
    -b -- --unit=mutt-package-check.service > "$out/boot-$1.log" 2>&1 || true
}

# 1. Install (Debian's rpm database does not know the dependencies: --nodeps).
rpmr -i --nodeps "$previous" > "$out/rpm-install.log" 2>&1
r installed "$(rpmr -q mutt)"
# 2. First boot.
boot first

# 3. The operator's edit, then the upgrade.
printf '%s\n' '# kept across upgrades' 'LOG_LEVEL=INFO' >> "$root/etc/mutt/mutt.env"
rpmr -U --nodeps "$current" > "$out/rpm-upgrade.log" 2>&1
r upgraded "$(rpmr -q mutt)"
r env_kept "$(grep -c -x -e '# kept across upgrades' -e 'LOG_LEVEL=INFO' "$root/etc/mutt/mutt.env")"
r rpmnew "$(test -f "$root/etc/mutt/mutt.env.rpmnew" && echo yes || echo no)"
r rpmnew_mode "$(chroot "$root" stat -c '%a %U:%G' /etc/mutt/mutt.env.rpmnew 2>/dev/null || true)"
boot upgraded

# 4. Erase: program gone, state and edited configuration kept.
rpmr -e mutt > "$out/rpm-erase.log" 2>&1
r erased "$(rpmr -q mutt >/dev/null 2>&1 && echo no || echo yes)"
r program_after_erase "$(test -e "$root/usr/lib/mutt/mutt.js" && echo present || echo gone)"
r state_after_erase "$(names "$root/var/lib/mutt")"
r pg_data_after_erase "$(test -f "$root/var/lib/mutt/postgres/data/PG_VERSION" && echo kept || echo lost)"
r env_after_erase "$(names "$root/etc/mutt")"
r complete 1
