//! The shared Redis on 127.0.0.1:6379, as tests use it: every key of a test
//! under a prefix of its own (other sessions use the same server), deleted
//! when the guard drops, whatever the test's outcome.

pub const SHARED_REDIS: &str = "redis://127.0.0.1:6379";

const MISSING: &str = "Redis must run on 127.0.0.1:6379 (scripts/ensure-services.sh starts it)";

/// A unique key prefix in the shared Redis; its keys go with it.
pub struct RedisPrefix {
    pub prefix: String,
}

impl RedisPrefix {
    /// Fails (never skips) when the shared Redis is not there.
    pub async fn new(name: &str) -> Self {
        let prefix = format!("{}:", super::unique(name));
        let mut connection = connect().await;
        let _: String = redis::cmd("PING")
            .query_async(&mut connection)
            .await
            .expect(MISSING);
        Self { prefix }
    }

    /// The values of `keys` (each given without the prefix), in order.
    pub async fn values(&self, keys: &[String]) -> Vec<Option<String>> {
        let mut connection = connect().await;
        let mut values = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(500) {
            let mut command = redis::cmd("MGET");
            for key in chunk {
                command.arg(format!("{}{key}", self.prefix));
            }
            let part: Vec<Option<String>> =
                command.query_async(&mut connection).await.expect("MGET");
            values.extend(part);
        }
        values
    }

    /// Every key under the prefix (without it).
    pub fn keys(&self) -> Vec<String> {
        let mut connection = redis::Client::open(SHARED_REDIS)
            .and_then(|client| client.get_connection())
            .expect(MISSING);
        self.scan(&mut connection).expect("SCAN")
    }

    fn scan(&self, connection: &mut redis::Connection) -> redis::RedisResult<Vec<String>> {
        let mut cursor: u64 = 0;
        let mut keys = Vec::new();
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{}*", self.prefix))
                .arg("COUNT")
                .arg(1000)
                .query(connection)?;
            keys.extend(
                batch
                    .into_iter()
                    .filter_map(|k| k.strip_prefix(&self.prefix).map(str::to_owned)),
            );
            if next == 0 {
                return Ok(keys);
            }
            cursor = next;
        }
    }
}

impl Drop for RedisPrefix {
    /// Never panics (it may run while a failed test unwinds).
    fn drop(&mut self) {
        let Ok(mut connection) =
            redis::Client::open(SHARED_REDIS).and_then(|client| client.get_connection())
        else {
            return;
        };
        let Ok(keys) = self.scan(&mut connection) else {
            return;
        };
        for chunk in keys.chunks(500) {
            let mut command = redis::cmd("DEL");
            for key in chunk {
                command.arg(format!("{}{key}", self.prefix));
            }
            let _: Result<i64, _> = command.query(&mut connection);
        }
    }
}

async fn connect() -> redis::aio::MultiplexedConnection {
    redis::Client::open(SHARED_REDIS)
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect(MISSING)
}
