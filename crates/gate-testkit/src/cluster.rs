//! A RabbitMQ cluster of private nodes on this machine (each on its own
//! ports), for the proof that the gateway survives a node going away.

use crate::broker::{BrokerOptions, PrivateBroker};

#[derive(Debug)]
pub struct PrivateCluster {
    pub nodes: Vec<PrivateBroker>,
}

impl PrivateCluster {
    /// Start `size` nodes (at the same time) and join every node to the
    /// first one.
    pub fn start(size: usize) -> Self {
        assert!(size >= 1, "a cluster has at least one node");
        let starting: Vec<_> = (0..size)
            .map(|_| std::thread::spawn(|| PrivateBroker::start_with(&BrokerOptions::default())))
            .collect();
        let nodes: Vec<PrivateBroker> = starting
            .into_iter()
            .map(|node| node.join().expect("a node of the cluster"))
            .collect();
        let seed = nodes[0].node().to_owned();
        for node in &nodes[1..] {
            node.ctl(&["stop_app"]);
            node.ctl(&["join_cluster", &seed]);
            node.ctl(&["start_app"]);
            node.ctl(&["await_startup"]);
        }
        Self { nodes }
    }

    /// Every node's `amqp://` URL, in order.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(PrivateBroker::url).collect()
    }
}
