// Runs credex_verify.wasm under Node.js on a list of requests:
//   node run-module.js MODULE.wasm CASES.json
// CASES.json: [{request, proof_hex}]; prints the answers as a JSON array.
"use strict";
const fs = require("fs");
const path = require("path");
const CredexVerifier = require(path.join(__dirname, "../js/verifier.js"));
(async () => {
  const [wasm, cases] = process.argv.slice(2);
  const v = await CredexVerifier.load(fs.readFileSync(wasm));
  const answers = JSON.parse(fs.readFileSync(cases, "utf8")).map((c) =>
    v.verify(c.request, c.proof_text !== undefined ? c.proof_text : Buffer.from(c.proof_hex, "hex")));
  process.stdout.write(JSON.stringify(answers));
})().catch((e) => { console.error(e); process.exit(1); });
