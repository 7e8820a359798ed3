#!/usr/bin/env bash
# Installs the system tools the tests drive, where this machine lets us: Debian packages with
# apt-get when running as root, and BuildKit's binaries from a release archive when one is given.
# Without root or apt-get it installs nothing and says so; the suites that need a missing tool
# skip with a line naming it (under CI=true they fail instead).
#
# Usage: scripts/provision.sh [--buildkit-archive FILE]
#   FILE (or $DOCKWRIGHT_BUILDKIT_ARCHIVE): buildkit-v0.11.6-linux-amd64.tar.xz, holding buildctl
#   and buildkitd; they go to /usr/local/bin. BuildKit is not packaged by Debian.
set -euo pipefail

archive=${DOCKWRIGHT_BUILDKIT_ARCHIVE:-}
while (($# > 0)); do
  case "$1" in
    --buildkit-archive) archive=${2:?--buildkit-archive needs a file}; shift 2 ;;
    *) echo "provision: unknown argument $1" >&2; exit 2 ;;
  esac
done

# What each package is for:
#   buildah busybox-static    real image builds (busybox is the test base image)
#   shellcheck                the Buildah scripts are shellcheck-clean
#   protobuf-compiler         protoc decodes LLB in the tests
#   libprotobuf-dev           google/protobuf/*.proto, which protoc needs to regenerate the BuildKit client's code
#   docker.io                 Docker's engine 20.10: BuildKit and legacy builds
#   runc                      the OCI runtime buildkitd runs steps with
#   docker-registry           a real registry (Distribution) for push, pull and reuse
#   apache2-utils             htpasswd (bcrypt) for the registry's basic auth
#   openssl                   self-signed certificates for TLS registries and daemons
#   git                       code repositories in the source-mode tests
#   python3 python3-pip       pip freeze must not import a pip planted in the source root; the property
#                             suites check that pip reads each generated requirements file as planned
apt_packages=(buildah busybox-static shellcheck protobuf-compiler libprotobuf-dev docker.io runc docker-registry apache2-utils openssl git python3 python3-pip)

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for pkg in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
fi

if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "provision: apt-get install ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "provision: not installing ${missing[*]} (needs root and apt-get); the suites that use them will be skipped" >&2
  fi
fi

if [[ -n $archive ]]; then
  if [[ ! -f $archive ]]; then
    echo "provision: BuildKit archive $archive does not exist" >&2
    exit 2
  fi
  if ! command -v buildkitd >/dev/null 2>&1 || ! command -v buildctl >/dev/null 2>&1; then
    if [[ -w /usr/local/bin ]]; then
      echo "provision: buildctl and buildkitd from $(basename "$archive") to /usr/local/bin" >&2
      tar -xJf "$archive" -C /usr/local/bin buildctl buildkitd
    else
      echo "provision: cannot write /usr/local/bin; BuildKit not installed" >&2
    fi
  fi
fi
