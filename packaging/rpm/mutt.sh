#!/bin/sh
# mutt(8): MUTT's command line and daemon, the esbuild bundle under /usr/lib/mutt run by Node.js.
# Set NODE_OPTIONS=--enable-source-maps to get stack traces with TypeScript file names (the .map
# files are installed beside the bundle).
exec /usr/bin/node /usr/lib/mutt/mutt.js "$@"
