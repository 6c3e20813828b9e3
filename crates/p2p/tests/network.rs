//! Real libp2p swarms on loopback TCP: allow-list, genesis binding, gossip,
//! request-response and size limits.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use credex_crypto::Hash32;
use credex_p2p::{Config, Event, Handle, Multiaddr, PeerId, Topic, Verdict, keypair_from_seed, spawn, with_peer};
use tokio::sync::mpsc::Receiver;
use tokio::time::timeout;

const MAX: usize = 64 * 1024;

struct Peer {
    id: PeerId,
    handle: Handle,
    events: Receiver<Event>,
    addr: Multiaddr,
}

fn id_of(seed: u8) -> PeerId {
    keypair_from_seed([seed; 32]).public().to_peer_id()
}

async fn start(seed: u8, genesis: Hash32, allowed: &[u8], bootstrap: Vec<Multiaddr>) -> Peer {
    let (handle, mut events) = spawn(Config {
        keypair: keypair_from_seed([seed; 32]),
        listen: vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()],
        bootstrap,
        allowed: allowed.iter().map(|s| id_of(*s)).collect(),
        genesis,
        max_message: MAX,
    })
    .unwrap();
    let addr = loop {
        match timeout(Duration::from_secs(10), events.recv()).await.unwrap().unwrap() {
            Event::Listening(a) => break a,
            _ => continue,
        }
    };
    let id = handle.local_peer_id();
    let addr = with_peer(addr, id);
    Peer { id, handle, events, addr }
}

/// Waits for an event matching `f`, up to 20 s.
async fn wait_for<T>(events: &mut Receiver<Event>, mut f: impl FnMut(Event) -> Option<T>) -> T {
    timeout(Duration::from_secs(20), async {
        loop {
            if let Some(t) = f(events.recv().await.expect("network stopped")) {
                return t;
            }
        }
    })
    .await
    .expect("timed out waiting for an event")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_peers_gossip_and_request() {
    let g = Hash32([1; 32]);
    let mut a = start(1, g, &[1, 2], vec![]).await;
    let mut b = start(2, g, &[1, 2], vec![a.addr.clone()]).await;
    let bid = b.id;
    wait_for(&mut a.events, |e| matches!(e, Event::Connected(p) if p == bid).then_some(())).await;
    wait_for(&mut b.events, |e| matches!(e, Event::Connected(_)).then_some(())).await;

    // gossip (retry until the subscription has propagated)
    let got = timeout(Duration::from_secs(20), async {
        loop {
            let _ = b.handle.publish(Topic::Attestations, b"tx-1".to_vec()).await;
            if let Ok(Some(Event::Gossip { topic, source, data, .. })) =
                timeout(Duration::from_millis(500), a.events.recv()).await
            {
                return (topic, source, data);
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(got, (Topic::Attestations, bid, b"tx-1".to_vec()));

    // request-response
    let h = a.handle.clone();
    let responder = tokio::spawn(async move {
        wait_for(&mut a.events, |e| match e {
            Event::Request { peer, data, reply } => Some((peer, data, reply)),
            _ => None,
        })
        .await
    });
    let (bh, aid) = (b.handle.clone(), a.id);
    let req = tokio::spawn(async move { bh.request(aid, b"height?".to_vec()).await });
    let (peer, data, reply) = tokio::select! {
        r = responder => r.unwrap(),
        _ = tokio::time::sleep(Duration::from_secs(20)) => panic!("no request"),
    };
    assert_eq!((peer, data.as_slice()), (bid, &b"height?"[..]));
    h.respond(reply, b"42".to_vec()).await.unwrap();
    assert_eq!(req.await.unwrap().unwrap(), b"42".to_vec());
    assert_eq!(b.handle.peers().await.unwrap(), vec![aid]);

    // oversized publish and request are refused locally
    assert!(b.handle.publish(Topic::Consensus, vec![0; MAX + 1]).await.is_err());
    assert!(b.handle.request(aid, vec![0; MAX + 1]).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_forwards_only_what_it_accepts() {
    // a — b — c: a and c are connected only through b.
    let g = Hash32([5; 32]);
    let b = start(22, g, &[21, 22, 23], vec![]).await;
    let mut a = start(21, g, &[21, 22], vec![b.addr.clone()]).await;
    let mut c = start(23, g, &[22, 23], vec![b.addr.clone()]).await;
    let bid = b.id;
    wait_for(&mut a.events, |e| matches!(e, Event::Connected(p) if p == bid).then_some(())).await;
    wait_for(&mut c.events, |e| matches!(e, Event::Connected(p) if p == bid).then_some(())).await;
    // b's application: accept "good…", reject everything else.
    let (bh, mut bev) = (b.handle.clone(), b.events);
    tokio::spawn(async move {
        while let Some(e) = bev.recv().await {
            if let Event::Gossip { data, id, .. } = e {
                let verdict = if data.starts_with(b"good") { Verdict::Accept } else { Verdict::Reject };
                bh.report(id, verdict).await;
            }
        }
    });
    // An accepted message reaches c through b (retry until the mesh formed).
    let got = timeout(Duration::from_secs(30), async {
        loop {
            let _ = a.handle.publish(Topic::Consensus, b"good".to_vec()).await;
            if let Ok(Some(Event::Gossip { data, .. })) = timeout(Duration::from_millis(500), c.events.recv()).await {
                return data;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(got, b"good".to_vec());
    while let Ok(Some(_)) = timeout(Duration::from_millis(1500), c.events.recv()).await {}
    // A rejected one does not.
    a.handle.publish(Topic::Consensus, b"forged".to_vec()).await.unwrap();
    let leaked = timeout(Duration::from_secs(3), async {
        loop {
            if let Some(Event::Gossip { data, .. }) = c.events.recv().await {
                return data;
            }
        }
    })
    .await;
    assert!(leaked.is_err(), "the relay forwarded a message it rejected: {leaked:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peer_not_in_allow_list_is_refused() {
    let g = Hash32([2; 32]);
    let mut a = start(11, g, &[11, 12], vec![]).await;
    // 13 is not allowed by a; it dials a anyway
    let mut c = start(13, g, &[11, 13], vec![a.addr.clone()]).await;
    let reason = wait_for(&mut a.events, |e| match e {
        Event::Refused { reason, .. } => Some(reason),
        Event::Connected(p) => panic!("{p} connected"),
        _ => None,
    })
    .await;
    assert!(reason.contains("incoming"), "{reason}");
    assert!(a.handle.peers().await.unwrap().is_empty());
    assert!(
        timeout(Duration::from_secs(2), async {
            loop {
                if let Some(Event::Connected(_)) = c.events.recv().await {
                    break;
                }
            }
        })
        .await
        .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peer_with_another_genesis_is_refused() {
    // both allow each other, but run different genesis files
    let mut a = start(21, Hash32([3; 32]), &[21, 22], vec![]).await;
    let _d = start(22, Hash32([4; 32]), &[21, 22], vec![a.addr.clone()]).await;
    let (peer, reason) = wait_for(&mut a.events, |e| match e {
        Event::Refused { peer, reason } => Some((peer, reason)),
        Event::Connected(p) => panic!("{p} connected"),
        _ => None,
    })
    .await;
    assert_eq!(peer, Some(id_of(22)));
    assert!(reason.contains("another genesis"), "{reason}");
}
