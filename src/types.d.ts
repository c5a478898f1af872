// Lua scripts and SQL migrations are bundled as text (esbuild `text` loader, a Vite plugin in tests).
declare module '*.lua' {
  const source: string;
  export default source;
}
declare module '*.sql' {
  const source: string;
  export default source;
}
// Browser assets (the UI's script and style, vendored libraries) are bundled as text with `?raw`.
declare module '*?raw' {
  const source: string;
  export default source;
}
/** Package version, injected at build time. */
declare const __MUTT_VERSION__: string;
