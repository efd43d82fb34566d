// The ipnkit-wasm npm package, entry for Cloudflare Workers and workerd (the `workerd` export
// condition): the module is imported as a WebAssembly.Module, as workers import `.wasm` files,
// and instantiated synchronously when this module is evaluated, so that
// `import { parse } from 'ipnkit-wasm'` is ready to use with no init call.
import module from './web/ipnkit_wasm_bg.wasm';
import { initSync } from './web.mjs';

initSync({ module });

export * from './web.mjs';
