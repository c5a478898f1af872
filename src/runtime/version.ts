// MUTT's version, set by the bundler from package.json (and by vitest's `define`).
export const VERSION = typeof __MUTT_VERSION__ === 'string' ? __MUTT_VERSION__ : '0.0.0-dev';
