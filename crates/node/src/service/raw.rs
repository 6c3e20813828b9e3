//! The raw-record writer: group commit of submitted attestations' fields,
//! durable before the submission is answered.

use super::*;

pub(super) type RawJob = (Attestation, std::sync::mpsc::SyncSender<Result<(), String>>);

/// Group commit of raw records: submissions arriving together share one
/// fsync'd write. Each caller returns only once its record is durable.
pub(super) struct RawWriter {
    pub(super) tx: Mutex<Option<std::sync::mpsc::Sender<RawJob>>>,
    pub(super) thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Drop for RawWriter {
    /// Closes the queue and waits for the writer, so the store it shares is
    /// closed before the process exits (RocksDB aborts if torn down by
    /// static destructors while a thread still holds it).
    fn drop(&mut self) {
        self.tx.lock().unwrap_or_else(lock_err).take();
        if let Some(t) = self.thread.lock().unwrap_or_else(lock_err).take() {
            let _ = t.join();
        }
    }
}

impl RawWriter {
    pub(super) fn spawn(store: Arc<Store>) -> std::io::Result<RawWriter> {
        let (tx, rx) = std::sync::mpsc::channel::<RawJob>();
        let thread = std::thread::Builder::new().name("credex-raw-writer".into()).spawn(move || {
            while let Ok(first) = rx.recv() {
                let mut batch = vec![first];
                while batch.len() < 4096 {
                    match rx.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                let atts: Vec<&Attestation> = batch.iter().map(|(a, _)| a).collect();
                let result = store.put_raws(&atts).map_err(|e| e.to_string());
                credex_storage::crash::point("raw-after-write");
                for (_, reply) in batch {
                    let _ = reply.send(result.clone());
                }
            }
        })?;
        Ok(RawWriter { tx: Mutex::new(Some(tx)), thread: Mutex::new(Some(thread)) })
    }

    /// Writes the raw records of `atts` durably (one group commit for
    /// those that arrive together); returns once all of them are on disk.
    pub(super) fn put_many(&self, atts: Vec<Attestation>) -> Result<(), String> {
        let stopped = || "raw-record writer stopped".to_string();
        let mut waits = Vec::with_capacity(atts.len());
        {
            let tx = self.tx.lock().unwrap_or_else(lock_err);
            let tx = tx.as_ref().ok_or_else(stopped)?;
            for att in atts {
                let (reply, done) = std::sync::mpsc::sync_channel(1);
                tx.send((att, reply)).map_err(|_| stopped())?;
                waits.push(done);
            }
        }
        for done in waits {
            done.recv().map_err(|_| stopped())??;
        }
        Ok(())
    }
}
