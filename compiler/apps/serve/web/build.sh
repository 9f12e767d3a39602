#!/bin/sh
# Rebuilds the playground's editor bundle (CodeMirror 6 + the segc highlighter) from npm:
# static/editor.js, minified, committed so that the wheel works offline.
set -e
cd "$(dirname "$0")"
npm install --no-audit --no-fund --silent
npx esbuild src/editor.js --bundle --minify --format=iife --global-name=SegcEditor \
  --outfile=../static/editor.js --legal-comments=none
ls -l ../static/editor.js
