#!/bin/sh
# Copy the browser libraries npm installed into the package's static folder (git-ignored).
# Run after `npm ci` at the repository root.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
vendor="$here/src/cctv_server/web/static/vendor"
mkdir -p "$vendor"
cp "$here/node_modules/hls.js/dist/hls.min.js" "$vendor/hls.min.js"
cp "$here/node_modules/hls.js/LICENSE" "$vendor/hls.js.LICENSE" 2>/dev/null || true
echo "vendored hls.js $(node -p "require('$here/node_modules/hls.js/package.json').version" 2>/dev/null || echo '?') into $vendor"
