// credex in-browser verifier: the glue for credex_verify.wasm (crates/verify-wasm),
// which verifies a credit proof with no node and no network (spec §8.3).
// One object, CredexVerifier, with load(source) -> {verify(request, proof)}:
//   source  a URL, an ArrayBuffer or a Uint8Array holding the module
//   request {genesis: TOML text, now: RFC 3339, lang?, max_age?, clear_for?,
//            require_jurisdiction?, trust_issuer?, checkpoint?}
//   proof   the credex1: text (string) or the proof's bytes (Uint8Array)
// verify returns {exit_code, text, answer, genesis}: the exit code and text
// of `credex verify`, and the answer of POST /v1/verify.
"use strict";
const CredexVerifier = (() => {
  async function load(source) {
    const bytes = typeof source === "string" ? await (await fetch(source)).arrayBuffer() : source;
    const { instance } = await WebAssembly.instantiate(bytes, {});
    return wrap(instance.exports);
  }
  function wrap(x) {
    const enc = new TextEncoder();
    const dec = new TextDecoder();
    return {
      verify(request, proof) {
        const req = enc.encode(JSON.stringify(request));
        const p = typeof proof === "string" ? enc.encode(proof) : new Uint8Array(proof);
        const ptr = x.credex_input(req.length + p.length) >>> 0;
        if (!ptr) return { exit_code: 3, text: "the request is larger than the verifier takes\n", answer: null, genesis: null };
        const input = new Uint8Array(x.memory.buffer, ptr, req.length + p.length);
        input.set(req, 0);
        input.set(p, req.length);
        x.credex_verify(req.length, p.length);
        const out = new Uint8Array(x.memory.buffer, x.credex_output() >>> 0, x.credex_output_len() >>> 0);
        return JSON.parse(dec.decode(out));
      },
    };
  }
  return { load, wrap };
})();
if (typeof module !== "undefined") module.exports = CredexVerifier;
