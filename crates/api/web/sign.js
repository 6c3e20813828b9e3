// Signed API requests (spec §12.1) in the browser: the canonical encoding
// of SignedRequest (bincode 2, varint integers), the domain hash, and the
// purpose-tagged Ed25519 signature via WebCrypto. Pure functions on
// globalThis.credexSign, so the same file runs in Node.js for testing.
"use strict";
(function (root) {
  const te = new TextEncoder();
  const cat = (...parts) => {
    const n = parts.reduce((a, p) => a + p.length, 0);
    const out = new Uint8Array(n);
    let i = 0;
    for (const p of parts) { out.set(p, i); i += p.length; }
    return out;
  };
  // bincode 2 varint: < 251 one byte; else a tag byte and a little-endian u16 / u32 / u64
  function varint(v) {
    v = BigInt(v);
    if (v < 251n) return Uint8Array.of(Number(v));
    const le = (bytes) => { const o = new Uint8Array(bytes); let x = v; for (let i = 0; i < bytes; i++) { o[i] = Number(x & 0xffn); x >>= 8n; } return o; };
    if (v <= 0xffffn) return cat(Uint8Array.of(251), le(2));
    if (v <= 0xffffffffn) return cat(Uint8Array.of(252), le(4));
    return cat(Uint8Array.of(253), le(8));
  }
  const str = (s) => { const b = te.encode(s); return cat(varint(b.length), b); };
  const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  const unhex = (h) => Uint8Array.from(h.match(/../g).map((x) => parseInt(x, 16)));
  const sha256 = async (b) => new Uint8Array(await root.crypto.subtle.digest("SHA-256", b));
  // H(d, m) = SHA-256(u8(len d) ‖ d ‖ m)
  const domainHash = (d, m) => sha256(cat(Uint8Array.of(d.length), te.encode(d), m));

  /**
   * encode(SignedRequest { audience: { chain_id, genesis, node }, client, method, path, body: SHA-256(body), time, nonce })
   * `audience` is the node's GET /v1/status: its chain_id, genesis (hex) and agency (null: "").
   */
  async function encodeRequest(audience, client, method, path, body, timeMs, nonce) {
    const aud = cat(str(audience.chain_id), unhex(audience.genesis), str(audience.agency || ""));
    return cat(aud, str(client), str(method), str(path), await sha256(body), varint(timeMs), nonce);
  }

  /** The client id of a key file: official/platform → client, issuer → agency, subject key → subject. */
  function clientOf(keyFile) {
    if (keyFile.subject) return keyFile.subject;
    if (keyFile.role === "official" || keyFile.role === "platform") return keyFile.client;
    return keyFile.agency;
  }

  /** The four X-Credex-* headers for a request signed with `keyFile` (the JSON of a credex key file), for the node whose status is `audience`. */
  async function headers(keyFile, audience, method, path, body, timeMs) {
    const nonce = root.crypto.getRandomValues(new Uint8Array(16));
    const client = clientOf(keyFile);
    const msg = await domainHash("credex/request/v2", await encodeRequest(audience, client, method, path, body || new Uint8Array(0), timeMs, nonce));
    const tag = te.encode("credex-sig/request/v1");
    const pkcs8 = cat(unhex("302e020100300506032b657004220420"), unhex(keyFile.secret_seed));
    const key = await root.crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, false, ["sign"]);
    const sig = new Uint8Array(await root.crypto.subtle.sign("Ed25519", key, cat(Uint8Array.of(tag.length), tag, msg)));
    return {
      "X-Credex-Client": client,
      "X-Credex-Time": String(timeMs),
      "X-Credex-Nonce": hex(nonce),
      "X-Credex-Signature": hex(sig),
    };
  }

  root.credexSign = { varint, encodeRequest, headers, clientOf, hex };
})(globalThis);
