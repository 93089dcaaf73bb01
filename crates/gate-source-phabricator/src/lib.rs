//! Phabricator/Phorge source (Herald webhooks and feed.http-hooks).
