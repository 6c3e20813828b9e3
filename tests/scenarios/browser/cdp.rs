//! A real headless Chromium driven over the DevTools protocol, for the
//! browser scenarios: pages are opened, clicked, typed into and given files
//! as a person would, and every step waits for the page to say it is done
//! (no fixed sleeps, no "dump the DOM after N ms").
//!
//! Chromium runs with `--remote-debugging-pipe`; `cdp-pipe.js` (Node.js)
//! relays the protocol as JSON lines, so neither side needs a WebSocket
//! library. The web UI marks `<body data-idle="yes">` when every piece of
//! work it started (a route, a verification, a sign-in) has finished
//! (`work()` in `app.js`); [`Browser::open`] and [`Browser::click`] wait
//! for it. Every wait is bounded ([`WAIT`]) and fails with the page's DOM.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

/// The longest any one step may take.
pub const WAIT: Duration = Duration::from_secs(60);

fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

/// Where screenshots are kept: `<target>/browser-screenshots/`.
pub fn artifacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../browser-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One Chromium with one page (tab), and its profile.
pub struct Browser {
    child: Child,
    stdin: Option<ChildStdin>,
    rx: mpsc::Receiver<Value>,
    next: u64,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts Chromium (1280×1100, a fresh profile) and attaches to its page.
    pub fn launch() -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let relay = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/scenarios/browser/cdp-pipe.js");
        let mut child = Command::new("node")
            .arg(&relay)
            .arg(chromium())
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--window-size=1280,1100"])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run node (Node.js) with {}: {e}", relay.display()));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                match serde_json::from_str::<Value>(&line) {
                    Ok(v) => {
                        if tx.send(v).is_err() {
                            break;
                        }
                    }
                    Err(e) => panic!("chromium sent a line that is not JSON ({e}): {line}"),
                }
            }
        });
        let stdin = child.stdin.take();
        let mut b = Browser { child, stdin, rx, next: 0, session: String::new(), _profile: profile };
        let targets = b.raw(None, "Target.getTargets", json!({}));
        let page = targets["targetInfos"]
            .as_array()
            .and_then(|t| t.iter().find(|t| t["type"] == "page"))
            .map(|t| t["targetId"].clone());
        let target = match page {
            Some(id) => id,
            None => b.raw(None, "Target.createTarget", json!({"url": "about:blank"}))["targetId"].clone(),
        };
        let attached = b.raw(None, "Target.attachToTarget", json!({"targetId": target, "flatten": true}));
        b.session = attached["sessionId"].as_str().unwrap().to_string();
        b.call("Page.enable", json!({}));
        b
    }

    /// One protocol call (to the browser if `session` is `None`); the
    /// result, or the protocol's error.
    fn try_raw(&mut self, session: Option<&str>, method: &str, params: Value) -> Result<Value, Value> {
        self.next += 1;
        let id = self.next;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{msg}").and_then(|()| stdin.flush()).unwrap_or_else(|e| panic!("chromium is gone: {e}"));
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(v) if v["id"] == json!(id) => {
                    return if v.get("error").is_some() { Err(v["error"].clone()) } else { Ok(v["result"].clone()) };
                }
                Ok(_) => {} // an event, or the answer to an abandoned call
                Err(mpsc::RecvTimeoutError::Timeout) => panic!("chromium did not answer {method} within {WAIT:?}"),
                Err(mpsc::RecvTimeoutError::Disconnected) => panic!("chromium exited during {method}"),
            }
        }
    }

    fn raw(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.try_raw(session, method, params).unwrap_or_else(|e| panic!("{method}: {e}"))
    }

    fn call(&mut self, method: &str, params: Value) -> Value {
        let s = self.session.clone();
        self.raw(Some(&s), method, params)
    }

    /// Evaluates `js` in the page (awaiting a promise); its value, or the
    /// exception it threw.
    fn try_eval(&mut self, js: &str) -> Result<Value, String> {
        let s = self.session.clone();
        let r = self
            .try_raw(
                Some(&s),
                "Runtime.evaluate",
                json!({"expression": js, "returnByValue": true, "awaitPromise": true}),
            )
            .map_err(|e| e.to_string())?;
        match r.get("exceptionDetails") {
            Some(x) => Err(x.to_string()),
            None => Ok(r["result"]["value"].clone()),
        }
    }

    /// Evaluates `js` in the page; panics on an exception.
    pub fn eval(&mut self, js: &str) -> Value {
        self.try_eval(js).unwrap_or_else(|e| panic!("{js}: {e}"))
    }

    /// Waits until `js` is true in the page; panics after [`WAIT`] with
    /// the page's DOM. Evaluation errors while a page loads count as "not
    /// yet" (the last one is reported).
    pub fn wait_for(&mut self, js: &str) {
        let deadline = Instant::now() + WAIT;
        let mut last = String::new();
        while Instant::now() < deadline {
            match self.try_eval(js) {
                Ok(Value::Bool(true)) => return,
                Ok(v) => last = v.to_string(),
                Err(e) => last = e,
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("waited {WAIT:?} for `{js}` (last: {last}); the page:\n{}", self.dump());
    }

    /// Waits until the page's work is done (`data-idle="yes"`).
    pub fn wait_idle(&mut self) {
        self.wait_for("document.body !== null && document.body.dataset.idle === 'yes'");
    }

    /// Navigates to `url` and waits until the page has rendered it: the web
    /// UI until its work is done, any other page (the report) until it has
    /// loaded.
    pub fn open(&mut self, url: &str) {
        // Mark the page being left: a new document has no mark; a
        // same-document navigation (only the #fragment changes) keeps the
        // document, whose "idle" the mark turns to "stale" until the new
        // route has run.
        let _ = self.try_eval("window.__credexLeft = true; document.body && (document.body.dataset.idle = 'stale')");
        let r = self.call("Page.navigate", json!({"url": url}));
        if let Some(e) = r.get("errorText") {
            panic!("navigating to {url}: {e}");
        }
        self.wait_for(
            "document.readyState === 'complete' && document.body !== null && \
             (typeof work === 'function' ? document.body.dataset.idle === 'yes' : !window.__credexLeft)",
        );
    }

    /// The document as it is now; panics if the page cannot give it (an
    /// empty string would let a "does not contain" assertion pass).
    pub fn html(&mut self) -> String {
        match self.eval("document.documentElement.outerHTML") {
            Value::String(s) => s,
            other => panic!("the page has no document: {other}"),
        }
    }

    /// [`Browser::html`] for a failure message: what the page gives, or why not.
    fn dump(&mut self) -> String {
        match self.try_eval("document.documentElement.outerHTML") {
            Ok(Value::String(s)) => s,
            other => format!("(no document: {other:?})"),
        }
    }

    /// The text a person sees in the element `selector` (its `innerText`).
    pub fn text(&mut self, selector: &str) -> String {
        let js = format!(
            "(() => {{ const e = document.querySelector({}); return e ? e.innerText : null; }})()",
            json!(selector)
        );
        match self.eval(&js) {
            Value::String(s) => s,
            _ => panic!("no element {selector} on the page:\n{}", self.dump()),
        }
    }

    /// Saves a screenshot of the page as `<artifacts>/<name>.png`.
    pub fn screenshot(&mut self, name: &str) {
        let r = self.call("Page.captureScreenshot", json!({"format": "png"}));
        let png = base64::engine::general_purpose::STANDARD.decode(r["data"].as_str().unwrap()).unwrap();
        assert!(png.len() > 1000, "screenshot {name} is empty");
        std::fs::write(artifacts().join(format!("{name}.png")), png).unwrap();
    }

    /// The page printed to PDF on A4 paper (its own `@page` size wins, as
    /// in a browser's print dialog); the number of pages.
    pub fn pdf_pages(&mut self, name: &str) -> usize {
        let r = self.call(
            "Page.printToPDF",
            json!({"paperWidth": 8.27, "paperHeight": 11.69, "preferCSSPageSize": true, "printBackground": true}),
        );
        let pdf = base64::engine::general_purpose::STANDARD.decode(r["data"].as_str().unwrap()).unwrap();
        std::fs::write(artifacts().join(format!("{name}.pdf")), &pdf).unwrap();
        // page objects: "/Type /Page" not followed by "s" (that is the page tree)
        let text = String::from_utf8_lossy(&pdf);
        text.match_indices("/Type /Page").filter(|(i, m)| !text[i + m.len()..].starts_with('s')).count()
    }

    /// The centre of the element `selector`, scrolled into view.
    fn centre(&mut self, selector: &str) -> (f64, f64) {
        let js = format!(
            "(() => {{ const e = document.querySelector({}); if (!e) return null; e.scrollIntoView({{block: 'center'}}); \
             const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2, r.width * r.height]; }})()",
            json!(selector)
        );
        match self.eval(&js) {
            Value::Array(a) if a[2].as_f64().is_some_and(|area| area > 0.0) => {
                (a[0].as_f64().unwrap(), a[1].as_f64().unwrap())
            }
            _ => panic!("no visible element {selector} to click:\n{}", self.dump()),
        }
    }

    /// Clicks the element `selector` with the mouse, as a person would,
    /// and waits until the work the click started is done.
    pub fn click(&mut self, selector: &str) {
        let (x, y) = self.centre(selector);
        self.eval("document.body.dataset.idle = 'stale'");
        for kind in ["mouseMoved", "mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
            );
        }
        self.wait_idle();
    }

    /// Puts the caret in `selector` and types `text` (line breaks included).
    pub fn type_into(&mut self, selector: &str, text: &str) {
        let (x, y) = self.centre(selector);
        for kind in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
            );
        }
        self.call("Input.insertText", json!({"text": text}));
    }

    /// Chooses `file` in the file input `selector` (as the file dialog
    /// would) and waits until the work the choice started is done.
    pub fn choose_file(&mut self, selector: &str, file: &Path) {
        let root = self.call("DOM.getDocument", json!({"depth": 0}))["root"]["nodeId"].clone();
        let node = self.call("DOM.querySelector", json!({"nodeId": root, "selector": selector}))["nodeId"].clone();
        assert!(node.as_u64().is_some_and(|n| n > 0), "no file input {selector}:\n{}", self.dump());
        self.eval("document.body.dataset.idle = 'stale'");
        self.call("DOM.setFileInputFiles", json!({"nodeId": node, "files": [file.display().to_string()]}));
        self.wait_idle();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // closing the relay's stdin stops Chromium; then the relay exits
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
