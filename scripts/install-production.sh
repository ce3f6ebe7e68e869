#!/bin/sh
# The production install, exactly as package-lock.json pins it: used by the Dockerfile and checked
# by test/productionInstall.test.ts. Dependencies only (no devDependencies: no production command
# imports one) and no install scripts of dependencies (none is needed: esbuild and msgpackr-extract
# ship their binaries as optional platform packages, which the lockfile lists for every platform).
# Then our fixes to neo4j-driver (patches/, see README) with patch-package, itself a dependency;
# it fails if a patch does not apply. Extra arguments go to npm ci (e.g. --prefer-offline).
set -eu
npm ci --omit=dev --ignore-scripts --no-audit --no-fund "$@"
node_modules/.bin/patch-package --error-on-fail
