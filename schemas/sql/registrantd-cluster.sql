-- registrantd's own cluster tables, next to OpenSIPS's `registrant` table (whose schema is never changed).
-- registrantd creates them itself when missing (CREATE TABLE IF NOT EXISTS); docs/clustering.md.

-- Nodes that ever joined; a node is live while its membership lock (lock_name) is held.
CREATE TABLE IF NOT EXISTS registrantd_node (
    node_id VARCHAR(128) NOT NULL PRIMARY KEY,
    lock_name VARCHAR(64) NOT NULL,
    seen_at DATETIME(3) NOT NULL
) ENGINE=InnoDB;

-- Sharing tags an operator handed to a node (MI clusterer_shtag_set_active); ignored while that node is down.
CREATE TABLE IF NOT EXISTS registrantd_shtag_pin (
    shtag VARCHAR(160) NOT NULL PRIMARY KEY,
    node_id VARCHAR(128) NOT NULL,
    pinned_at DATETIME(3) NOT NULL
) ENGINE=InnoDB;

-- What a node taking a sharing tag over needs to continue each binding (written behind, batched).
-- record_key = SHA1(aor LF binding_URI LF registrar); times are Unix seconds; registered_until 0 = no valid binding.
CREATE TABLE IF NOT EXISTS registrantd_runtime (
    record_key CHAR(40) NOT NULL PRIMARY KEY,
    shtag VARCHAR(160) NOT NULL,
    aor VARCHAR(255) NOT NULL,
    binding_URI VARCHAR(255) NOT NULL,
    registrar VARCHAR(255) NOT NULL,
    call_id VARCHAR(128) NOT NULL,
    from_tag VARCHAR(64) NOT NULL,
    cseq INT UNSIGNED NOT NULL,
    expires INT UNSIGNED NOT NULL,
    last_sent BIGINT NOT NULL,
    registered_until BIGINT NOT NULL,
    refresh_at BIGINT NOT NULL,
    destination VARCHAR(255) NULL,
    node_id VARCHAR(128) NOT NULL,
    updated_at DATETIME(3) NOT NULL,
    KEY registrantd_runtime_shtag (shtag)
) ENGINE=InnoDB;
