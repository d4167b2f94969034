// Node provides the WebAssembly global, but TypeScript declares it only in the DOM library,
// which the project does not load. This is the part the quickjs-wasi peer uses.
declare namespace WebAssembly {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface Module {}
  function compile(bytes: ArrayBufferView | ArrayBuffer): Promise<Module>;
}
