#!/usr/bin/env bash
# Install the Debian packages feed_fusion needs to build, test and demo.
source "$(dirname "$0")/common.sh"
ff_deps
