// Lua scripts and SQL migrations are bundled as text (esbuild `text` loader, a Vite plugin in tests).
declare module '*.lua' {
  const source: string;
  export default source;
}
declare module '*.sql' {
  const source: string;
  export default source;
}
/** Package version, injected at build time. */
declare const __MUTT_VERSION__: string;
