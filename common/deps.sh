#!/bin/sh
# Installs the Debian packages kintape needs when they are missing.
#
#   common/deps.sh PKG...     each PKG is a Debian package, or CMD:PKG to accept
#                             any CMD already on the PATH instead of the package
#   common/deps.sh --tools    the test clients: python3 with boto3, the AWS CLI
#
# A machine that has everything pays one dpkg query. As root the missing
# packages are installed with apt-get; otherwise the script names them and fails.
set -eu

missing=""

have_pkg() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

want() {
    case "$1" in
    *:*)
        cmd=${1%%:*}
        pkg=${1#*:}
        command -v "$cmd" >/dev/null 2>&1 && return 0
        ;;
    *)
        pkg=$1
        ;;
    esac
    have_pkg "$pkg" || missing="$missing $pkg"
}

if [ "${1:-}" = "--tools" ]; then
    python3 -c 'import boto3' >/dev/null 2>&1 || missing="$missing python3-boto3"
    command -v aws >/dev/null 2>&1 || missing="$missing awscli"
else
    for p in "$@"; do
        want "$p"
    done
fi

[ -z "$missing" ] && exit 0

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "kintape: not a Debian system; install the equivalents of:$missing" >&2
    exit 1
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "kintape: missing packages:$missing" >&2
    echo "kintape: run as root, or: sudo apt-get install -y$missing" >&2
    exit 1
fi

echo "kintape: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
stamp=/var/lib/apt/periodic/kintape-update-stamp
if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +360 2>/dev/null)" ]; then
    apt-get update -q >/dev/null
    mkdir -p "$(dirname "$stamp")" && touch "$stamp"
fi
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
