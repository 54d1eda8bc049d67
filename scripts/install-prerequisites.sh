#!/usr/bin/env bash
# Installs what vitfleet needs on a fresh Debian machine and is not fetched by Maven: Maven itself, the Fashion-MNIST
# IDX files (/usr/share/datasets/fashion-mnist) and libjpeg-turbo's djpeg (the feeder benchmark's reference).
# Does nothing when everything is there. Needs root (or sudo) only when something is missing.
set -euo pipefail
need=()
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || need+=(dataset-fashion-mnist)
command -v mvn >/dev/null 2>&1 || need+=(maven)
command -v djpeg >/dev/null 2>&1 || need+=(libjpeg-turbo-progs)
[ ${#need[@]} -eq 0 ] && exit 0
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "vitfleet: error: missing ${need[*]}; install them as root: apt-get install -y ${need[*]}" >&2
    exit 2
  fi
fi
echo "vitfleet: installing ${need[*]} ..." >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq "${need[@]}" >/dev/null
