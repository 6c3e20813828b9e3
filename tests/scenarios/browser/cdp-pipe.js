// Runs Chromium with the DevTools protocol on a pipe (--remote-debugging-pipe:
// Chromium reads NUL-terminated JSON messages on fd 3 and writes them on fd 4)
// and relays it as JSON lines: one message per line on stdin to Chromium, one
// per line from Chromium on stdout. The browser scenarios (browser/cdp.rs)
// drive the page with it: no WebSocket, no npm package, only Node.js and
// Debian's chromium.
//
//   node cdp-pipe.js CHROMIUM [ARGS…]
//
// Chromium's own stderr is kept out of the test's output; its last 8 KiB are
// printed if it exits before it is told to.
"use strict";
const { spawn } = require("child_process");
const readline = require("readline");

const [chromium, ...args] = process.argv.slice(2);
const child = spawn(chromium, [...args, "--remote-debugging-pipe"], {
  stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"],
});
let tail = "";
child.stderr.on("data", (d) => { tail = (tail + d).slice(-8192); });
child.on("error", (e) => { console.error(`cannot run ${chromium}: ${e.message}`); process.exit(2); });
let closing = false;
child.on("exit", (code, signal) => {
  if (!closing) console.error(`chromium exited (${code ?? signal}):\n${tail}`);
  process.exit(closing ? 0 : 3);
});

const toChromium = child.stdio[3];
const fromChromium = child.stdio[4];
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  if (line.trim()) toChromium.write(line + "\0");
}).on("close", () => { closing = true; child.kill(); });

let pending = "";
fromChromium.setEncoding("utf8");
child.stderr.setEncoding("utf8");
fromChromium.on("data", (d) => {
  pending += d;
  let at;
  while ((at = pending.indexOf("\0")) >= 0) {
    process.stdout.write(pending.slice(0, at) + "\n");
    pending = pending.slice(at + 1);
  }
});
